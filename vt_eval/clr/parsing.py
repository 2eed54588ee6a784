"""Claims and verdicts out of model replies. Every outcome has a name and is counted.

Claims (extraction reply, after any </think>):
- a claim starts at a line "CLAIM n:" (also "**Claim n**:", "Claim n." ...); when the reply has
  no such line, numbered ("1." / "1)") or bulleted lines are read instead (rule "list");
- a claim runs until the next claim line or "FINAL ANSWER:"; blank claims and repeats (case- and
  space-folded) are dropped; the first M are kept (more than M: counted as `extra_dropped`);
- status: `ok` (M claims), `fewer` (1..M-1), `none` (an empty reply), `garbage` (text, no claim);
- the final answer is the text after the last "FINAL ANSWER:" (recorded, not voted on: clusters
  come from the grader).

Verdicts (verification reply, after any </think>): the last "VERDICT: X" line decides;
X in TRUE/CORRECT/VALID/YES/1 -> 1, FALSE/INCORRECT/INVALID/NO/0 -> 0. A reply without one is
`unparsable`; a reply that hit max tokens is `truncated` (its verdict is not trusted). Both count
as an unconfirmed claim (v = 0) in the reliability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vt_eval.grading.extract import THINK_CLOSE

ClaimStatus = Literal["ok", "fewer", "none", "garbage"]
VerdictStatus = Literal["true", "false", "unparsable", "truncated"]
CLAIM_STATUSES: tuple[ClaimStatus, ...] = ("ok", "fewer", "none", "garbage")
VERDICT_STATUSES: tuple[VerdictStatus, ...] = ("true", "false", "unparsable", "truncated")

_CLAIM_LINE = re.compile(r"^[\s>*_#-]*claim\s*\d+\s*[*_]*\s*[:.)\-]\s*[*_]*\s*(.*)$", re.IGNORECASE)
_LIST_LINE = re.compile(r"^\s*(?:\d+\s*[.)]|[-*•])\s+(.*)$")
_ANSWER_LINE = re.compile(r"^[\s>*_#-]*final\s+answer\s*[*_]*\s*[:.\-]\s*[*_]*\s*(.*)$",
                          re.IGNORECASE)
_VERDICT = re.compile(r"verdict\s*[*_]*\s*[:=\-]?\s*[*_\"'`(\[]*\s*"
                      r"(true|false|correct|incorrect|valid|invalid|yes|no|1|0)\b", re.IGNORECASE)
_POSITIVE = {"true", "correct", "valid", "yes", "1"}
MAX_CLAIM_CHARS = 2000  # a runaway "claim" is cut here (its verification prompt stays bounded)


@dataclass(frozen=True)
class ParsedClaims:
    claims: tuple[str, ...]
    answer: str | None
    status: ClaimStatus
    rule: Literal["claim-lines", "list", "none"]
    extra_dropped: int = 0


@dataclass(frozen=True)
class ParsedVerdict:
    value: Literal[0, 1] | None
    status: VerdictStatus


def after_reasoning(reply: str) -> str:
    """The part of a reply after its reasoning block (the whole reply when there is none)."""
    close = reply.rfind(THINK_CLOSE)
    return reply[close + len(THINK_CLOSE):] if close >= 0 else reply


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _collect(lines: list[str], start: re.Pattern[str]) -> list[str]:
    """Claim texts: a line matching `start` opens one; following plain lines continue it."""
    claims: list[list[str]] = []
    for line in lines:
        if _ANSWER_LINE.match(line):
            break
        opened = start.match(line)
        if opened:
            claims.append([opened.group(1).strip()])
        elif claims and line.strip():
            claims[-1].append(line.strip())
    return [" ".join(parts).strip().strip("*_").strip()[:MAX_CLAIM_CHARS] for parts in claims]


def _unique(claims: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for claim in claims:
        key = _fold(claim)
        if key and key not in seen:
            seen.add(key)
            kept.append(claim)
    return kept


def _final_answer(lines: list[str]) -> str | None:
    answers = [m.group(1).strip().strip("*_").strip() for m in map(_ANSWER_LINE.match, lines) if m]
    return answers[-1] if answers and answers[-1] else None


def parse_claims(reply: str, m: int) -> ParsedClaims:
    text = after_reasoning(reply)
    lines = text.splitlines()
    rule: Literal["claim-lines", "list", "none"] = "claim-lines"
    claims = _unique(_collect(lines, _CLAIM_LINE))
    if not claims:
        rule, claims = "list", _unique(_collect(lines, _LIST_LINE))
    answer = _final_answer(lines)
    if not claims:
        status: ClaimStatus = "none" if not text.strip() else "garbage"
        return ParsedClaims((), answer, status, "none")
    kept = tuple(claims[:m])
    return ParsedClaims(kept, answer, "ok" if len(kept) == m else "fewer", rule,
                        extra_dropped=max(0, len(claims) - m))


def parse_verdict(reply: str, finish_reason: str) -> ParsedVerdict:
    if finish_reason == "length":
        return ParsedVerdict(None, "truncated")
    found = _VERDICT.findall(after_reasoning(reply))
    if not found:
        return ParsedVerdict(None, "unparsable")
    positive = found[-1].casefold() in _POSITIVE
    return ParsedVerdict(1 if positive else 0, "true" if positive else "false")
