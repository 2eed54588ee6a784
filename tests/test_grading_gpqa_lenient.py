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
    "\\boxed{" + "\\frac{1}{" * 5_000 + "}", "= " * 100_000 + "10^-8 eV", "(" * 100_000 + "B)",
    "Option A (" + "x" * 300_000 + ") is the best", "either " * 50_000 + "A",
    "In summary, the answer is " + "10^-8 eV " * 20_000,
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


# Readings a careful reader makes of final answers that name the option by its value or in a
# verdict about it (shapes of published GPQA-Diamond responses, written anew here: the published
# responses are unlicensed). Each is paired with the look-alike that must stay no answer.
FM = ["177.675 fm", "251.271 fm", "355.351 fm", "87163.4 fm"]
MOLAR = ["5.48x10^-7 M", "2.81x10^-7 M", "3.97x10^-7 M", "6.24x10^-7 M"]
SPLIT = ["triplet of triplets", "triplet", "pentet", "doublet of triplets"]
GROUPS = ["c3", "cs", "d2h", "c2h"]
FRACTIONS = ["1/3", "1/6", "1/2", "2/3"]
LENGTHS = ["4.5 m", "4.5 cm", "45 m", "0.45 m"]
ISOMER = "-4,7-dimethyl-3a,4,7,7a-tetrahydro-4,7-epoxybenzofuran-1,3-dione"
ISOMERS = ["(3aR,4S,7R,7aS)" + ISOMER, "(3aR,4R,7S,7aS)" + ISOMER, "(3aS,4R,7S,7aR)" + ISOMER,
           "(3aS,4S,7R,7aR)" + ISOMER]
STEPS = ["1. Na, ether\n2. Cl2/hv\n3. KOH, EtOH\n4. LiAlH4\n5. NH4OH",
         "1. Zn, ether\n2. HCl\n3. Aq. KOH\n4. Pyridine\n5. Aq. NaOH",
         "1. Na, ether\n2. Cl2/hv\n3. Aq. KOH\n4. KMnO4, heat\n5. NaNH2",
         "1. Zn, ether\n2. Cl2/hv\n3. Aq. KOH\n4. Pyridine + CrO3 + HCl\n5. Aq. NaOH"]

CAREFUL = [  # (options, response, letter read, look-alike that stays no answer)
    (FM, "Given the options:\n\nThe final answer is: $\\boxed{251.271}$",
     "B", "The final answer is: $\\boxed{251.27}$"),  # a box holding an option's value, unit left out
    (MOLAR, "the closest option is:\n\\[\n\\boxed{3.97 \\times 10^{-7} \\text{ M}}\n\\]",
     "C", "the closest option is:\n\\[\n\\boxed{3.97 \\times 10^{-6} \\text{ M}}\n\\]"),
    (FRACTIONS, "So, the correct answer is:\n\\[ \\boxed{\\frac{1}{6}} \\]", "B",
     "So, the correct answer is:\n\\[ \\boxed{\\frac{1}{5}} \\]"),
    (LENGTHS, "\\boxed{4.5 \\text{ m}}", "A", "\\boxed{4.5}"),  # 4.5 m or 4.5 cm: no guess
    (FM, "Im f(0) ≈ (1/0.248 fm^-1) × 13.38\nSo Im f(0) ≈ 53.93 fm × 4.66 ≈ 251.271 fm", "B",
     "So Im f(0) ≈ 53.93 fm × 4.66\n≈ 251.271 fm / (2.42 × 0.22)"),  # the last line's final value
    (FM, "Let's redo the sum with the phase shifts:\n\\frac{1}{k} \\sum_l (2l+1) = 251.271 fm", None,
     None),  # a bare step of a derivation that may have been cut off is not an answer
    (MOLAR, "[PO4 3-] ≈ 3.61x10^-7 M ≈ 3.97x10^-7 M (the closest match among the options)", "C",
     "[PO4 3-] = 3.97x10^-7 M\n\nLet me check this against the second dissociation."),
    (SPLIT, "**Therefore, option B is the only one that correctly describes the splitting.**",
     "B", "Therefore, option B is the only one that is ruled out by the splitting."),
    (SPLIT, "However, **option C (pentet) is the most plausible answer**.", "C",
     "However, option C (pentet) is the least plausible answer."),
    (SPLIT, "**Therefore, the most deshielded hydrogen appears as a triplet (B).**", "B",
     "It appears as a triplet (B) or a pentet (C)."),  # an option's text, then its own letter
    (SPLIT, "Therefore, the pattern is a pentet (B).", None, None),  # C's text with B: no answer
    (FM, "The imaginary part is approximately **251.271 fm (Option B)** for this energy.", "B",
     "The imaginary part is approximately **355.351 fm (Option B)** for this energy."),
    (SPLIT, "**Therefore, the incorrect statement is C.**", "C",
     "**Therefore, the incorrect statements are B and likely D.**"),
    (SPLIT, "Therefore, the most likely answer is either A (8) or B (11).", None, None),
    (STEPS, "The correct sequence of reagents is **Option D:**\n\n1. **Zn, ether** forms the "
     "ring.\n2. **Cl2/hv** chlorinates it.", "D",
     "The correct sequence is not option D:\n\n1. **Zn, ether** forms the ring."),
    (GROUPS, "The molecular symmetry group of product 3 is **B. Cs**.  Cs groups have one mirror "
     "plane.", "B", "The molecular symmetry group of product 3 is **B. C2h**."),
    (ISOMERS, f"**In summary, the major product is {ISOMERS[1]} due to the endo approach.**", "B",
     f"**In summary, the major product is {ISOMERS[1]} or {ISOMERS[2]}.**"),
    (STEPS, "Thus, the correct sequence of reagents is:\n\n**C.**\n" + STEPS[2], "C",
     "#### Option C:\n" + STEPS[2] + "\n\n#### Option D:\n" + STEPS[3]),  # a listing of options
    (SPLIT, "Considering the options, the best match is:\n\nD. a doublet of triplets, from the CH2 "
     "and the CH", "D", "The answer is a doublet of triplets.\n\nLet's consider the other options:"
     "\n\nA. a triplet of triplets would need two CH2 neighbours"),  # a lead-in vs a discussion
    (FM, "Based on the values, option B is the closest to our calculated value.", "B",
     "However, option B is 251.271 fm, which is not the value we got."),
    (FM, "None of the provided options is exact; the closest option is **B. 251.271 fm**.", "B",
     "So the closest option is **B. 251.271 fm**.\n\nBut since we found 312 fm, none of the "
     "provided options are correct."),  # a last line that takes the choice back
]


@pytest.mark.parametrize("options,response,letter,look_alike", CAREFUL)
def test_lenient_reads_what_a_careful_reader_reads(options: list[str], response: str,
                                                   letter: str | None,
                                                   look_alike: str | None) -> None:
    assert extract_letter(response, options, mode="lenient")[0] == letter, response
    if look_alike is not None:
        assert extract_letter(look_alike, options, mode="lenient")[0] is None, look_alike
    strict = extract_letter(response, options, mode="strict")[0]
    assert strict is None or strict == letter  # strict reads none of these differently


def test_option_values_compare_as_numbers_with_their_units() -> None:
    from vt_eval.grading.choice_values import canonical, option_by_value
    assert canonical("4.0655 \\times 10^{-15} \\, \\text{m}") == canonical("4.0655 * 10^-15 m")
    assert option_by_value("3,060,000 \\text{ km}", ["2880000 km", "3060000 km"]) == 1
    assert option_by_value("3.9*1e5", ["1.8*1e5 GeV", "3.9*1e5 GeV"]) == 1
    assert option_by_value("\\hbar/\\sqrt{2}", ["hbar/sqrt(2)", "sqrt(2)*hbar"]) == 0
    assert option_by_value("9.08 \\text{ nm}", ["9.08 Angstrom", "9.54 Angstrom"]) is None
    assert option_by_value("4", ["4", "4"]) is None  # two equal options: which one?
    assert option_by_value("1" * 400, ["1" * 400]) is None  # capped, never parsed
