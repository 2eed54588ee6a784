"""Math-Verify's own regression cases (boxed answers, short golds) through our math grader.

The cases come from huggingface/Math-Verify's tests (tests/data/math_verify_suite/NOTICE). Our
verdict must match the test's expectation, except for the deliberate differences listed in
differences.json (and explained in docs/grading.md): an unlisted difference fails, and so does a
listed one that no longer differs (the list stays true)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vt_eval.grading.base import GradingOptions
from vt_eval.grading.math import MathGrader

from helpers import make_task

DATA = Path(__file__).parent / "data" / "math_verify_suite"
CASES = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))["cases"]
LISTED = {d["source"]: d for d in json.loads((DATA / "differences.json").read_text(
    encoding="utf-8"))["differences"]}


def agrees(expected: str, verdict: str) -> bool:
    """A case agrees when we say correct exactly when Math-Verify's test does (deferring to the
    judge is a difference: the test expects a decision)."""
    return verdict != "needs_judge" and (verdict == "correct") == (expected == "correct")


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str]:
    tasks = [make_task(case["gold"], case["response"], item_id=str(i))
             for i, case in enumerate(CASES)]
    scores = MathGrader().grade(tasks, GradingOptions(workers=2))
    return {CASES[int(s.item_id)]["source"]: s.verdict for s in scores}


def test_suite_is_the_shipped_selection() -> None:
    assert len(CASES) == 87
    assert len({c["source"] for c in CASES}) == len(CASES)
    assert set(LISTED) <= {c["source"] for c in CASES}


def test_every_difference_is_listed_and_every_listed_one_differs(verdicts: dict[str, str]) -> None:
    unlisted = [(c["source"], c["gold"], c["expected"], verdicts[c["source"]]) for c in CASES
                if not agrees(c["expected"], verdicts[c["source"]]) and c["source"] not in LISTED]
    assert not unlisted, f"differences from Math-Verify not in differences.json: {unlisted}"
    stale = [s for s, d in LISTED.items() if verdicts[s] != d["ours"]
             or agrees(next(c["expected"] for c in CASES if c["source"] == s), verdicts[s])]
    assert not stale, f"listed differences that no longer hold: {stale}"


def test_agreement_is_at_least_95_percent(verdicts: dict[str, str]) -> None:
    agreed = sum(agrees(c["expected"], verdicts[c["source"]]) for c in CASES)
    assert agreed / len(CASES) >= 0.95, f"{agreed}/{len(CASES)}"
