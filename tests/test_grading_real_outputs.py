"""Published responses of real models, graded by us and by their publishers
(tests/data/real_outputs, see its NOTICE): every disagreement must be reviewed in reviewed.json,
agreement stays at or above 95%."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from vt_eval.grading.base import GradingOptions
from vt_eval.grading.gpqa import extract_letter
from vt_eval.grading.math import MathGrader

from helpers import make_task

DATA = Path(__file__).parent / "data" / "real_outputs"


@dataclass(frozen=True)
class Graded:
    key: str  # "<source>/<model>/<id>"
    ours: str  # our verdict
    publisher: str  # the publisher's verdict
    our_answer: str | None
    publisher_answer: str | None


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _key(row: dict) -> str:
    return f"{row['source']}/{row['model']}/{row['id']}"


def graded_math(name: str = "tora_gsm8k.jsonl", workers: int = 2) -> list[Graded]:
    data = rows(name)
    tasks = [make_task(str(r["gold"]), r["response"], item_id=str(i)) for i, r in enumerate(data)]
    out = []
    for score in MathGrader().grade(tasks, GradingOptions(workers=workers)):
        row = data[int(score.item_id)]
        out.append(Graded(_key(row), score.verdict, row["publisher_verdict"], score.extracted,
                          str(row["publisher_answer"])))
    return sorted(out, key=lambda g: g.key)


def graded_choice(name: str = "mmlu_pro.jsonl", mode: str = "lenient") -> list[Graded]:
    out = []
    for row in rows(name):
        letter, _ = extract_letter(row["response"], row["options"], mode=mode)
        ours = "no_answer" if letter is None else "correct" if letter == row["answer"] else \
            "incorrect"
        out.append(Graded(_key(row), ours, row["publisher_verdict"], letter,
                          row["publisher_letter"]))
    return out


def agree(g: Graded) -> bool:
    """Same verdict; no answer and a wrong answer both count as not correct."""
    return (g.ours == "correct") == (g.publisher == "correct")



REVIEWED = {(r["set"], r["reading"], r["key"]): r for r in json.loads(
    (DATA / "reviewed.json").read_text(encoding="utf-8"))["reviewed"]}


def _check(graded: list[Graded], data_set: str, reading: str) -> None:
    unreviewed = [g for g in graded if not agree(g) and (data_set, reading, g.key) not in REVIEWED]
    assert not unreviewed, f"disagreements with the publisher not in reviewed.json: {unreviewed}"
    by_key = {g.key: g for g in graded}
    stale = [key for (s, r, key), entry in REVIEWED.items() if (s, r) == (data_set, reading)
             and (key not in by_key or agree(by_key[key]) or by_key[key].ours != entry["ours"])]
    assert not stale, f"reviewed disagreements that no longer hold: {stale}"
    agreed = sum(agree(g) for g in graded)
    assert agreed / len(graded) >= 0.95, f"{agreed}/{len(graded)}"


@pytest.mark.parametrize("name,data_set", [("tora_gsm8k.jsonl", "tora"),
                                           ("openai_gsm8k.jsonl", "openai_gsm8k")])
def test_math_answers_agree_with_the_publisher(name: str, data_set: str) -> None:
    graded = graded_math(name)
    assert len(graded) == 200
    _check(graded, data_set, "math")


@pytest.mark.parametrize("reading", ["strict", "lenient"])
def test_multiple_choice_agrees_with_the_publisher(reading: str) -> None:
    graded = graded_choice(mode=reading)
    assert len(graded) == 240
    _check(graded, "mmlu_pro", reading)


def test_lenient_reads_every_letter_the_publisher_read_the_same_way() -> None:
    """Where both read a letter, the letters are the same (the reviewed cases are all ones the
    publisher's regex missed)."""
    both = [g for g in graded_choice(mode="lenient") if g.our_answer and g.publisher_answer]
    assert both and all(g.our_answer == g.publisher_answer for g in both)


def test_every_review_says_who_is_right_and_why() -> None:
    for entry in REVIEWED.values():
        assert entry["right"].split()[0] in ("ours", "publisher", "neither")
        assert len(entry["why"]) > 20
