"""Incremental JSON syntax check for a JSONL line too long to hold in memory.

The long-line path of the readers audits a line piece by piece; `JsonLineValidator` is fed the
same pieces and raises `JsonStreamError` as soon as the text cannot be one JSON object (bad
token, bad escape, raw control character in a string, mismatched bracket) or, at `finish()`, when
the line ended unterminated. Strings are skipped in bulk by a regex, so the Python loop runs once
per structural token, not per character.
"""

from __future__ import annotations

import re

_WS = re.compile(r"[ \t\r\n]*")
# string body: anything but quote, backslash or a raw control character, and complete escapes
_STRING_BODY = re.compile(r'(?:[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*')
_PARTIAL_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?\Z")
_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity")
_DELIMITER = re.compile(r'[ \t\r\n,:\[\]{}"]')
_MAX_CARRY = 1 << 20

VALUE, KEY_OR_END, KEY, COLON, COMMA_OR_END, VALUE_OR_END, DONE = range(7)
_WANTS_VALUE = (VALUE, VALUE_OR_END)


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
                pos = _STRING_BODY.match(text, pos).end()  # type: ignore[union-attr]
                if pos == end:
                    return pos
                char = text[pos]
                if char == '"':
                    self._in_string = False
                    self._after_string()
                    pos += 1
                elif char == "\\" and not final and _PARTIAL_ESCAPE.match(text, pos):
                    return pos
                else:
                    self._fail(pos, f"invalid character {char!r} in a string")
                continue
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos < end:
                step = self._token(text, pos, final)
                if step < 0:
                    return pos
                pos += step
        return pos

    def _token(self, text: str, pos: int, final: bool) -> int:
        """Consume one structural token at `pos`; its length, or -1 if it may continue."""
        char = text[pos]
        if self._expect == DONE:
            self._fail(pos, "extra data after the JSON value")
        if char == '"':
            if self._expect not in (*_WANTS_VALUE, KEY_OR_END, KEY):
                self._fail(pos, "unexpected string")
            if not self._stack:
                self._fail(pos, "the line is not a JSON object", "not_an_object")
            self._in_string = True
            return 1
        if char in "{[":
            self._open(pos, char)
        elif char in "}]":
            self._close(pos, char)
        elif char == ":":
            self._require(pos, COLON, char)
            self._expect = VALUE
        elif char == ",":
            self._require(pos, COMMA_OR_END, char)
            self._expect = KEY if self._stack[-1] == "{" else VALUE
        else:
            return self._literal(text, pos, final)
        return 1

    def _literal(self, text: str, pos: int, final: bool) -> int:
        if not final and _DELIMITER.search(text, pos) is None:
            return -1  # the literal may go on in the next piece
        match = _LITERAL.match(text, pos)
        if match is None or self._expect not in _WANTS_VALUE:
            self._fail(pos, f"unexpected {text[pos:pos + 10]!r}")
        if not self._stack:
            self._fail(pos, "the line is not a JSON object", "not_an_object")
        self._after_value()
        return match.end() - pos  # type: ignore[union-attr]

    def _open(self, pos: int, char: str) -> None:
        if self._expect not in _WANTS_VALUE:
            self._fail(pos, f"unexpected {char!r}")
        if not self._stack and char == "[":
            self._fail(pos, "the line is not a JSON object", "not_an_object")
        self._stack.append(char)
        self._expect = KEY_OR_END if char == "{" else VALUE_OR_END

    def _close(self, pos: int, char: str) -> None:
        opener = "{" if char == "}" else "["
        allowed = (KEY_OR_END, COMMA_OR_END) if char == "}" else (VALUE_OR_END, COMMA_OR_END)
        if not self._stack or self._stack[-1] != opener or self._expect not in allowed:
            self._fail(pos, f"unexpected {char!r}")
        self._stack.pop()
        self._after_value()

    def _require(self, pos: int, state: int, char: str) -> None:
        if self._expect != state:
            self._fail(pos, f"unexpected {char!r}")

    def _after_string(self) -> None:
        if self._expect in (KEY_OR_END, KEY):
            self._expect = COLON
        else:
            self._after_value()

    def _after_value(self) -> None:
        self._expect = COMMA_OR_END if self._stack else DONE
