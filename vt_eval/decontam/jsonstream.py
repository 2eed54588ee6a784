"""Incremental JSON syntax check for a JSONL line too long to hold in memory.

The long-line path of the readers audits a line piece by piece; `JsonLineValidator` is fed the
same pieces and raises `JsonStreamError` as soon as the text cannot be one JSON object (bad
token, bad escape, raw control character in a string, mismatched bracket) or, at `finish()`, when
the line ended unterminated. It accepts exactly what `json.loads` accepts for a line (NaN and
Infinity included). Regexes do the bulk of the work: a long string is skipped in one call, and a
run of complete members (`"key": value,`) or array elements whose values nest at most three
bracket levels deep is consumed in one call; the Python loop runs only for deeper brackets.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

_STR = r'"(?>[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"'
_LIT = r"-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+|true|false|null|NaN|-?Infinity"
_SCALAR = rf"(?>{_STR}|{_LIT})"
_NESTING = 3  # bracket levels a value may hold and still be consumed by one regex call


def _nested(inner: str) -> str:
    """A scalar, or an array / object whose values are `inner`."""
    array = rf"\[\s*+(?:{inner}\s*+(?:,\s*+{inner}\s*+)*+)?+\]"
    obj = rf"\{{\s*+(?:{_STR}\s*+:\s*+{inner}\s*+(?:,\s*+{_STR}\s*+:\s*+{inner}\s*+)*+)?+\}}"
    return rf"(?>{_SCALAR}|{array}|{obj})"


def _value_pattern(levels: int) -> str:
    pattern = _SCALAR
    for _ in range(levels):
        pattern = _nested(pattern)
    return pattern


class _Runs(NamedTuple):
    members: re.Pattern[str]  # complete `"key": value,` members
    elements: re.Pattern[str]  # complete `value,` elements
    last_member: re.Pattern[str]  # `"key": value` right before `}`
    value: re.Pattern[str]  # a complete value before `,` `]` or `}`


@cache
def _runs() -> _Runs:
    """The run patterns (compiled on first use: they are large)."""
    flat = _value_pattern(_NESTING)
    return _Runs(re.compile(rf"(?>{_STR}\s*+:\s*+{flat}\s*+,\s*+)*+"),
                 re.compile(rf"(?>{flat}\s*+,\s*+)*+"),
                 re.compile(rf"(?>{_STR}\s*+:\s*+{flat}\s*+)(?=\}})"),
                 re.compile(rf"(?>{flat})(?=\s*+[,\]}}])"))

_WS = re.compile(r"[ \t\r\n]*+")
_STRING_BODY = re.compile(r'(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+')
_PARTIAL_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?\Z")
_LITERAL = re.compile(_LIT)
_DELIMITER = re.compile(r'[ \t\r\n,:\[\]{}"]')
_MAX_CARRY = 1 << 20

VALUE, KEY_OR_END, KEY, COLON, COMMA_OR_END, VALUE_OR_END, DONE = range(7)
_WANTS_VALUE = (VALUE, VALUE_OR_END)
_WANTS_KEY = (KEY_OR_END, KEY)


class JsonStreamError(ValueError):
    """The streamed line is not one valid JSON object; `reason` is the skip reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class JsonLineValidator:
    """Feed the decoded text of one line in order, then call `finish()`."""

    def __init__(self) -> None:
        self._stack: list[str] = []
        self._expect = VALUE
        self._in_string = False
        self._carry = ""
        self._consumed = 0  # characters before the current text, for error positions

    def feed(self, chunk: str) -> None:
        text, self._carry = self._carry + chunk, ""
        pos = self._scan(text, final=False)
        self._carry = text[pos:]
        self._consumed += pos
        if len(self._carry) > _MAX_CARRY:
            self._fail(0, f"a JSON token longer than {_MAX_CARRY} characters")

    def finish(self) -> None:
        text, self._carry = self._carry, ""
        self._scan(text, final=True)
        if self._in_string:
            self._fail(len(text), "unterminated string at the end of the line")
        if self._expect != DONE:
            self._fail(len(text), f"unterminated JSON: the line ends with {len(self._stack)} open "
                                  f"bracket(s)" if self._stack else "the line holds no JSON value")

    def _fail(self, pos: int, message: str, reason: str = "invalid_json") -> None:
        raise JsonStreamError(reason, f"{message} (character {self._consumed + pos} of the line)")

    def _scan(self, text: str, final: bool) -> int:
        """Consume `text`; return where an incomplete token starts (len(text) if none)."""
        pos, end = 0, len(text)
        while pos < end:
            if self._in_string:
                pos, complete = self._string(text, pos, final)
                if not complete:
                    return pos
                continue
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos == end:
                break
            moved = self._run(text, pos)
            if moved > pos:
                pos = moved
                continue
            step = self._token(text, pos, final)
            if step < 0:
                return pos
            pos += step
        return pos

    def _string(self, text: str, pos: int, final: bool) -> tuple[int, bool]:
        """Inside a string: skip its body and close it. Returns (position, False) at an escape
        that may go on in the next piece (the caller carries it over)."""
        pos = _STRING_BODY.match(text, pos).end()  # type: ignore[union-attr]
        if pos == len(text):
            return pos, True
        char = text[pos]
        if char == '"':
            self._in_string = False
            self._expect = COLON if self._expect in _WANTS_KEY else self._next()
            return pos + 1, True
        if char == "\\" and not final and _PARTIAL_ESCAPE.match(text, pos):
            return pos, False
        self._fail(pos, f"invalid character {char!r} in a string")
        return pos, True

    def _run(self, text: str, pos: int) -> int:
        """Consume complete `member,` / `element,` runs, then a last member or a value, in a few
        regex calls; return the position after them."""
        if not self._stack:
            return pos
        runs = _runs()
        if self._expect in _WANTS_KEY:
            found = runs.members.match(text, pos).end()  # type: ignore[union-attr]
            if found > pos:
                pos, self._expect = found, KEY
            last = runs.last_member.match(text, pos)
        elif self._expect in _WANTS_VALUE:
            if self._stack[-1] == "[":
                found = runs.elements.match(text, pos).end()  # type: ignore[union-attr]
                if found > pos:
                    pos, self._expect = found, VALUE
            last = runs.value.match(text, pos)
        else:
            return pos
        if last is None:
            return pos
        self._expect = COMMA_OR_END
        return last.end()

    def _token(self, text: str, pos: int, final: bool) -> int:
        """Consume one structural token at `pos`; its length, or -1 if it may continue."""
        char = text[pos]
        expect = self._expect
        if expect == DONE:
            self._fail(pos, "extra data after the JSON value")
        if not self._stack and char != "{":
            self._fail(pos, "the line is not a JSON object", "not_an_object")
        if char == '"' and expect in (*_WANTS_VALUE, *_WANTS_KEY):
            self._in_string = True
        elif char in "{[" and expect in _WANTS_VALUE:
            self._stack.append(char)
            self._expect = KEY_OR_END if char == "{" else VALUE_OR_END
        elif char in "}]" and self._closes(char, expect):
            self._stack.pop()
            self._expect = self._next()
        elif char == ":" and expect == COLON:
            self._expect = VALUE
        elif char == "," and expect == COMMA_OR_END:
            self._expect = KEY if self._stack[-1] == "{" else VALUE
        elif char in '",:{}[]':
            self._fail(pos, f"unexpected {char!r}")
        else:
            return self._literal(text, pos, final)
        return 1

    def _closes(self, char: str, expect: int) -> bool:
        opener, empty = ("{", KEY_OR_END) if char == "}" else ("[", VALUE_OR_END)
        return bool(self._stack) and self._stack[-1] == opener and expect in (empty, COMMA_OR_END)

    def _literal(self, text: str, pos: int, final: bool) -> int:
        if not final and _DELIMITER.search(text, pos) is None:
            return -1  # the literal may go on in the next piece
        match = _LITERAL.match(text, pos)
        if match is None or self._expect not in _WANTS_VALUE:
            self._fail(pos, f"unexpected {text[pos:pos + 10]!r}")
        self._expect = self._next()
        return match.end() - pos  # type: ignore[union-attr]

    def _next(self) -> int:
        """What may follow a complete value."""
        return COMMA_OR_END if self._stack else DONE
