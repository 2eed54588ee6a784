"""Text-level rules for math answers and golds, applied before anything is parsed.

Plain string work in the main process (bounded regexes, no evaluation):
- `a \\pm b` is the two values a+b and a-b; inside a list or set only its own element is
  expanded (`\\{1\\pm\\sqrt5, -2\\}` is {1+√5, 1-√5, -2});
- connective words between values are separators: `6 and 8`, `$1$ and $2$ and $3$`,
  `(11,7) or (7,11)`, `19, 46, and 82`;
- a unit after a value is dropped (`$125$ miles`, `0.06 \\text{ yuan}`, `15\\mbox{ cm}^2`) when the
  rest is math; an answer whose unit differs from the gold's is left to the judge;
- `16,\\!386.20` and `14{,}916` are one number when the gold is a single value (a list gold
  keeps commas as separators);
- what is left with words in it is prose: the judge decides (`judge_reason` in math.py).
"""

from __future__ import annotations

import re

_PLUS_MINUS = re.compile(r"\\pm(?![A-Za-z])")
_SPACING = re.compile(r"\\[,;!]|\\q?quad(?![A-Za-z])|\\ ")
_TEXT_WRAPPER = r"\\(?:text|textnormal|textrm|mbox|mathrm|textit)\s*+\{"
_CONNECTIVE = re.compile(
    r"\s*+,?\s*+(?:" + _TEXT_WRAPPER + r"\s*+(?:and|or)\s*+\}|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z]))\s*+",
    re.IGNORECASE)
_UNIT = re.compile(
    r"^(?P<value>.*?[\d}.)])\s*+(?:" + _TEXT_WRAPPER + r"\s*+(?P<wrapped>[A-Za-z]++(?:\s++[A-Za-z]++)?)\s*+\}"
    r"|(?P<bare>[A-Za-z]{2,}+(?:\s++[A-Za-z]{2,}+)?))(?P<power>\^\{?[23]\}?)?\s*+$", re.DOTALL)
_THOUSANDS = re.compile(r"(?:\\\$|\$)?-?\d{1,3}(?:(?:,|\{,\})(?:\\!)?\d{3})++(?:\.\d++)?")
_OPEN = "([{"
_CLOSE = ")]}"
# words after a value that make it a condition or a sentence, never a unit
NOT_UNITS = frozenset("and or if otherwise only when where for all none is are not no each every "
                      "with then else any some other others both either neither than but".split())
MAX_TEXT = 2000  # longer answers skip the text rules (they are never short final answers)


def split_top_level(text: str) -> list[str]:
    """`text` split at commas outside brackets and braces."""
    parts, depth, start = [], 0, 0
    for pos, char in enumerate(text):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:pos])
            start = pos + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _set_body(text: str) -> str | None:
    """The inside of `\\{...\\}` when the whole text is one such set."""
    if text.startswith("\\{") and text.endswith("\\}"):
        return text[2:-2]
    if text.startswith("\\left\\{") and text.endswith("\\right\\}"):
        return text[7:-8]
    return None


def expand_plus_minus(text: str) -> str:
    """Each element holding one `\\pm` becomes its two values, inside the list or set it is in."""
    if "\\pm" not in text or len(text) > MAX_TEXT:
        return text
    body = _set_body(text)
    elements = split_top_level(body if body is not None else text)
    expanded: list[str] = []
    for element in elements:
        if len(_PLUS_MINUS.findall(element)) == 1:
            expanded += [_PLUS_MINUS.sub("+", element), _PLUS_MINUS.sub("-", element)]
        else:
            expanded.append(element)
    joined = ", ".join(expanded)
    return f"\\{{{joined}\\}}" if body is not None else joined


def drop_connectives(text: str) -> str:
    """`6 and 8` -> `6, 8`; a connective at either end is left alone (it is not between values)."""
    if len(text) > MAX_TEXT:
        return text
    pieces = _CONNECTIVE.split(text)
    if len(pieces) < 2 or not all(piece.strip() for piece in pieces):
        return text
    return ", ".join(piece.strip().rstrip(",").strip() for piece in pieces)


def split_unit(element: str) -> tuple[str, str | None]:
    """(value, unit) for `125 miles`, `0.06 \\text{ yuan}`; (element, None) without a unit."""
    match = _UNIT.match(element) if len(element) <= 200 else None
    if match is None:
        return element, None
    unit = (match.group("wrapped") or match.group("bare")).casefold()
    if set(unit.split()) & NOT_UNITS:
        return element, None
    return match.group("value").strip(), unit.removesuffix("s") + (match.group("power") or "")


def without_units(text: str) -> tuple[str, set[str]]:
    """`text` with the unit of each top-level element dropped, and the units found."""
    if len(text) > MAX_TEXT:
        return text, set()
    values, units = [], set()
    for element in split_top_level(text):
        value, unit = split_unit(element)
        values.append(value)
        if unit:
            units.add(unit)
    return (", ".join(values), units) if units else (text, set())


def join_thousands(answer: str, gold: str) -> str:
    """`16,\\!386.20` -> `16386.20` when the gold has no comma (so it is not a list)."""
    compact = answer.strip()
    if "," in gold or len(compact) > 100 or not _THOUSANDS.fullmatch(compact):
        return answer
    return re.sub(r"\{,\}|,(?:\\!)?|\\\$|\$", "", compact)


def plain(text: str) -> tuple[str, set[str]]:
    """Spacing, connectives, \\pm and units handled: (the text math-verify gets, its units)."""
    text = " ".join(_SPACING.sub(" ", text).split())
    text = expand_plus_minus(drop_connectives(text))
    return without_units(text)
