"""GPQA strict and lenient readings: the lenient rules as a careful reader applies them, both
readings through the grader, results.json metrics and the summary lines the reports print."""

from __future__ import annotations

import time

import pytest

from vt_eval.grading.base import GradingOptions
from vt_eval.grading.gpqa import GPQAMetrics, extract_letter, gpqa_metrics

from test_gpqa import CARD, GRADER, items, shown_texts, task  # noqa: F401 (fixture)

OPTIONS = ["10^-4 eV", "10^-11 eV", "10^-8 eV", "10^-9 eV"]

READ = [
    ("Therefore, the correct option is: A. 10^-4 eV", "A"),
    ("So the correct answer is (C).", "C"),  # strict reads it too
    ("The best answer from the given options is D.", "D"),
    ("The closest option to the calculated value is **D. 10^-9 eV**. That is all.", "D"),
    ("Reasoning...\n\n**B. 10^-11 eV**", "B"),
    ("Reasoning...\n\n**B**", "B"),
    ("Thus the correct order is:\n\n**Option A. 10^-4 eV**", "A"),
    ("Among the options, the closest one is:\nD. 10^-9 eV", "D"),
    ("Therefore, option D is incorrect.\n\n### Conclusion:\nThe correct statement is **Option B**.", "B"),
    ("The compound absorbs red light (**Option C**).", "C"),
    ("This matches option C.\n\nLet me know if you need more.", "C"),
    ("Hence the value is\n10^-8 eV", "C"),  # the option's full text alone
    ("The final value is 10^-9 eV.", "D"),  # a concluding line ending in exactly one option text
    ("\\boxed{10^{-8} \\text{ eV}}", "C"),  # the option's text in LaTeX
    ("\\boxed{10^{-7} \\text{ eV}}", None),  # a value that is no option
    ("\\boxed{10^-8 eV}", "C"),  # a box holding an option's full text
    ("the final product is most likely C: 10^-8 eV.", "C"),  # letter with its own text
    ("Of the given options, only option **C. 10^-8 eV** is large enough.", "C"),
    ("So the energy difference is **10^-9 eV**. This follows from the lifetimes.", "D"),
    ("Option A is ruled out.\n\nTherefore, the correct statement is:\n\nC. about 1e-8 eV, as "
     "computed", "C"),  # after a lead-in line, a paraphrased option text still states C
]

NOT_READ = [
    "So the answer is either A or C.",  # two letters: never guessed
    "The correct answer is **A** or **C**",
    "Option D is incorrect.",  # an option rejected, not chosen
    "* **D. 10^-9 eV:** This is unlikely because the lifetime is short.",  # discussed, not chosen
    "Option **D. 10^-9 eV** is incorrect: the lifetime is too short.",
    "* **10^-9 eV:** This would need a longer lifetime.",  # an option discussed, not chosen
    "D) Incorrect: the energy is too small",  # no lead-in: D is discussed, not chosen
    "the correct answer is:\nB. 10^-4 eV",  # letter B with the text of A: which one?
    "The best choice is a good guess here.",  # lower case: an article, not a letter
    "We estimate the energy difference and find it is large.",
]


@pytest.mark.parametrize("response,letter", READ)
def test_lenient_reads_the_final_stated_option(response: str, letter: str | None) -> None:
    assert extract_letter(response, OPTIONS, mode="lenient")[0] == letter, response


@pytest.mark.parametrize("response", NOT_READ)
def test_lenient_never_guesses(response: str) -> None:
    assert extract_letter(response, OPTIONS, mode="lenient")[0] is None, response


@pytest.mark.parametrize("response,letter", READ)
def test_strict_is_unchanged_by_the_lenient_rules(response: str, letter: str | None) -> None:
    strict = extract_letter(response, OPTIONS, mode="strict")[0]
    assert strict is None or strict == letter  # strict reads less, never something else
    assert extract_letter(response, OPTIONS)[0] == strict  # strict is the default


def test_lenient_keeps_strict_refusals() -> None:
    assert extract_letter("\\boxed{A} and \\boxed{C}", OPTIONS, "lenient")[0] is None
    assert extract_letter("<think>the answer is B", OPTIONS, "lenient")[0] is None


@pytest.mark.parametrize("response", [
    "**" * 100_000, "option " * 50_000 + "A", "\n".join(["**B. x**"] * 20_000),
    "answer is " + " " * 300_000 + "A", ("the correct answer is " + "(A) " * 2000) * 20,
    "**A. " * 20_000, "(Option A) " * 20_000, "A. " * 100_000,
])
def test_lenient_reading_is_linear_on_hostile_text(response: str) -> None:
    started = time.monotonic()
    extract_letter(response, OPTIONS, mode="lenient")
    assert time.monotonic() - started < 1.0


def test_both_readings_through_the_grader_and_metrics(items) -> None:  # noqa: F811
    responses = ["\\boxed{%s}", "Therefore, the correct option is (%s).", "no letter at all"]
    tasks = []
    for n, item in enumerate(items[:30]):
        t = task(item, "x")
        gold = t.sample.prompt_extra["gold_letter"]
        tasks.append(task(item, responses[n % 3].replace("%s", gold)))
    scores = list(GRADER.grade(tasks, GradingOptions()))
    strict = [s.verdict for s in scores]
    lenient = [s.details["lenient_verdict"] for s in scores]
    assert strict == ["correct", "no_answer", "no_answer"] * 10
    assert lenient == ["correct", "correct", "no_answer"] * 10
    m = gpqa_metrics(tasks, scores)
    assert m.readings["strict"].avg_at_k == pytest.approx(1 / 3)
    assert m.readings["lenient"].avg_at_k == pytest.approx(2 / 3)
    assert m.readings["strict"].no_answer_rate == pytest.approx(2 / 3)
    assert m.readings["lenient"].no_answer_rate == pytest.approx(1 / 3)
    lines = GRADER.summary_lines(GPQAMetrics.model_validate(m.model_dump(mode="json")).model_dump())
    assert lines[0].startswith("strict: avg@k 33.3%") and "no answer 66.7%" in lines[0]
    assert lines[1].startswith("lenient: avg@k 66.7%") and "no answer 33.3%" in lines[1]


def test_lenient_uses_the_shown_option_texts(items) -> None:  # noqa: F811
    item = items[0]
    t = task(item, "x")
    shown = shown_texts(item, t)
    gold = t.sample.prompt_extra["gold_letter"]
    text = shown["ABCD".index(gold)]
    (score,) = GRADER.grade([task(item, f"After all this, the answer:\n{text}")], GradingOptions())
    assert score.details["lenient_verdict"] == "correct"
    assert score.verdict == "no_answer"


def test_card_says_how_the_claim_was_measured() -> None:
    assert CARD.reference.answer_reading == "lenient"
