"""GPQA-Diamond: encrypted zip loading, permutation properties, letter extraction, bad input."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.data import load_benchmark
from vt_eval.errors import DataError
from vt_eval.grading import get_grader
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.gpqa import (CORRECT, LETTERS, extract_letter, gpqa_metrics, item_options,
                                  option_order)
from vt_eval.records import Sample

CARD = get_card("gpqa_diamond")
GRADER = get_grader("gpqa")
DUPLICATED = ("recZSGUkn56v9kEp1", "recnGEpF1srQpaqWq")


@pytest.fixture(scope="module")
def items():
    return load_benchmark(CARD).items


def prompt_for(item, index=0, seed=0, card=CARD):
    return GRADER.prompt(card, item, index, seed)


def task(item, response: str, index=0, seed=0, finish="stop", card=CARD) -> GradeTask:
    p = prompt_for(item, index, seed, card)
    s = Sample(benchmark=card.name, item_id=item.id, sample_index=index, seed=0, messages=p.messages,
               prompt_extra=p.extra, response=response, finish_reason=finish, completion_tokens=9,
               created_at="2026-11-23T00:00:00+00:00")
    return GradeTask(card, item, s)


def grade(tasks):
    return list(GRADER.grade(tasks, GradingOptions()))


def test_loads_198_items_from_the_encrypted_zip_without_unpacking(items) -> None:
    assert len(items) == 198
    assert len({i.id for i in items}) == 198
    assert not list(Path(CARD.local_path).parent.glob("*.csv"))
    assert all(i.answer == i.answer.strip() or i.row[CORRECT] for i in items)


def test_gold_letter_is_not_always_a_and_covers_all_letters(items) -> None:
    golds = Counter(prompt_for(i).extra["gold_letter"] for i in items)
    assert set(golds) == set("ABCD")
    assert max(golds.values()) < 0.4 * len(items)  # roughly uniform, certainly not all "A"


def test_permutations_differ_across_questions_and_samples(items) -> None:
    orders = [tuple(prompt_for(i).extra["option_columns"]) for i in items]
    assert len(set(orders)) >= 20  # 24 possible orders of 4 options
    one = items[0]
    per_sample = {tuple(prompt_for(one, index=k).extra["option_columns"]) for k in range(16)}
    assert len(per_sample) > 4
    per_seed = {tuple(prompt_for(one, seed=s).extra["option_columns"]) for s in range(16)}
    assert len(per_seed) > 4


def test_permutation_is_order_independent_and_reproducible(items) -> None:
    forward = {(i.id, k): prompt_for(i, k).extra for i in items[:40] for k in range(3)}
    backward = {(i.id, k): prompt_for(i, k).extra for i in reversed(items[:40]) for k in reversed(range(3))}
    assert forward == backward
    assert option_order(4, "x") == option_order(4, "x")
    assert sorted(option_order(4, "x")) == [0, 1, 2, 3]


def test_prompt_shows_each_option_once_with_the_gpqa_suffix(items) -> None:
    item = items[0]
    p = prompt_for(item)
    text = p.messages[-1]["content"]
    assert text.endswith("put your choice letter without any other text with \\boxed{} in the end.")
    gold_line = f"{p.extra['gold_letter']}) {item.row[CORRECT].strip()}"
    assert gold_line in text
    assert text.count("\nA) ") == 1 and "\nD) " in text


def test_duplicated_option_items_are_deduped_or_kept_as_configured(items) -> None:
    dup = [i for i in items if i.id in DUPLICATED]
    assert len(dup) == 2
    for item in dup:
        p = prompt_for(item)
        assert p.extra["letters"] == "ABC" and len(p.extra["option_columns"]) == 3
        assert "\nD) " not in p.messages[-1]["content"]
        assert len(item_options(item, "keep")) == 4
        # "D" is not an option here: no_answer, not incorrect.
        [score] = grade([task(item, "\\boxed{D}")])
        assert score.verdict == "no_answer" and "not one of the options" in score.explanation
        [score] = grade([task(item, f"\\boxed{{{p.extra['gold_letter']}}}")])
        assert score.verdict == "correct"
    keep = CARD.model_copy(update={"options": {**CARD.options, "duplicate_options": "keep"}})
    p = prompt_for(dup[0], card=keep)
    assert p.extra["letters"] == "ABCD"


@pytest.mark.parametrize(("response", "letter"), [
    ("\\boxed{C}", "C"), ("<think>A or B?</think>The answer is \\boxed{\\text{(C)}}.", "C"),
    ("\\boxed{c}", "C"), ("\\boxed{C) 10^-4 eV}", "C"), ("\\boxed{\\textbf{B}}", "B"),
    ("Reasoning...\nAnswer: D", "D"), ("so the answer is (B).", "B"), ("**Answer:** A", "A"),
    # issue 10: case is handled alike in and out of a box; words naming the choice are dropped
    ("Reasoning...\nANSWER: b", "B"), ("so the answer is b", "B"), ("\\boxed{b}", "B"),
    ("\\boxed{\\text{Choice } D}", "D"), ("\\boxed{\\text{Option (C)}}", "C"),
    ("\\boxed{c) 10^-4 eV}", "C"), ("Final answer: option d", "D"), ("\\boxed{A)c}", "A"),
])
def test_letter_extraction(response: str, letter: str) -> None:
    assert extract_letter(response)[0] == letter


@pytest.mark.parametrize(("response", "why"), [
    ("\\boxed{A, C}", "several letters"), ("\\boxed{AC}", "several letters"),
    ("\\boxed{10^-4 eV}", "no choice letter"), ("<think>\\boxed{A}", "never closed"),
    ("The answer is a compound.", "no \\boxed{} letter"), ("I think B is plausible.", "no \\boxed"),
    ("\\boxed{A) or C)}", "several letters"), ("\\boxed{(A) and (C)}", "several letters"),
])
def test_no_letter(response: str, why: str) -> None:
    letter, reason = extract_letter(response)
    assert letter is None and why in reason


@pytest.mark.parametrize("response", [
    "\\boxed{A" + " " * 50_000 + "1}", "answer" + " " * 300_000 + "1", "answer is " + "*" * 300_000,
    "\\boxed{" + "A " * 99 + "1}", "Answer: " * 100_000,
])
def test_letter_reading_is_linear_on_hostile_text(response: str) -> None:
    # These patterns run in the main process: a box of spaces took 15 s with plain quantifiers.
    started = time.monotonic()
    extract_letter(response)
    assert time.monotonic() - started < 1.0


LETTER_OPTIONS = "rec4JrWy7Il8ho5vk"  # options are a-d, naming the planets listed in the question


def shown_texts(item, t: GradeTask) -> list[str]:
    return [item.row[c].strip() for c in t.sample.prompt_extra["option_columns"]]


def test_letter_like_option_texts_are_not_read_as_choice_letters(items) -> None:
    item = next(i for i in items if i.id == LETTER_OPTIONS)
    assert sorted(t for _, t in item_options(item)) == ["a", "b", "c", "d"]
    t = task(item, "")
    texts = shown_texts(item, t)
    # the letter under which the text "c" is shown, and a letter whose text is another letter
    c_at = LETTERS[texts.index("c")]
    other = next(x for x in "ABCD" if texts[LETTERS.index(x)] != x.lower())
    word = texts[LETTERS.index(other)]
    for response in (f"\\boxed{{{word}}}", f"The answer is {word}", f"ANSWER: {word}"):
        letter, why = extract_letter(response, texts)
        assert letter is None and "ambiguous" in why, (response, texts)
    assert extract_letter(f"\\boxed{{{other}}}", texts)[0] == other  # upper case: the choice letter
    assert extract_letter(f"\\boxed{{{c_at}) c}}", texts)[0] == c_at  # letter and its own text
    wrong = next(x for x in "ABCD" if x != c_at)
    letter, why = extract_letter(f"\\boxed{{{wrong}) c}}", texts)
    assert letter is None and "another option" in why
    # items with ordinary option texts keep reading a lower-case letter
    assert extract_letter("\\boxed{b}", ["1", "2", "3", "4"])[0] == "B"


def test_letter_like_option_texts_through_the_grader(items) -> None:
    item = next(i for i in items if i.id == LETTER_OPTIONS)
    t = task(item, "")
    texts = shown_texts(item, t)
    other = next(x for x in "ABCD" if texts[LETTERS.index(x)] != x.lower())
    answered = t.sample.model_copy(update={"response": f"\\boxed{{{texts[LETTERS.index(other)]}}}"})
    [score] = grade([GradeTask(CARD, item, answered)])
    assert score.verdict == "no_answer" and "ambiguous" in score.explanation


def test_verdicts_use_the_recorded_permutation(items) -> None:
    item = items[5]
    tasks = [task(item, "", index=k) for k in range(8)]
    answered = []
    for t in tasks:
        gold = t.sample.prompt_extra["gold_letter"]
        wrong = next(x for x in "ABCD" if x != gold)
        answered += [t.sample.model_copy(update={"response": f"\\boxed{{{gold}}}"}),
                     t.sample.model_copy(update={"response": f"\\boxed{{{wrong}}}"})]
    scores = grade([GradeTask(CARD, item, s) for s in answered])
    assert [s.verdict for s in scores] == ["correct", "incorrect"] * 8
    # extracted is the option text, so maj@k clusters the same choice across permutations.
    assert {s.extracted for s in scores[::2]} == {item.row[CORRECT].strip()}
    for s in scores[::2]:
        assert s.details["letter"] == s.details["gold_letter"]


def test_truncated_and_missing_permutation(items) -> None:
    [score] = grade([task(items[0], "\\boxed{A}", finish="length")])
    assert score.verdict == "truncated"
    t = task(items[0], "\\boxed{A}")
    broken = GradeTask(CARD, items[0], t.sample.model_copy(update={"prompt_extra": {}}))
    [score] = grade([broken])
    assert score.verdict == "grader_error" and "option order" in score.explanation


def test_letter_distributions_in_metrics(items) -> None:
    tasks = [task(i, "\\boxed{A}") for i in items[:50]]
    scores = grade(tasks)
    m = gpqa_metrics(tasks, scores).model_dump()
    assert m["answer_letter_distribution"] == {"A": 50}
    assert sum(m["gold_letter_distribution"].values()) == 50 and len(m["gold_letter_distribution"]) > 1
    assert set(m["accuracy_by_domain"]) <= {"Physics", "Chemistry", "Biology"}


def _zip_with(tmp_path: Path, rows: list[dict]) -> Path:
    """A plain (unencrypted) zip in the official layout; Python cannot write ZipCrypto."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "dataset.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("dataset/gpqa_diamond.csv", buffer.getvalue())
    return path


def test_wrong_password_is_a_clear_error(tmp_path: Path) -> None:
    wrong = CARD.model_copy(update={"options": {**CARD.options, "zip_password": "not-it"}})
    with pytest.raises(DataError, match="cannot decrypt 'dataset/gpqa_diamond.csv'.*zip_password"):
        load_benchmark(wrong)


def test_missing_option_is_a_clear_error(tmp_path: Path, items) -> None:
    row = {k: v for k, v in items[0].row.items() if k is not None}
    broken = {**row, "Record ID": "recBROKEN", "Incorrect Answer 2": "  "}
    path = _zip_with(tmp_path, [row, broken])
    with pytest.raises(DataError, match=r"recBROKEN.*empty column.*Incorrect Answer 2"):
        load_benchmark(CARD, user_path=path)
