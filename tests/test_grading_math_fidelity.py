"""Issue 23: decimal golds, several final boxes, \\pm inside sets, units and connectives,
identities. Each case is graded end to end (extraction, worker process, math-verify)."""

from __future__ import annotations

import time

import pytest

from vt_eval.grading.base import GradingOptions
from vt_eval.grading.extract import extract_boxed_answer
from vt_eval.grading.math import MathGrader
from vt_eval.grading.math_text import expand_plus_minus, plain

from helpers import make_task

CASES = [
    # decimals: a decimal gold is an exact value, from both sides
    ("37.50", "\\boxed{37.5}", "correct"),
    ("37.50", "\\boxed{37.50}", "correct"),
    ("37.50", "\\boxed{\\frac{75}{2}}", "correct"),
    ("37.50", "\\boxed{37.49999}", "incorrect"),  # close is not equal
    ("0.25", "\\boxed{0.25}", "correct"),
    ("2.5", "\\boxed{2.5}", "correct"),
    ("1.75", "\\boxed{\\frac{7}{4}}", "correct"),
    ("\\frac{7}{4}", "\\boxed{1.75}", "correct"),  # terminating decimal equal to the gold
    ("\\frac{1}{2}", "\\boxed{0.5}", "correct"),
    ("\\frac13", "\\boxed{0.333}", "incorrect"),  # approximation of an exact gold
    ("6.5", "\\boxed{x = 6.5}", "correct"),
    ("16386.20", "\\boxed{\\$16,\\!386.20}", "correct"),  # thousands separator, currency
    # several boxes at the end
    ("(2, 2), (6, 2)", "So \\boxed{(2, 2)} \\quad\\text{and}\\quad \\boxed{(6, 2)}", "correct"),
    ("\\{1,2,3\\}", "\\boxed{1},\\boxed{2},\\boxed{3}", "correct"),
    ("k = 45, n = 2", "\\boxed{k = 45} \\quad \\text{and} \\quad \\boxed{n = 2}", "correct"),
    ("(2, 2), (6, 2)", "\\boxed{(2, 2)} and \\boxed{(6, 3)}", "incorrect"),
    ("6", "\\boxed{6} and \\boxed{8}", "incorrect"),  # several values for a single-value gold
    ("6", "\\boxed{6} and \\boxed{6}", "correct"),  # the same value twice is one answer
    ("70", "I think 70 is wrong, \\boxed{71}, no wait: \\boxed{70}", "correct"),  # not joined
    ("1, 2", "\\boxed{1} no no no no no \\boxed{2}", "incorrect"),  # prose between: last box
    # \pm inside a set
    ("\\{1\\pm\\sqrt{5},-2\\}", "\\boxed{\\{1\\pm\\sqrt{5},-2\\}}", "correct"),
    ("\\{1+\\sqrt{5},1-\\sqrt{5},-2\\}", "\\boxed{\\{-2, 1\\pm\\sqrt{5}\\}}", "correct"),
    ("\\{1+\\sqrt{5},1-\\sqrt{5},-2\\}", "\\boxed{\\{1\\pm\\sqrt{5}\\}}", "incorrect"),
    ("\\pm 2021", "\\boxed{2021}", "incorrect"),
    # units and connectives
    ("$125$ miles", "\\boxed{125\\textnormal{ miles}}", "correct"),
    ("$125$ miles", "\\boxed{125}", "correct"),
    ("$125$ miles", "\\boxed{126 \\text{ miles}}", "incorrect"),
    ("$125$ miles", "\\boxed{125 \\text{ km}}", "needs_judge"),  # another unit: the judge
    ("0.06 \\text{ yuan}", "\\boxed{0.06 \\text{ yuan}}", "correct"),
    ("6 \\text{ and } 8", "\\boxed{6, 8}", "correct"),
    ("$1$ and $2$ and $3$", "\\boxed{1,2,3}", "correct"),
    ("$1$ and $2$ and $3$", "\\boxed{1,2}", "incorrect"),
    ("\\text{Evelyn}", "\\boxed{\\text{Evelyn}}", "correct"),  # the gold as written
    ("\\text{Evelyn}", "\\boxed{\\text{Carla}}", "needs_judge"),  # real prose: the judge
    ("all odd primes", "\\boxed{3}", "needs_judge"),
    # a percent sign on an answer whose gold is the number of percent
    ("40", "\\boxed{40\\%}", "correct"),
    ("40", "\\boxed{40.0\\%}", "correct"),
    ("0.4", "\\boxed{40\\%}", "correct"),  # 40% is 0.4 too
    ("40", "\\boxed{41\\%}", "incorrect"),
    ("28\\%", "\\boxed{28}", "correct"),
    # identities
    ("1296", "\\boxed{1296 = 2^4 \\cdot 3^4}", "correct"),
    ("1296", "\\boxed{2^4 \\cdot 3^4 = 1296}", "correct"),
    ("1296", "\\boxed{1296 = 2^4 \\cdot 3^3}", "incorrect"),  # a false identity
    ("77", "\\boxed{78 = 77}", "incorrect"),
    ("6", "\\boxed{x = 5}", "incorrect"),
    ("6", "\\boxed{x = 6}", "correct"),
]


@pytest.fixture(scope="module")
def graded() -> dict[str, object]:
    tasks = [make_task(gold, response, item_id=str(i)) for i, (gold, response, _) in
             enumerate(CASES)]
    return {s.item_id: s for s in MathGrader().grade(tasks, GradingOptions(workers=2))}


@pytest.mark.parametrize("index", range(len(CASES)))
def test_verdict(graded: dict[str, object], index: int) -> None:
    gold, response, expected = CASES[index]
    score = graded[str(index)]
    assert score.verdict == expected, (gold, response, score.explanation)


def test_single_value_gold_with_several_boxes_says_why(graded: dict[str, object]) -> None:
    score = graded[str(CASES.index(("6", "\\boxed{6} and \\boxed{8}", "incorrect")))]
    assert "different boxed answers" in score.explanation
    assert score.extracted == "6, 8"


def test_boxes_are_joined_only_across_separators() -> None:
    assert extract_boxed_answer("\\boxed{1} papers and \\boxed{2} bins").parts == ("1", "2")
    assert extract_boxed_answer("y_1 = \\boxed{a} \\) and \\( y_2 = \\boxed{b}").parts == ("a", "b")
    assert extract_boxed_answer("\\boxed{35} ++++++ \\boxed{4}").parts == ()
    assert extract_boxed_answer("\\boxed{5} is wrong; the answer: \\boxed{6}").answer == "6"
    assert extract_boxed_answer("\\boxed{a}" + " and " * 40 + "\\boxed{b}").answer == "b"


def test_text_rules() -> None:
    assert expand_plus_minus("\\{1\\pm\\sqrt{5},-2\\}") == "\\{1+\\sqrt{5}, 1-\\sqrt{5}, -2\\}"
    assert plain("(11,7)or(7,11)") == ("(11,7), (7,11)", set())
    assert plain("15\\mbox{ cm}^2") == ("15", {"cm^2"})
    assert plain("2 \\sin b \\cos a") == ("2 \\sin b \\cos a", set())  # no unit, no connective
    assert plain("a \\lor b") == ("a \\lor b", set())


@pytest.mark.parametrize("response", [
    "\\boxed{1} and " * 100_000, "\\boxed{" * 50_000 + "}" * 50_000, "\\boxed{1}" * 200_000,
    "\\boxed{1}" + " and" * 300_000 + "\\boxed{2}",
])
def test_reading_several_boxes_is_linear_on_hostile_text(response: str) -> None:
    # Extraction runs in the main process on untrusted text: bounded parts, bounded gaps.
    started = time.monotonic()
    found = extract_boxed_answer(response)
    assert time.monotonic() - started < 1.0
    assert len(found.parts) <= 10
