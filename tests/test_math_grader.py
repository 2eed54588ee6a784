"""Math grading on hand-written responses whose verdicts are known."""

from __future__ import annotations

import time

import pytest

from vt_eval.grading.base import GradingOptions
from vt_eval.grading.extract import extract_boxed_answer
from vt_eval.grading.math import MathGrader, judge_reason

from helpers import make_task

CASES = [
    # (gold, response, verdict)
    ("\\frac{1}{2}", "so \\boxed{\\frac{1}{2}}", "correct"),
    ("\\frac{1}{2}", "so \\boxed{0.5}", "correct"),
    ("\\frac{1}{2}", "so \\boxed{1/2}", "correct"),
    ("\\frac{1}{2}", "so \\boxed{\\dfrac{1}{2}}", "correct"),
    ("\\frac{1}{2}", "so \\boxed{\\frac{1}{3}}", "incorrect"),
    ("2^{25} \\cdot 26!", "\\boxed{2^{25}\\cdot 26!}", "correct"),
    ("2^{25} \\cdot 26!", "\\boxed{2^{24}\\cdot 26!}", "incorrect"),
    ("\\frac{-1+\\sqrt{17}}{2}, \\frac{-1-\\sqrt{17}}{2}",
     "\\boxed{\\frac{-1-\\sqrt{17}}{2}, \\frac{-1+\\sqrt{17}}{2}}", "correct"),  # set, other order
    ("\\frac{-1+\\sqrt{17}}{2}, \\frac{-1-\\sqrt{17}}{2}", "\\boxed{\\frac{-1 \\pm \\sqrt{17}}{2}}", "correct"),
    ("\\frac{-1+\\sqrt{17}}{2}, \\frac{-1-\\sqrt{17}}{2}", "\\boxed{\\frac{-1+\\sqrt{17}}{2}}", "incorrect"),
    ("2,3,\\frac{3+i\\sqrt{3}}{2},\\frac{3-i\\sqrt{3}}{2}",
     "\\boxed{\\frac{3-i\\sqrt3}{2}, 3, 2, \\frac{3+i\\sqrt{3}}{2}}", "correct"),  # complex roots
    ("8\\sqrt{10}", "\\boxed{8\\sqrt{10}}", "correct"),
    ("8\\sqrt{10}", "\\boxed{8}", "incorrect"),  # bare parse() of the gold would read 8
    ("\\frac{1}{576}", "\\boxed{0.001736}", "incorrect"),  # decimal approximation policy
    ("735", "\\boxed{735.}", "correct"),  # trailing period
    ("70", "I think 70 is wrong, \\boxed{71}, no wait: \\boxed{70}", "correct"),  # last box wins
    ("70", "\\boxed{70} hmm, actually \\boxed{71}", "incorrect"),  # right one next to a wrong one
    ("5", "<think>maybe \\boxed{5}</think>The answer is \\boxed{4}", "incorrect"),
    ("5", "<think>maybe \\boxed{5}</think>The answer is 5.", "no_answer"),  # box only in reasoning
    ("5", "<think>maybe \\boxed{5}", "no_answer"),  # reasoning never closed
    ("117", "the answer is 117", "no_answer"),
    ("90", "so the answer is \\boxed{90", "no_answer"),  # unbalanced / truncated box
    ("70", "\x00\ud800 garbage \\boxed{70}", "correct"),  # NUL and a lone surrogate
    ("-984", "\\boxed{-984}", "correct"),
    # issue 10: forms math-verify misreads
    ("\\frac{4}{9}", "\\boxed{0.\\overline{4}}", "correct"),  # repeating decimal, read as 0 before
    ("\\frac{1}{6}", "\\boxed{0.1\\overline{6}}", "correct"),
    ("\\frac{4}{9}", "\\boxed{0.\\overline{5}}", "incorrect"),
    ("\\frac{4}{9}", "\\boxed{0.444}", "incorrect"),  # a truncated expansion is an approximation
    ("\\frac{3}{2}+\\frac{\\sqrt{3}}{2}i", "\\boxed{\\sqrt{3}e^{i\\pi/6}}", "correct"),
    ("\\frac{3}{2}+\\frac{\\sqrt{3}}{2}i", "\\boxed{\\sqrt{3}e^{i\\pi/3}}", "incorrect"),
    ("2,3,\\frac{3+i\\sqrt{3}}{2},\\frac{3-i\\sqrt{3}}{2}",
     "\\boxed{2, 3, \\sqrt3 e^{\\pm i\\pi/6}}", "correct"),
    ("77", "\\boxed{78 = 77}", "incorrect"),  # an equation, not the number 77
    ("77", "\\boxed{x = 77}", "correct"),  # the left side is a variable
    ("77", "\\boxed{m+n = 77}", "correct"),
    ("77", "\\boxed{77 \\pmod{1000}}", "correct"),  # was mangled into 77 +od{1000}, 77 -od{1000}
    ("77", "\\boxed{1077 \\pmod{1000}}", "incorrect"),
    ("77", "\\boxed{N \\equiv 77 \\pmod{1000}}", "correct"),
    ("\\frac{1}{576}", "\\boxed{p = 0.001736}", "incorrect"),  # decimal policy through an equation
]


@pytest.fixture(scope="module")
def graded() -> dict[str, object]:
    tasks = [make_task(gold, response, item_id=str(i)) for i, (gold, response, _) in enumerate(CASES)]
    return {s.item_id: s for s in MathGrader().grade(tasks, GradingOptions(timeout_s=5, workers=2))}


@pytest.mark.parametrize("index", range(len(CASES)))
def test_known_verdicts(graded: dict[str, object], index: int) -> None:
    gold, response, expected = CASES[index]
    score = graded[str(index)]
    assert score.verdict == expected, (gold, response, score.explanation)
    assert score.explanation


def test_score_keeps_extracted_answer_and_grader_tag(graded: dict[str, object]) -> None:
    score = graded["14"]  # \boxed{735.}
    assert score.extracted == "735"
    assert score.grader == "math/2"
    assert "math-verify" in score.explanation


def test_truncated_response_is_its_own_verdict() -> None:
    task = make_task("70", "\\boxed{70}", finish="length")
    (score,) = MathGrader().grade([task], GradingOptions())
    assert score.verdict == "truncated"


def test_hanging_verifier_is_a_timeout_not_wrong() -> None:
    # Small numbers, but sympy multiplies 3000 symbolic factors: only the process timeout stops it.
    tasks = [make_task("7", "\\boxed{\\prod_{k=1}^{3000} (k^2+1)}", item_id="hang"),
             make_task("7", "\\boxed{7}", item_id="ok")]
    scores = {s.item_id: s for s in MathGrader().grade(tasks, GradingOptions(timeout_s=2, workers=1))}
    assert scores["hang"].verdict == "grader_timeout"
    assert scores["ok"].verdict == "correct"  # the pool recovered after killing the worker


@pytest.mark.parametrize("answer", ["9^{9^{9^{9}}}", "(10^{10})!", "10^{10^{10^{10}}}",
                                    "1^{10^{10^{10}}}", "10^{-10^{10}}",
                                    "\\binom{10^{10}}{10^{6}}"])
def test_answer_too_large_to_evaluate_is_incorrect_at_once(answer: str) -> None:
    task = make_task("7", f"\\boxed{{{answer}}}")
    started = time.monotonic()
    (score,) = MathGrader().grade([task], GradingOptions(timeout_s=20, workers=1))
    assert score.verdict == "incorrect", score.explanation
    assert "too large to evaluate" in score.explanation
    assert time.monotonic() - started < 10  # not the full timeout


def test_megabyte_response_with_unbalanced_braces() -> None:
    response = "{" * 500_000 + "x" * 500_000 + "\\boxed{42}"
    assert extract_boxed_answer(response).answer == "42"
    assert extract_boxed_answer("\\boxed{" + "{" * 1_000_000).answer is None


def test_prose_gold_needs_judge() -> None:
    assert judge_reason("All powers of 2") is not None
    assert judge_reason("$f(x)=2x^{2}+b x$") is not None
    assert judge_reason("$\\left\\lfloor \\log_{2}a\\right\\rfloor +1$") is None
    task = make_task("All numbers of the form $4k+3$", "\\boxed{4k+3}")
    (score,) = MathGrader().grade([task], GradingOptions())
    assert score.verdict == "needs_judge"


def test_unparsable_gold_is_grader_error_not_wrong() -> None:
    task = make_task("\\frac{", "\\boxed{1}")
    (score,) = MathGrader().grade([task], GradingOptions())
    assert score.verdict in ("grader_error", "needs_judge")
    assert score.verdict != "incorrect"
