"""Read a multiple-choice letter from a response (GPQA).

Policies:
- the answer is the last \\boxed{} after the reasoning block, else the last "Answer: C" /
  "the answer is (C)" line;
- letter case is handled the same way everywhere: `\\boxed{b}`, `ANSWER: b` and "the answer is b"
  all read B; words naming the choice are dropped (`\\boxed{\\text{Choice } D}` reads D);
- when an option's text is itself a letter (an item whose options are `a`-`d`, naming parts of the
  question), a bare letter that matches, case for case, the text of an option shown under another
  letter could mean either, so it is `no_answer` with the reason; `C) b` (letter and text) and an
  upper-case letter when the texts are lower case stay unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vt_eval.grading.extract import final_part, last_boxed

LETTERS = "ABCDEFGHIJ"

_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox|textrm|textit|mathit)\s*+\{([^{}]*)\}")
# Possessive quantifiers (*+, ++) keep every pattern linear on hostile input: these run in the
# main process on untrusted text (a box of 20,000 spaces took 15 s with plain quantifiers).
_NAMING = re.compile(
    r"^(?:the\s++)?(?:final\s++|correct\s++)?(?:answer|choice|option)\s*+(?:is\s*+)?[:：]?\s*+"
    r"(?:(?:choice|option)\s*+)?", re.IGNORECASE)
_SINGLE = re.compile(r"^\(?([A-Za-z])\)?[.:]?$")
_LEADING = re.compile(r"^\(?([A-Za-z])(?:\)\s*+|[.:]\s++)(\S.*)$", re.DOTALL)
_SEVERAL = re.compile(
    r"^\(?[A-Za-z]\)?(?:(?:\s*+(?:,|and|or|&|/|;))?\s*+\(?[A-Za-z]\)?)++$")
_ANSWER_LINE = re.compile(
    r"(?i:answer)\s*+(?:(?i:is)\s*+)?[:：]?\s*+\**+\s*+(?:(?i:option|choice)\s*+)?\(?([A-Za-z])"
    r"(?:\)|\.|:|\*|[ \t]*+$)", re.MULTILINE)
# How strict says it found nothing (the lenient reading then looks further).
NOTHING_FOUND = ("no \\boxed{} letter", "the last box holds no choice letter")
MAX_BOX = 200  # a longer box holds no choice letter worth pattern-matching


def _box_content(answer: str) -> str:
    content = answer
    for _ in range(3):
        content = _WRAPPER.sub(r"\1", content)
    content = content.strip().strip("$").strip().rstrip(".").strip()
    for _ in range(2):
        content = _NAMING.sub("", content).strip()
    return content


def ambiguity(written: str, options: Sequence[str]) -> str | None:
    """Why the letter as `written` could be an option's text rather than a choice letter."""
    texts = [text.strip() for text in options]
    letter = written.upper()
    for index, text in enumerate(texts):
        if text == written and LETTERS[index] != letter:
            return (f"ambiguous: {written!r} is a choice letter and also the text of option "
                    f"{LETTERS[index]}")
    return None


def _leading(letter: str, rest: str, options: Sequence[str]) -> str | None:
    """A contradiction between a letter and the option text written after it, if any."""
    index = LETTERS.find(letter.upper())
    rest = rest.strip().strip("()").strip()
    texts = [text.strip() for text in options]
    if len(rest) == 1 and rest in texts and (index >= len(texts) or texts[index] != rest):
        return f"letter {letter.upper()} with the text of another option ({rest!r})"
    return None


def _from_box(content: str, options: Sequence[str], where: str) -> tuple[str | None, str]:
    if len(content) > MAX_BOX:
        return None, f"the last box holds no choice letter: {content[:60]!r}"
    if m := _SINGLE.match(content):
        why = ambiguity(m.group(1), options)
        return (None, why) if why else (m.group(1).upper(), f"last \\boxed{{}} ({where})")
    m = _LEADING.match(content)
    several = _SEVERAL.match(content)
    if m and not (several and len(m.group(2).strip("() ")) != 1):  # "A) or C)" is two letters
        why = _leading(m.group(1), m.group(2), options)
        if why:
            return None, why
        return m.group(1).upper(), f"letter leading the last \\boxed{{}} ({where})"
    if several:
        return None, f"several letters in the last box: {content[:40]!r}"
    return None, f"the last box holds no choice letter: {content[:60]!r}"


def read_letter(response: str, options: Sequence[str] = ()) -> tuple[str | None, str]:
    """(letter, how) or (None, why there is none). Letters are not checked against the options;
    `options` (option texts in the order shown) only serve to spot letter-like option texts."""
    final, where = final_part(response)
    if final is None:
        return None, where
    boxed = last_boxed(final)
    if boxed.answer is not None:
        return _from_box(_box_content(boxed.answer), options, where)
    lines = _ANSWER_LINE.findall(final)
    if not lines:
        return None, f"no \\boxed{{}} letter and no 'Answer: X' line ({where})"
    why = ambiguity(lines[-1], options)
    if why:
        return None, why
    return lines[-1].upper(), f"last 'Answer: X' line, no box ({where})"
