"""The answer-form rules of the math grader, run in-process on the worker functions (no pool)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from math_verify import parse

from vt_eval.grading import math_forms as forms
from vt_eval.grading.math import normalise_answer
from vt_eval.grading.math_verify_worker import grade_pair


def parsed(latex: str) -> object:
    return parse(f"${latex}$", parsing_timeout=None)[0]


@pytest.mark.parametrize(("latex", "value"), [
    ("0.\\overline{4}", Fraction(4, 9)), ("0.1\\overline{6}", Fraction(1, 6)),
    ("0.\\overline{142857}", Fraction(1, 7)), ("1.\\overline{3}", Fraction(4, 3)),
    ("-0.\\overline{4}", Fraction(-4, 9)), ("0.\\bar{3}", Fraction(1, 3)),
    ("0.(3)", Fraction(1, 3)),
    ("0.\\overline{9}", Fraction(1)),
])
def test_repeating_decimals_are_exact(latex: str, value: Fraction) -> None:
    rewritten = forms.rewrite_repeating_decimals(latex)
    assert "overline" not in rewritten and "bar" not in rewritten
    number = parsed(rewritten)
    assert Fraction(int(number.p), int(number.q)) == value


@pytest.mark.parametrize(("answer", "value"), [
    ("77 \\pmod{1000}", "77"), ("77 \\pmod 1000", "77"), ("77 \\ (\\bmod 1000)", "77"),
    ("77 \\text{ (mod } 1000)", "77"), ("77 (\\text{mod } 1000)", "77"), ("77", "77"),
    ("\\pmod{1000}", "\\pmod{1000}"),  # nothing left: keep it, it is then not a number
])
def test_congruence_annotation_is_not_the_value(answer: str, value: str) -> None:
    assert forms.strip_modulus(answer).strip() == value


def test_a_gold_with_a_modulus_keeps_the_annotation() -> None:
    assert forms.rewrite_answer("3 \\pmod{7}", "3 \\pmod{7}") == "3 \\pmod{7}"
    assert forms.rewrite_answer("3 \\pmod{7}", "3") == "3"
    assert grade_pair(("n \\equiv 3 \\pmod{7}", "n \\equiv 3 \\pmod{7}"))[0] == "correct"


def test_pm_rule_leaves_pmod_alone() -> None:
    assert normalise_answer("77 \\pmod{1000}") == "77 \\pmod{1000}"
    assert normalise_answer("1 \\pm \\sqrt{2}") == "1 + \\sqrt{2}, 1 - \\sqrt{2}"


@pytest.mark.parametrize(("latex", "small"), [
    ("2^{25} \\cdot 26!", True), ("\\frac{2^{2025}-1}{3}", True), ("\\sum_{k=1}^{100} k", True),
    ("10^{99000}", True), ("9^{9^{9^9}}", False), ("(10^{10})!", False), ("10^{-10^{10}}", False),
    ("1^{10^{10^{10}}}", False), ("\\binom{10^{10}}{10^6}", False), ("10^{10^{6}}", False),
    ("\\sum_{k=1}^{3000} k^{k}", False), ("1.5 \\times 10^{400000}", False),
    ("2^{" + "9" * 400 + "}", False),  # an exponent too long for a float
])
def test_digit_bound_is_read_without_evaluating(latex: str, small: bool) -> None:
    assert (forms.digit_bound(parsed(latex)) <= forms.MAX_DIGITS) is small


def test_digit_bound_is_an_upper_bound_on_literals() -> None:
    for value in (2, 99, 10**40 + 7):
        assert forms.digit_bound(parsed(str(value))) >= math.log10(value) - 1e-9
    assert forms.digit_bound(parsed("2^{20}")) >= 6


@pytest.mark.parametrize(("gold", "answer", "verdict", "why"), [
    ("7", "(10^{10})!", "incorrect", "too large to evaluate"),
    ("2^{99}", "2^{99}", "correct", "math-verify"),
    ("77", "78 = 77", "incorrect", "left side is not a variable"),
    ("77", "f(3) = 77", "incorrect", "left side is not a variable"),
    ("77", "x = 77", "correct", "math-verify"),
    ("77", "x = 3 + 74 = 77", "correct", "math-verify"),
    ("1, 2", "x = 1, y = 2", "correct", "math-verify"),
    ("1, 2", "x = 1, 3 = 2", "incorrect", "left side is not a variable"),
    ("x = 77", "x = 77", "correct", "math-verify"),  # an equation gold compares as an equation
    ("1+i", "\\sqrt{2}e^{i\\pi/4}", "correct", "math-verify"),
    ("1+i", "\\sqrt{2}e^{-i\\pi/4}", "incorrect", "math-verify"),
    ("-1", "e^{i\\pi}", "correct", "math-verify"),  # a plain-number gold: i is the unit too
    ("2", "(1+i)(1-i)", "correct", "math-verify"),
    ("2", "2i", "incorrect", "math-verify"),
    ("5", "i = 5", "correct", "math-verify"),  # i as a variable name on the left of an equation
    ("\\frac{1}{576}", "x = 0.001736", "incorrect", "decimal approximation"),
    ("\\frac{1}{2}", "x = 0.5", "correct", "math-verify"),
    ("-\\frac{2431}{50}", "-48.62", "correct", "math-verify"),
])
def test_worker_verdicts(gold: str, answer: str, verdict: str, why: str) -> None:
    got, explanation, _ = grade_pair((gold, normalise_answer(answer)))
    assert (got, why in explanation) == (verdict, True), explanation


@pytest.mark.parametrize("answer", ["0." + "1" * 5000, "0.\\overline{" + "1" * 5000 + "}"])
def test_very_long_decimals_are_incorrect_not_a_crash(answer: str) -> None:
    # int() refuses strings of more than 4300 digits; that must not become a grader error
    verdict, explanation, _ = grade_pair(("\\frac{1}{9}", answer))
    assert verdict == "incorrect", explanation


def test_worker_result_keeps_the_tuple_shape() -> None:
    result = grade_pair(("7", "9^{9^{9^9}}"))
    assert isinstance(result, tuple) and len(result) == 3
    assert result[0] == "incorrect" and isinstance(result[1], str) and result[2] is True
