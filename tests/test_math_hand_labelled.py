"""The math grader against hand-labelled responses (tests/data/math_hand_labelled.jsonl).

Labels are a mathematician's verdict under the grader's documented policies (the answer is the
last \\boxed{} after the reasoning; exact answers are required, so a decimal approximation is
incorrect; an unboxed or unfinished answer is no_answer). Each row notes what it exercises.
`python bench/grading.py --agreement-only` prints the same agreement with the rows that differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.grading.base import GradingOptions
from vt_eval.grading.math import MathGrader

from helpers import make_task

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "math_hand_labelled.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, tuple[str, str]]:
    tasks = [make_task(row["gold"], row["response"], item_id=row["id"], finish=row["finish_reason"],
                       card=get_card(row["benchmark"])) for row in ROWS]
    scores = MathGrader().grade(tasks, GradingOptions(timeout_s=10, workers=2))
    return {s.item_id: (s.verdict, s.explanation) for s in scores}


def test_the_set_is_real_sized_and_labelled() -> None:
    assert len(ROWS) >= 30 and len({row["id"] for row in ROWS}) == len(ROWS)
    assert {row["label"] for row in ROWS} == {"correct", "incorrect", "no_answer"}


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_verdict_matches_the_hand_label(verdicts: dict[str, tuple[str, str]], row: dict) -> None:
    verdict, explanation = verdicts[row["id"]]
    assert verdict == row["label"], (row["note"], row["gold"], explanation)
