"""The lenient reading of a multiple-choice answer: the final stated option, as a careful reader
would take it, when the strict format (a boxed letter, an "Answer: X" line) is absent.

Policies (strict first; these only where strict finds no letter):
- a statement naming the option: "the correct option is (A)", "the best answer from the given
  options is D", "Final answer: **C**" (anywhere in the final part; the last one counts);
- in the last five non-empty lines: a line that is a letter, with or without its option text
  (`D. 12.62`, `**B. 10**`, `(C)`), a bold letter (`**Option A. 10**`), "Option C" not followed by
  a negation ("option D is incorrect" names an option it rejects), a letter followed by its own
  option's text (`C: 2,4-bis(...)`), or the full text of exactly one option;
- answers naming the option by value or verdict: the last box or the last line's final value
  equal to exactly one option's value (`\\boxed{251.271}` for `251.271 fm`, `≈ 3.97x10^-7 M`);
  "option B is the only one that correctly ...", "Option D provides the correct sequence",
  "**option A** is the closest", "is likely option B", "the incorrect statement is C", "the
  correct sequence is **Option D**"; an option's text then its own letter in a concluding line
  ("is a triplet (B)"); "In summary, the product is <one option's full text> due to ...";
- a last line that declines without naming an option ("none of the provided options are
  correct") takes back an earlier pick: no answer; "either A (8) or B (11)" is two letters;
- the latest of these counts. Two different letters in that statement (`A or C`), or different
  options named in the last line or in it and the line just before (`h_B = 2h_A (Option B)` then
  `... (Option F)`), are
  `no_answer`: a reader would not guess between them (a last line opening with a conclusion,
  "Therefore, ..." / "In summary, ..." / "Based on ...", is not contradicted by the line before);
  a letter followed by another option's text is `no_answer` too. Lower-case letters are never
  read (`a` is a word).

Everything runs in the main process on untrusted text, so it only looks at the last
TAIL_CHARS characters and every pattern is linear (possessive quantifiers, no nested repeats).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vt_eval.grading.choice_values import option_by_value

TAIL_CHARS = 4000
LAST_LINES = 5
MIN_TEXT = 3  # an option text shorter than this is never matched by itself (`4`, `A`)
_LETTER = r"\(?([A-J])\)?"
_END = r"(?=[\s.,:;!)*]|$)"
_STATEMENT = re.compile(
    r"(?:(?i:correct|final|best|right|most\s++likely)\s++)?(?i:(?:answer|option|choice|statement)s?)"
    r"(?:\s++(?!(?i:is|was|are|would|should|must)\b)[\w-]++){0,6}?\s*+"  # the closest option to the value is
    r"(?:(?i:is|would\s++be|should\s++be|must\s++be|=)\s*+[:：]?|[:：])\s*+(?:\*\*|__)?\s*+"
    r"(?i:either\s++)?(?:\*\*)?(?i:option\s++|choice\s++)?" + _LETTER + _END)
_IS_OPTION = re.compile(
    r"(?i:correct|best|right|final)\s++[^\n.]{0,60}?\b(?i:is|would\s++be)\s*+:?\s*+(?:\*\*)?\s*+"
    r"(?i:option|choice)\s++(?:\*\*)?\(?([A-J])\)?" + _END)
# "Let's consider the other options:\n\nA. ..." introduces a discussion, not an answer
_LISTING = re.compile(r"(?i:options|choices|statements)\s*+[:：]\s*+(?:\*\*|__)?\s*+\(?[A-J]\)?$")
_OPTION_WORD = re.compile(r"(?i:option|choice)\s++(?:\*\*)?" + _LETTER +
                          r"(?![A-Za-z0-9])(?P<after>.{0,40})")
# a line introducing the answer ("the correct statement is:"), not a discussion of the options
# ("Let's consider the other options:", "Here's why:")
_ENDS_LEAD_IN = re.compile(r"^(?!.*(?i:other|each|why|let's|let\s++us|incorrect|wrong)|"
                           r".*(?i:options|choices)\s*+:\s*+$)"
                           r".*(?:(?i:answer|option|choice|statement|\bis|\bbe|\bare)\s*+:?|:)\s*+$")
_LEAD_IN = re.compile(r"(?i:\bis|\bare|:|\boption|\bchoice|\bbe|closest\s++to|nearest\s++to)\s*+"
                      r"(?:\*\*)?\s*+$")
_BOLD_REST = re.compile(r"^\)?(?:\*\*|[.):][^*\n]{0,200}?\*\*)")  # the rest of **Option D. text**
_BOLD_TEXT = re.compile(r"\*\*([^*\n]{3,200}+)\*\*")
# "... is option C" / "option C is correct": the option is stated, not discussed
_BOLD_LEAD_IN = re.compile(r"(?i:\bis|\bare|:|\boption|\bchoice|\bbe|\bas|closest\s++to|nearest\s++to)"
                           r"\s*+(?:\*\*)?\s*+$")  # "changes with distance as **D. ~ r^5**"
_TEXT_LEAD_IN = re.compile(r"(?i:\bis|\bare|:)\s*+(?:\*\*)?\s*+$")
_OPTION_STATED = re.compile(
    r"(?:(?i:is|be|:|matches|corresponds\s++to|consistent\s++with|given\s++by|choose|select|pick|"
    r"closest\s++to|nearest\s++to|lean\s++towards|is\s++(?:most\s++)?likely|is\s++probably)"
    r"\s*+(?:\*\*)?\s*+\(?(?:\*\*)?\s*+$)|^\W*+$")
_IS_LETTER_TEXT = re.compile(r"(?i:\bis|\bare|\bbe)\s*+:?\s*+\(?([A-J])\)?[.):]\s++(?P<text>\S[^\n]{0,300}+)")
_TEXT_THEN_LETTER = re.compile(r"\s*+\((?:\*\*)?\s*+(?i:option\s++|choice\s++)?([A-J])\s*+(?:\*\*)?\)")
_CONCLUSION = re.compile(r"^\W*+(?i:therefore|thus|hence|in\s++summary|in\s++conclusion|overall|"
                         r"final\s++answer|the\s++final\s++answer|the\s++correct\s++answer|based\s++on)\b")
# where a final line's value starts: "... = 251.271 fm", "the ratio is approximately 12.6."
_STATES = re.compile(r"(?i:\b(?:answer|therefore|thus|hence|so|final|result|closest|approximately|"
                     r"about|roughly|in\s++summary|in\s++conclusion)\b)")
_VALUE_START = re.compile(r"(?:=|≈|\\approx|\bis|\bbe|:|\b(?i:option)|(?i:closest\s++to))\s*+"
                          r"(?:(?i:approximately|about|roughly|around|~)\s*+)?")
# a last line that declines to choose ("none of the options ...", "insufficient to determine")
_DECLINES = re.compile(r"(?i:none\s++of\s++the\s++(?:\w++\s++)?(?:options|choices|answers|statements)|"
                       r"insufficient|cannot\s++(?:be\s++)?determine|can't\s++determine|"
                       r"impossible\s++to\s++(?:determine|choose)|unable\s++to)")
_PAREN_OPTION = re.compile(r"\((?:\*\*)?\s*+(?i:option|choice)\s++([A-J])\s*+(?:\*\*)?\)\W*+$")
# "option C (8) is the most plausible answer", "Option D provides the correct sequence",
# "option B is the only one that correctly ...", "option A is the closest"
_OPTION_VERDICT = re.compile(
    r"^[\s*]*+(?:\([^()\n]{0,200}+\)[\s*]*+)?\W*+(?:(?i:is|would\s++be|seems|appears|provides|gives|"
    r"remains)\s++(?i:to\s++be\s++)?(?i:the\s++)?|(?i:the\s++))(?i:only\s++(?:[\w-]++\s++){0,2}?(?:that\s++|which\s++)?)?"
    r"(?i:correct|correctly|best|right|closest|valid|answer|most\s++(?:likely|plausible|accurate|"
    r"appropriate|reasonable|logical|suitable|consistent|probable|efficient|effective|viable)\b)")
_NEGATION = re.compile(r"^\W*+(?:is|are)?\s*+(?:not|incorrect|wrong|false|ruled|eliminated|"
                       r"unlikely|can\s*+not|cannot)", re.IGNORECASE)
_BOLD = re.compile(r"\*\*\s*+(?i:option\s++|answer:?\s*+)?" + _LETTER +
                   r"(?:[.):]\s*+[^*\n]{0,200}+)?\*\*")
_LINE_LETTER = re.compile(r"^(?i:(?:final\s++)?answer\s*+[:：]\s*+|option\s++|choice\s++)?" + _LETTER +
                          r"(?:[.):]\s*+(?P<text>.*+))?$")
_LETTER_TEXT = re.compile(r"(?<![A-Za-z])([A-J])[.):]\s++(?P<text>\S.{2,}+)$")
_SECOND = re.compile(r"^\s*+(?:,|or|and|/|&)\s*+(?:\*\*)?\s*+(?i:option\s++)?\(?[A-J]\)?" + _END)
_MARKUP = re.compile(r"\*\*|__|^#+\s*+|^>\s*+|^[-•]\s++|\\textbf\{|\\text\{|\\[\[\]()]|[{}$]")


def _norm(text: str) -> str:
    return " ".join(text.replace("**", "").split()).strip(" .:;").casefold()


_KEY_WRAP = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*+\{([^{}]*+)\}")
_KEY_NOISE = re.compile(r"(?:\\[,;! ]|[\s$~≈*]|\\approx|\\sim)++")


def _key(text: str) -> str:
    """An option text for comparison: spacing, markup, `~` and `$` dropped (`20.132 \\, GeV`
    is `20.132 GeV`, `~ 0.4` is `0.4`)."""
    return _KEY_NOISE.sub("", _KEY_WRAP.sub(r"\1", text)).strip(".:;").casefold()


def _window(tail: str, options: Sequence[str]) -> int:
    """LAST_LINES, or more to reach a final answer written as a lead-in, a letter line and its
    multi-line option (`... is:` then `**C.**` then `1. Na, ether` ... `5. NaNH2`), the latest
    such block in the last LAST_LINES + 8 lines (a heading `#### Option C:` over its option in
    a discussion of every option has no lead-in above it)."""
    option_lines = {_key(_MARKUP.sub("", line)) for option in options if "\n" in option.strip()
                    for line in option.strip().split("\n") if line.strip()}
    recent = _lines(tail, LAST_LINES + 8) if option_lines else []
    plain = [_MARKUP.sub("", line.strip()).strip() for _, line in recent]
    for n in range(1, len(recent) - 1):
        if _key(plain[n]) not in option_lines and _key(plain[n - 1]) in option_lines:
            if _LINE_LETTER.match(plain[n].rstrip(".")) and _ENDS_LEAD_IN.search(plain[n + 1][-300:]):
                return max(LAST_LINES, n + 1)
            return LAST_LINES
    return LAST_LINES


def _lines(final: str, count: int = LAST_LINES) -> list[tuple[int, str]]:
    """(offset, text) of the last `count` non-empty lines."""
    out: list[tuple[int, str]] = []
    end = len(final)
    while end > 0 and len(out) < count:
        start = final.rfind("\n", 0, end) + 1
        line = final[start:end]
        if line.strip():
            out.append((start, line))
        end = start - 1
    return out


def _text_letter(text: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose text is `text` (None for none or several)."""
    if len(text) > 2 * max((len(option) for option in options), default=0) + 100:
        return None  # far longer than any option (a paragraph): no option's text alone
    wanted = _key(text)
    if len(wanted) < MIN_TEXT:
        return None
    hits = [i for i, option in enumerate(options) if _key(option) == wanted]
    return "ABCDEFGHIJ"[hits[0]] if len(hits) == 1 else None


def option_by_text(answer: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose full text `answer` is (markup and $ dropped)."""
    return _text_letter(_MARKUP.sub("", answer.strip()), options) if len(answer) <= 2000 else None


def _contradicts(letter: str, text: str | None, options: Sequence[str]) -> bool:
    """A letter written with the text of another option."""
    if not text or not options:
        return False
    other = _text_letter(text, options)
    return other is not None and other != letter


def two_letters(letter: str, final: str) -> str | None:
    """Why the last "answer ... X" statement names a second letter (`A or C`), or None."""
    tail = final[-TAIL_CHARS:]
    found = None
    for m in re.finditer(r"(?i:answer)[^\n]{0,40}?(?<![A-Za-z])\(?" + letter + r"\)?(?:\*\*)?", tail):
        found = m
    if found is not None and _SECOND.match(tail[found.end():found.end() + 20]):
        return f"two letters in one statement: {tail[found.start():found.end() + 20]!r} (lenient)"
    return None


def contradicted(letter: str, final: str, options: Sequence[str]) -> str | None:
    """Why the last `X. text` line of `final` for this letter names another option, or None."""
    tail = final[-TAIL_CHARS:]
    for m in re.finditer(r"(?<![A-Za-z])" + letter + r"[.):]\s*+([^\n]{3,300}+)", tail):
        other = _text_letter(_MARKUP.sub("", m.group(1)).strip().rstrip("."), options)
        if other is not None and other != letter:
            return f"letter {letter} written with the text of option {other}: ambiguous (lenient)"
    return None


def _alone(before: str, after: str) -> bool:
    """Whether a bold letter is the line's statement: nothing after it but punctuation, and
    nothing before it but a bullet or a lead-in ending in `is` or a colon."""
    lead = before.strip(" \t*-•>#")
    return not after.strip(" \t.*!") and (not lead or _OPTION_STATED.search(lead) is not None)


def _line_candidates(offset: int, line: str, options: Sequence[str],
                     after_lead_in: bool = False, last: bool = False) -> list[tuple[int, str]]:
    """Letters the line states. After a lead-in line ("The correct statement is:"), a line
    `C. <text>` states C even when the text is paraphrased; elsewhere only with C's own text
    (`D) Incorrect product` discusses D)."""
    found: list[tuple[int, str]] = []
    plain = _MARKUP.sub("", line.strip()).strip().rstrip(".")
    if m := _LINE_LETTER.match(plain):
        letter, text = m.group(1), (m.group("text") or "").strip()
        if _contradicts(letter, text, options):
            found.append((offset, ""))
        elif not text or after_lead_in or _is_own(letter, text, options):
            found.append((offset, letter))
    for m in _BOLD.finditer(line):
        written = re.sub(r"^\*\*\s*+(?i:option\s++|answer:?\s*+)?\(?[A-J]\)?[.):]?", "", m.group(0))
        if _contradicts(m.group(1), written.strip("* "), options):  # `**B. <the text of D>**`
            found.append((offset + m.start(), ""))
            continue
        stated = _BOLD_LEAD_IN.search(line[:m.start()]) and not _NEGATION.match(line[m.end():])
        verdict = _OPTION_VERDICT.match(line[m.end():]) and not _NEGATION.match(line[m.end():])
        if _alone(line[:m.start()], line[m.end():]) or (
                (stated or verdict) and _own_text(m.group(0), m.group(1), options)):
            found.append((offset + m.start(), m.group(1)))
    for m in _BOLD_TEXT.finditer(line):  # "the compound is **C6H10O2**." (an option's full text)
        if _TEXT_LEAD_IN.search(line[:m.start()]) and not _NEGATION.match(line[m.end():]) and \
                (letter := _text_letter(m.group(1), options)) is not None:
            found.append((offset + m.start(), letter))
    for m in _OPTION_WORD.finditer(line):
        before = line[:m.start()].rstrip(" \t*(")
        rest = _BOLD_REST.sub("", line[m.end(1):m.end(1) + 240], count=1)
        stated = _OPTION_STATED.search(before) is not None or _OPTION_VERDICT.match(rest)
        if stated and not _NEGATION.match(rest):
            found.append((offset + m.start(), m.group(1)))
    if m := _PAREN_OPTION.search(line.rstrip()):
        found.append((offset + m.start(), m.group(1)))
    concluding = last or _CONCLUSION.match(plain) is not None
    for m in _IS_LETTER_TEXT.finditer(plain if concluding else ""):
        index = "ABCDEFGHIJ".index(m.group(1))
        own = _key(options[index]) if index < len(options) else ""
        if len(own) >= MIN_TEXT and _key(m.group("text")).startswith(own):
            found.append((offset + len(line), m.group(1)))
    for m in _TEXT_THEN_LETTER.finditer(line if concluding else ""):  # "is about **0.32 (Option B)**"
        if _text_before(line[:m.start()], m.group(1), options) and \
                not _SECOND.match(line[m.end():m.end() + 20]) and not _NEGATION.match(line[m.end():]):
            found.append((offset + m.start(), m.group(1)))
    for m in _LETTER_TEXT.finditer(plain):
        index = "ABCDEFGHIJ".index(m.group(1))
        own = _norm(options[index]) if index < len(options) else ""
        if len(own) >= MIN_TEXT and _norm(m.group("text")).rstrip(" .:*") == own \
                and _alone(plain[:m.start()], ""):
            found.append((offset + len(line), m.group(1)))
    if (letter := _text_letter(plain, options)) is not None:
        found.append((offset + len(line), letter))
    elif last and (letter := _final_value(plain, options)) is not None:
        found.append((offset + len(line), letter))
    elif (letter := _ending_option(plain, options, _CONCLUSION.match(plain) is not None)) is not None:
        found.append((offset + len(line), letter))
    return found


def _is_own(letter: str, text: str, options: Sequence[str]) -> bool:
    """Whether `text` is the text of option `letter` itself (or options are unknown)."""
    index = "ABCDEFGHIJ".index(letter)
    if not options:
        return False
    if index >= len(options):
        return False
    written, own = _key(text), _key(options[index])
    first_line = _key(options[index].strip().split("\n")[0])
    if written == own or (written == first_line and "\n" in options[index].strip()):
        return True  # a multi-line option (a list of steps) is quoted from its first line
    # a long option quoted in part, or followed by a short remark (a long one is a discussion)
    if len(written) >= 20 and own.startswith(written):
        return True
    return len(own) >= 3 and written.startswith(own) and len(written) - len(own) <= 15


def _own_text(bold: str, letter: str, options: Sequence[str]) -> bool:
    """Whether `**C. <text>**` carries the text of option C itself."""
    text = re.sub(r"^\*\*\s*+(?i:option\s++)?\(?[A-J]\)?[.):]?", "", bold).strip("* ")
    index = "ABCDEFGHIJ".index(letter)
    if index < len(options) and _key(text) and _key(text) == _key(options[index]):
        return True  # a short option written in full with its letter (`**A. Cs**` for `cs`)
    return len(_key(text)) >= MIN_TEXT and _is_own(letter, text, options)


def _final_value(plain: str, options: Sequence[str]) -> str | None:
    """The option whose value the last line ends with, after `=`, `is` or a colon, if exactly
    one ("Im f(0) ≈ 53.93 fm * 4.177 ≈ 251.271 fm", "The output for ACAGTGACC is 315."), when the
    line states something (it opens with a word, or says "so", "answer", "approximately"...); a
    trailing remark in parentheses ("(the closest match)") is not part of the value. A bare step
    (`= 2`, `\\frac{12}{6} = 2`) is not read: the response may have been cut off mid-derivation
    (the GPQA grader never reads a response cut off by the token limit at all)."""
    text = re.sub(r"\s*+\([^()]*+\)[\s.*]*+$", "", plain[-200:])
    if not (_STATES.search(plain[-300:]) or re.match(r"[A-Za-z]", plain.lstrip(" *-"))):
        return None  # a bare step (`= 2`, `\frac{12}{6} = 2`) may be a cut-off derivation
    start = None
    for start in _VALUE_START.finditer(text):
        pass
    if start is None:
        return None
    index = option_by_value(text[start.end():].strip(" *.$"), options)
    return None if index is None else "ABCDEFGHIJ"[index]


def _text_before(before: str, letter: str, options: Sequence[str]) -> bool:
    """Whether `before` ends with the text of option `letter` (`a triplet` before `(B)`)."""
    index = "ABCDEFGHIJ".index(letter)
    if index >= len(options):
        return False
    written = _norm(_MARKUP.sub("", before)).replace("~", "").rstrip(" *,")
    own = _norm(options[index]).replace("~", "").strip()
    return bool(own) and written.endswith(own) and (
        len(written) == len(own) or not written[-len(own) - 1].isalnum())


def _ending_option(plain: str, options: Sequence[str], concluding: bool) -> str | None:
    """The option whose full text ends a concluding line after `is` or a colon ("the most
    reasonable structure is 4-chlorobenzoic acid."), or, for a long text, follows `is` and
    ends a word in a concluding line ("In summary, the major product is (3aR,4S,...)-dione due
    to ..."), when exactly one option does."""
    text = _norm(plain)
    hits = []
    for index, option in enumerate(options):
        own = _norm(option)
        if len(own) < 8:
            continue
        if text.endswith(own) and _LEAD_IN.search(text[:-len(own)].rstrip()):
            hits.append(index)
            continue
        start = text.find(own)
        end = start + len(own)
        if concluding and len(own) >= 12 and start > 0 and (end == len(text) or not text[end].isalnum()) and \
                _LEAD_IN.search(text[:start].rstrip()) and text.find(own, end) < 0 and \
                not any(_norm(other) != own and _norm(other) in text for other in options):
            hits.append(index)
    return "ABCDEFGHIJ"[hits[0]] if len(hits) == 1 else None


def read_lenient(final: str, options: Sequence[str] = ()) -> tuple[str | None, str]:
    """(letter, how) or (None, why) from the final part of a response (after the reasoning)."""
    tail = final[-TAIL_CHARS:]
    candidates: list[tuple[int, str, str]] = []
    lowered = tail.lower()
    named = any(word in lowered for word in ("answer", "option", "choice", "statement"))
    for m in _STATEMENT.finditer(tail if named else ""):
        after = tail[m.end():m.end() + 30]
        if _NEGATION.match(after) or _LISTING.search(m.group(0)):
            continue
        if _SECOND.match(after) or re.search(r"(?i:\beither\s)", m.group(0)):  # "either A (8) or B (11)"
            candidates.append((m.start(), "", "two letters in one statement"))
        else:
            candidates.append((m.start(), m.group(1), "a statement naming the option"))
    for m in _IS_OPTION.finditer(tail if "option" in lowered or "choice" in lowered else ""):
        if not _NEGATION.match(tail[m.end():m.end() + 30]) and not _SECOND.match(tail[m.end():m.end() + 30]):
            candidates.append((m.start(), m.group(1), "a statement naming the option"))
    lines = _lines(tail, _window(tail, options))  # last first
    found = [_line_candidates(offset, line, options, n + 1 < len(lines) and _ENDS_LEAD_IN.search(
        _MARKUP.sub("", lines[n + 1][1].strip()[-300:])) is not None, last=n == 0)
        for n, (offset, line) in enumerate(lines)]
    latest = next((n for n, letters in enumerate(found) if letters), None)
    if lines and not found[0] and _DECLINES.search(lines[0][1]) and \
            not any(position >= lines[0][0] for position, _, _ in candidates):
        return None, f"the last line names no option: {lines[0][1].strip()[:60]!r} (lenient)"
    if latest is not None:
        letters = found[latest]
        named = {letter for _, letter in letters}
        before = {letter for _, letter in found[latest + 1]} if latest + 1 < len(found) else set()
        position = max(p for p, _ in letters)
        concluding = _CONCLUSION.match(_MARKUP.sub("", lines[latest][1].strip())) is not None
        if len(named) > 1 or "" in named or (before and before != named and not concluding):
            candidates.append((position, "", "different options named in the last lines: "
                               f"{lines[latest][1].strip()[:60]!r}"))
        else:
            candidates.append((position, letters[0][1], "the last lines"))
    if not candidates:
        return None, "no stated option found (lenient)"
    position, letter, how = max(candidates, key=lambda c: c[0])
    valid = "ABCDEFGHIJ"[:len(options)] if options else "ABCDEFGHIJ"
    if not letter:
        return None, f"{how} (lenient)"
    if letter not in valid:
        return None, f"letter {letter} is not one of the options (lenient)"
    return letter, f"{how} (lenient)"
