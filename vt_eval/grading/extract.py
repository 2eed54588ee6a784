"""Find the final answer in a response: after the reasoning block, inside the last \\boxed{}.

Plain string scanning (no regex backtracking), linear in the response length, safe on 1 MB
responses, NUL bytes and unbalanced braces.

An answer given as several boxes at the end (`\\boxed{(2, 2)} \\quad\\text{and}\\quad
\\boxed{(6, 2)}`, `\\boxed{1}, \\boxed{2}`, `x_1 = \\boxed{a}` and `x_2 = \\boxed{b}`) is read
together: boxes are joined while the text between two of them is only separators (commas,
spacing, math delimiters), a connective (`and`, `or`) after at most three words (`papers and`,
`for part (a) and`), and a variable label (`y_2 =`). Anything else (`no wait:`) ends the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
BOX_COMMANDS = ("\\boxed", "\\fbox")


MAX_PARTS = 10  # boxes read together at most
MAX_GAP = 80  # characters between two boxes of one answer

_GAP_NOISE = re.compile(r"\\(?:text|textnormal|textrm|mbox|mathrm)\s*+\{([^{}]*+)\}|\\q?quad|\\[,;:! ]"
                        r"|\\[()\[\]]|\$")
_JOINING = re.compile(
    r"(?:(?:(?:\(?[a-z]\)|[A-Za-z]++)(?:\s++(?:\([a-z]\)|[A-Za-z]++)){0,2}\s*+)?"  # a few words
    r"(?:,\s*+(?:and|or)|and|or|[,;]))?"  # ...then a connective
    r"\s*+(?:[A-Za-z](?:_\{?\w{1,4}\}?)?\s*+=)?",  # a label for the next box: y_2 =
    re.IGNORECASE)


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    reason: str  # why there is no answer, or where it came from
    parts: tuple[str, ...] = ()  # the boxes read together, in order, when there are several


def final_part(response: str) -> tuple[str | None, str]:
    """The text after the reasoning block; None when the reasoning never closed."""
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return response[close + len(THINK_CLOSE):], "after </think>"
    if THINK_OPEN in response:
        return None, "the reasoning block (<think>) never closed"
    return response, "no reasoning block"


def _group_end(text: str, open_brace: int) -> int | None:
    """Index of the brace closing the {...} group starting at `open_brace`, or None."""
    depth = 0
    for pos in range(open_brace, len(text)):
        char = text[pos]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos
    return None


def _balanced_group(text: str, open_brace: int) -> str | None:
    """Content of the {...} group starting at `open_brace`, or None if it never closes."""
    end = _group_end(text, open_brace)
    return None if end is None else text[open_brace + 1:end]


def _last_box_start(text: str, before: int | None = None) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for command in BOX_COMMANDS:
        pos = text.rfind(command, 0, len(text) if before is None else before)
        if pos >= 0 and (best is None or pos > best[0]):
            best = (pos, command)
    return best


def _brace_after(text: str, pos: int, command: str) -> int:
    brace = pos + len(command)
    while brace < len(text) and text[brace] == " ":
        brace += 1
    return brace


def joins_boxes(gap: str) -> bool:
    """Whether the text between two boxes keeps them in one answer (see the module docstring)."""
    if len(gap) > MAX_GAP:
        return False
    text = " ".join(_GAP_NOISE.sub(lambda m: f" {m.group(1) or ''} ", gap).split())
    return _JOINING.fullmatch(text) is not None


def _earlier_parts(text: str, first: int) -> list[str]:
    """Contents of the boxes before position `first` that belong to the same answer, in order."""
    parts: list[str] = []
    while len(parts) < MAX_PARTS - 1:
        found = _last_box_start(text, first)
        if found is None:
            break
        pos, command = found
        brace = _brace_after(text, pos, command)
        end = _group_end(text, brace) if brace < len(text) and text[brace] == "{" else None
        if end is None or end >= first or not joins_boxes(text[end + 1:first]):
            break
        content = text[brace + 1:end].strip()
        if not content:
            break
        parts.append(content)
        first = pos
    return parts[::-1]


def last_boxed(text: str) -> Extraction:
    """The content of the last \\boxed{...}; an unclosed last box is no answer (truncated)."""
    found = _last_box_start(text)
    if found is None:
        return Extraction(None, "no \\boxed{} in the final answer")
    pos, command = found
    brace = _brace_after(text, pos, command)
    if brace >= len(text) or text[brace] != "{":
        return Extraction(None, f"{command} without a braced argument")
    content = _balanced_group(text, brace)
    if content is None:
        return Extraction(None, f"the last {command}{{ is never closed")
    if not content.strip():
        return Extraction(None, f"the last {command}{{}} is empty")
    earlier = _earlier_parts(text, pos)
    if earlier:
        parts = (*earlier, content.strip())
        return Extraction(", ".join(parts), f"{len(parts)} boxes read together", parts)
    return Extraction(content.strip(), f"last {command}{{}}")


def extract_boxed_answer(response: str) -> Extraction:
    final, where = final_part(response)
    if final is None:
        return Extraction(None, where)
    found = last_boxed(final)
    if found.answer is None:
        return found
    return Extraction(found.answer, f"{found.reason} ({where})", found.parts)
