"""The GPQA grader: options shuffled per (question, sample, run seed); the answer is a letter.

Policies (also in each Score's explanation):
- options are stripped of stray whitespace, then put in an order derived from a keyed hash of
  (run seed, question id, sample index) alone: no global RNG, no dependence on the order in which
  items or samples are planned, a different order per question and per sample. The order and the
  gold letter are recorded in each sample's `prompt_extra`, so any sample can be re-graded;
- a duplicated option (two Diamond items repeat an incorrect option) is shown once by default
  (card option `duplicate_options = "dedupe"`; `"keep"` shows all four). The gold is never a
  duplicate, so the question is unchanged; such items have three letters, A-C;
- strict reading (the Score's verdict, avg@k): the last \\boxed{} after the reasoning block
  (`\\boxed{C}`, `\\boxed{\\text{(C)}}`), else the last "Answer: C" / "the answer is (C)" line. A
  letter that is not one of the options shown, or several letters, is `no_answer` (counted, with
  the reason);
- lenient reading (details `lenient_verdict`, extra_metrics `readings.lenient`): the same, else the
  final stated option as a careful reader takes it (vt_eval.grading.choice_lenient; an option
  named by its value: vt_eval.grading.choice_values); both readings
  are reported with their no-answer rates, and the claim line uses the card's
  `reference.answer_reading`;
- `extracted` is the chosen option's text (not its letter), so maj@k clusters the same choice
  across samples whose letters differ;
- results.json `extra_metrics.gpqa` has the gold-letter and answer-letter distributions.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from vt_eval.cards import Card
from vt_eval.data import Item
from vt_eval.errors import DataError
from vt_eval.frozen import Frozen
from vt_eval.grading.base import (
    Grader,
    GraderOptions,
    GradeTask,
    GradingOptions,
    Prompt,
)
from vt_eval.grading.choice_lenient import (
    contradicted,
    option_by_text,
    read_lenient,
    two_letters,
)
from vt_eval.grading.choice_letters import LETTERS, NOTHING_FOUND, read_letter
from vt_eval.grading.choice_values import option_by_value
from vt_eval.grading.extract import final_part, last_boxed
from vt_eval.grading.readings import Reading, reading, reading_line
from vt_eval.records import GOLD_CLUSTER, Score

CORRECT = "Correct Answer"
INCORRECT = ("Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
COLUMNS = (CORRECT, *INCORRECT)
PERMUTATION_VERSION = "gpqa-options/v1"


def permutation_key(run_seed: int, item_id: str, sample_index: int) -> str:
    return f"{PERMUTATION_VERSION}/{run_seed}/{item_id}/{sample_index}"


def option_order(n: int, key: str) -> list[int]:
    """A permutation of range(n) that depends on `key` alone (sort by keyed hash)."""
    def rank(i: int) -> bytes:
        return hashlib.blake2b(f"{key}/{i}".encode(), digest_size=16).digest()
    return sorted(range(n), key=rank)


def item_options(item: Item, policy: str = "dedupe") -> list[tuple[str, str]]:
    """(column, text) of the item's options in source order; duplicates dropped if `dedupe`."""
    options: list[tuple[str, str]] = []
    for column in COLUMNS:
        text = str(item.row.get(column) or "").strip()
        if not text:
            raise DataError(f"gpqa item {item.id}: option '{column}' is missing or empty")
        options.append((column, text))
    texts = [t for _, t in options]
    if texts.count(options[0][1]) > 1:
        raise DataError(f"gpqa item {item.id}: the correct answer is also listed as incorrect")
    if policy == "keep":
        return options
    if policy != "dedupe":
        raise DataError(f"gpqa: options.duplicate_options must be 'dedupe' or 'keep', not {policy!r}")
    seen: set[str] = set()
    kept = []
    for column, text in options:
        if text not in seen:
            seen.add(text)
            kept.append((column, text))
    return kept


Mode = Literal["strict", "lenient"]
MODES: tuple[Mode, ...] = ("strict", "lenient")


def extract_letter(response: str, options: Sequence[str] = (),
                   mode: Mode = "strict") -> tuple[str | None, str]:
    """(letter, how) or (None, why there is none). Pass the option texts in the order shown: a
    letter-like option text (an item whose options are `a`-`d`) is not read as a choice letter,
    and the lenient mode matches an answer written as an option's text.

    strict: the format the prompt asks for (vt_eval.grading.choice_letters). lenient: the same,
    else the final stated option as a careful reader takes it (vt_eval.grading.choice_lenient);
    a letter strict refuses (several letters, an ambiguous one) stays refused."""
    letter, how = read_letter(response, options)
    if mode == "strict":
        return letter, how
    final, _ = final_part(response)
    if letter is not None:
        return _checked(letter, how, final or "", options)
    if not how.startswith(NOTHING_FOUND):
        return letter, how
    boxed = last_boxed(final or "").answer
    if boxed is not None and (by_text := option_by_text(boxed, options)) is not None:
        return by_text, "the last box holds an option's full text (lenient)"
    if boxed is not None and (index := option_by_value(boxed, options)) is not None:
        return LETTERS[index], "the last box holds an option's value (lenient)"
    return read_lenient(final or "", options)


def _checked(letter: str, how: str, final: str, options: Sequence[str]) -> tuple[str | None, str]:
    """The lenient check of a letter strict read: a letter that is not an option (`answer
    choices` read as S) gives way to the lenient reading; one written with another option's
    text (`B. <the text of A>`) is no answer."""
    if options and letter not in LETTERS[:len(options)]:
        return read_lenient(final, options)
    if "Answer: X" in how and (why := two_letters(letter, final) or
                               contradicted(letter, final, options)):
        return None, why
    return letter, how


class GPQAOptions(GraderOptions):
    zip_member: str  # the CSV inside the encrypted upstream zip (read by the loader)
    zip_password: str
    # Two Diamond items repeat an incorrect option: "dedupe" shows it once, "keep" shows all four.
    duplicate_options: Literal["dedupe", "keep"] = "dedupe"


class GPQAGrader(Grader):
    name = "gpqa"
    version = "3"  # 3: lenient also reads an option's value and verdicts about an option
    Options = GPQAOptions
    policies = {
        "options": "options shown in a per-(run seed, question, sample) keyed-hash order, recorded "
                   "in each sample",
        "answer": "strict: the last \\boxed{} letter after the reasoning, else the last 'Answer: X' "
                  "line; a letter that is not an option is no_answer",
        "lenient": "reported beside strict: else the final stated option ('the correct option is "
                   "(A)', a last line '**B. 10**', 'Option C', an option's full text or value, "
                   "'option B is the closest'); two letters are no_answer",
        "clusters": "answers vote by the option chosen (its source column), not by its letter",
    }

    def prompt(self, card: Card, item: Item, sample_index: int, run_seed: int) -> Prompt:
        options = item_options(item, self.options(card).duplicate_options)
        key = permutation_key(run_seed, item.id, sample_index)
        shown = [options[i] for i in option_order(len(options), key)]
        block = "\n".join(f"{LETTERS[n]}) {text}" for n, (_, text) in enumerate(shown))
        text = card.prompt.replace("{question}", str(item.question).strip()).replace("{options}", block)
        messages = [{"role": "system", "content": card.system_prompt}] if card.system_prompt else []
        messages.append({"role": "user", "content": text})
        columns = [column for column, _ in shown]
        extra = {"option_columns": columns, "gold_letter": LETTERS[columns.index(CORRECT)],
                 "letters": LETTERS[:len(shown)], "permutation": permutation_key(run_seed, item.id,
                                                                                 sample_index)}
        return Prompt(messages=messages, extra=extra)

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        for task in tasks:
            yield self._grade_one(task)

    def truncated_details(self, task: GradeTask) -> tuple[str | None, dict[str, Any]]:
        extra = task.sample.prompt_extra
        return None, {"gold_letter": extra.get("gold_letter"), "letters": extra.get("letters"),
                      "lenient_verdict": "truncated"}

    def cluster_keys(self, scores: Sequence[Score], options: GradingOptions) -> list[str | None]:
        """Letters differ between samples (each has its own option order): vote by option."""
        return [GOLD_CLUSTER if s.verdict == "correct" else
                f"option:{s.details['option_column']}" if "option_column" in s.details else None
                for s in scores]

    def _grade_one(self, task: GradeTask) -> Score:
        sample = task.sample
        extra = sample.prompt_extra
        columns = extra.get("option_columns")
        if not columns or extra.get("gold_letter") is None:
            return self.score(task, "grader_error", None, "the sample has no recorded option order "
                              "(prompt_extra); regenerate it")
        letters = LETTERS[:len(columns)]
        gold_letter = extra["gold_letter"]
        if CORRECT not in columns or letters[columns.index(CORRECT)] != gold_letter:
            return self.score(task, "grader_error", None, "recorded gold letter does not point at "
                              "the correct answer")
        shown = [str(task.item.row.get(column) or "").strip() for column in columns]
        facts = {"gold_letter": gold_letter, "letters": letters,
                 **self._lenient(sample.response, shown, letters, gold_letter)}
        letter, how = extract_letter(sample.response, shown)
        if letter is None:
            return self.score(task, "no_answer", None, how, **facts)
        if letter not in letters:
            return self.score(task, "no_answer", None, f"letter {letter} is not one of the options "
                              f"{letters[0]}-{letters[-1]} ({how})", letter=letter, **facts)
        column = columns[letters.index(letter)]
        chosen = str(task.item.row.get(column) or "").strip()
        verdict = "correct" if column == CORRECT else "incorrect"
        return self.score(task, verdict, chosen, f"chose {letter} ({column}); gold {gold_letter}; "
                          f"{how}", letter=letter, option_column=column, **facts)

    @staticmethod
    def _lenient(response: str, shown: Sequence[str], letters: str, gold: str) -> dict[str, Any]:
        letter, how = extract_letter(response, shown, mode="lenient")
        verdict = "no_answer" if letter is None or letter not in letters else \
            "correct" if letter == gold else "incorrect"
        return {"lenient_letter": letter, "lenient_verdict": verdict, "lenient_how": how}

    def extra_metrics(self, tasks: Sequence[GradeTask], scores: Sequence[Score]) -> GPQAMetrics:
        return gpqa_metrics(tasks, scores)

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        m = GPQAMetrics.model_validate(metrics)
        return [reading_line(name, r) for name, r in m.readings.items()] + [
            f"gold letters {m.gold_letter_distribution}, answered letters "
            f"{m.answer_letter_distribution}"]


class GPQAMetrics(Frozen):
    readings: dict[str, Reading]  # "strict" (the headline avg@k) and "lenient"
    gold_letter_distribution: dict[str, int]
    answer_letter_distribution: dict[str, int]
    not_correct_by_verdict: dict[str, int]
    accuracy_by_domain: dict[str, float]
    permutation: str


def _lenient_verdict(score: Score) -> str:
    """The lenient verdict; a sample graded without one (an error) keeps its own verdict."""
    return str(score.details.get("lenient_verdict", score.verdict))


def _run_seed(tasks: Sequence[GradeTask]) -> int:
    """The run seed, read back from a sample's permutation key (the bootstrap's seed)."""
    for task in tasks:
        key = str(task.sample.prompt_extra.get("permutation", ""))
        parts = key.removeprefix(PERMUTATION_VERSION + "/").split("/")
        if parts and parts[0].lstrip("-").isdigit():
            return int(parts[0])
    return 0


def gpqa_metrics(tasks: Sequence[GradeTask], scores: Sequence[Score]) -> GPQAMetrics:
    gold = Counter(s.details["gold_letter"] for s in scores if "gold_letter" in s.details)
    answered = Counter(s.details["letter"] for s in scores if "letter" in s.details)
    reasons = Counter(s.verdict for s in scores if s.verdict != "correct")
    domain_of = {t.item.id: str(t.item.row.get("High-level domain", "?")).strip() for t in tasks}
    by_domain: dict[str, list[int]] = {}
    for s in scores:
        counts = by_domain.setdefault(domain_of.get(s.item_id, "?"), [0, 0])
        counts[0] += s.verdict == "correct"
        counts[1] += 1
    seed = _run_seed(tasks)
    readings = {"strict": reading(scores, lambda s: s.verdict, seed),
                "lenient": reading(scores, _lenient_verdict, seed)}
    return GPQAMetrics.model_validate({
        "readings": readings,
        "gold_letter_distribution": dict(sorted(gold.items())),
        "answer_letter_distribution": dict(sorted(answered.items())),
        "not_correct_by_verdict": dict(sorted(reasons.items())),
        "accuracy_by_domain": {d: c / n for d, (c, n) in sorted(by_domain.items())},
        "permutation": f"{PERMUTATION_VERSION}: options sorted by blake2b('{PERMUTATION_VERSION}/"
                       f"<run seed>/<question id>/<sample index>/<option index>')",
    })
