"""The IFEval grader: lm-eval's instruction checkers (strict and loose) on the final answer.

Policies (also in each Score's explanation):
- the reasoning block is stripped first; a response whose reasoning never closed, or with nothing
  after it, is `no_answer` (counted, and every instruction counts as not followed);
- a response that hit max tokens is `truncated` (every instruction counts as not followed);
- verdict `correct` = every instruction followed under the strict check (prompt-level strict, the
  number vendors report), so avg@k is prompt-level strict accuracy;
- all four metrics (prompt/instruction x strict/loose) and per-instruction-type accuracy are
  computed over samples and stored in results.json `extra_metrics`;
- instructions are scored per list position (17 rows repeat an id with different kwargs).
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from vt_eval.cards import Card
from vt_eval.data import Item
from vt_eval.errors import DataError
from vt_eval.frozen import Frozen
from vt_eval.grading.base import Grader, GradeTask, GradingOptions, Prompt
from vt_eval.grading.extract import final_part
from vt_eval.grading.pool import TimeoutPool
from vt_eval.ifeval.checks import IFEvalRow, IFEvalRowError, parse_row, randomised_args
from vt_eval.records import Score

WORKER = "vt_eval.ifeval.checks:run_checks"
# Upstream rows whose checker arguments lm-eval replaces by a random letter ("#", "!"): graded with
# a per-row seeded draw (reproducible) and flagged in the Score and in extra_metrics.
RANDOMISING_ROWS = frozenset({"1122", "1129"})
LETTER_INSTRUCTION = "keywords:letter_frequency"


def ifeval_row(item: Item) -> IFEvalRow:
    """The item's checker arguments; unknown instruction ids and bad kwargs are a DataError."""
    from vt_eval.ifeval.runtime import registry

    try:
        return parse_row(item.row, registry())
    except IFEvalRowError as exc:
        raise DataError(f"ifeval item {item.id}: {exc}") from exc


class IFEvalGrader(Grader):
    name = "ifeval"
    version = "1"

    def prompt(self, card: Card, item: Item, sample_index: int, run_seed: int) -> Prompt:
        ifeval_row(item)  # fail at plan time, before any generation, on rows we cannot grade
        return super().prompt(card, item, sample_index, run_seed)

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        pending: list[tuple[GradeTask, IFEvalRow, str]] = []
        for task in tasks:
            try:
                row = ifeval_row(task.item)
            except DataError as exc:
                yield self.score(task, "grader_error", None, str(exc))
                continue
            settled = self._settle_without_checks(task, row)
            if isinstance(settled, Score):
                yield settled
            else:
                pending.append((task, row, settled))
        if not pending:
            return
        with self.worker_pool(options) as pool:
            letters = letter_outcomes(pool, [(row, text) for _, row, text in pending])
            for result in pool.map(WORKER, (row.payload(text) for _, row, text in pending)):
                task, row, text = pending[result.index]
                score = self._from_result(task, row, text, result)
                if result.index in letters:
                    score = score.model_copy(update={"details": {
                        **score.details, "by_letter": letters[result.index]}})
                yield score

    def truncated(self, task: GradeTask) -> Score:
        try:
            row = ifeval_row(task.item)
        except DataError as exc:
            return self.score(task, "grader_error", None, str(exc))
        failed = [False] * len(row.instruction_ids)
        return self.score(task, "truncated", None, f"generation hit max tokens after "
                          f"{task.sample.completion_tokens} tokens; no instruction counts as "
                          f"followed", instructions=list(row.instruction_ids), strict=failed,
                          loose=failed)

    def _settle_without_checks(self, task: GradeTask, row: IFEvalRow) -> Score | str:
        sample = task.sample
        failed = [False] * len(row.instruction_ids)
        final, where = final_part(sample.response)
        if final is None or not final.strip():
            why = where if final is None else f"nothing after the reasoning ({where})"
            return self.score(task, "no_answer", None, f"no final answer: {why}; no instruction "
                              f"counts as followed", instructions=list(row.instruction_ids),
                              strict=failed, loose=failed, no_final_part=True)
        return final.strip()

    def _from_result(self, task: GradeTask, row: IFEvalRow, text: str, result: Any) -> Score:
        ids = list(row.instruction_ids)
        excerpt = text[:200]
        if result.status != "ok":
            verdict = "grader_timeout" if result.status == "timeout" else "grader_error"
            failed_all = [False] * len(ids)  # counted as not followed, like avg@k does
            return self.score(task, verdict, excerpt, f"lm-eval checkers: {result.error}",
                              instructions=ids, strict=failed_all, loose=failed_all, ungraded=True)
        strict, loose = result.value["strict"], result.value["loose"]
        failed = [i for i, ok in zip(ids, strict) if not ok]
        explanation = (f"strict: {sum(strict)}/{len(ids)} instructions followed, loose: "
                       f"{sum(loose)}/{len(ids)}")
        if failed:
            explanation += f"; not followed (strict): {', '.join(failed)}"
        extra = {"randomised_args": randomised_args(row)} if row.key in RANDOMISING_ROWS else {}
        if extra:
            explanation += f"; checker drew a random argument: {extra['randomised_args']}"
        return self.score(task, "incorrect" if failed else "correct", excerpt, explanation,
                          instructions=ids, strict=strict, loose=loose, **extra)

    def extra_metrics(self, tasks: Sequence[GradeTask], scores: Sequence[Score]) -> IFEvalMetrics | None:
        return ifeval_metrics(scores)

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        m = IFEvalMetrics.model_validate(metrics)
        accuracies = (m.prompt_level_strict_acc, m.prompt_level_loose_acc, m.inst_level_strict_acc,
                      m.inst_level_loose_acc)
        lines = ["IFEval prompt strict {:.1f}% / loose {:.1f}%, instruction strict {:.1f}% / loose "
                 "{:.1f}%; no final answer {}".format(*(100 * a for a in accuracies),
                                                      m.no_final_answer)]
        if m.letter_draw_range:
            spans = ", ".join(f"{name} {100 * lo:.1f}–{100 * hi:.1f}%"
                              for name, (lo, hi) in m.letter_draw_range.items())
            lines.append(f"rows {'/'.join(sorted(RANDOMISING_ROWS))} draw a random letter in "
                         f"lm-eval; over all 26 letters: {spans}")
        return lines


class InstructionTypeAccuracy(Frozen):
    n: int
    strict_acc: float
    loose_acc: float


class IFEvalMetrics(Frozen):
    """lm-eval's four accuracies over samples, per instruction type, and what could not be graded."""

    samples: int
    samples_ungraded: int
    prompt_level_strict_acc: float
    prompt_level_loose_acc: float
    inst_level_strict_acc: float
    inst_level_loose_acc: float
    instructions: int
    no_final_answer: int
    truncated: int
    per_instruction_type: dict[str, InstructionTypeAccuracy]
    checker: str
    randomised_checker_args: list[str]
    # Rows 1122/1129: lm-eval draws a random letter; (min, max) of each accuracy over all 26.
    letter_draw_range: dict[str, tuple[float, float]] | None = None


def letter_outcomes(pool: TimeoutPool, pending: Sequence[tuple[IFEvalRow, str]]
                    ) -> dict[int, dict[str, tuple[bool, bool, int, int]]]:
    """For the rows whose checker draws a random letter: the outcome under every letter a-z,
    as (prompt strict, prompt loose, instructions strict, instructions loose) per letter."""
    jobs = [(index, letter) for index, (row, _) in enumerate(pending) if row.key in RANDOMISING_ROWS
            for letter in string.ascii_lowercase]
    if not jobs:
        return {}
    payloads = [_with_letter(pending[index][0].payload(pending[index][1]), letter)
                for index, letter in jobs]
    out: dict[int, dict[str, tuple[bool, bool, int, int]]] = {}
    for result in pool.map(WORKER, payloads):
        if result.status != "ok":
            continue  # the range then covers fewer letters; the seeded value is unaffected
        index, letter = jobs[result.index]
        strict, loose = result.value["strict"], result.value["loose"]
        out.setdefault(index, {})[letter] = (all(strict), all(loose), sum(strict), sum(loose))
    return out


def _with_letter(payload: dict[str, Any], letter: str) -> dict[str, Any]:
    kwargs = [{**k, "letter": letter} if inst == LETTER_INSTRUCTION else k
              for inst, k in zip(payload["ids"], payload["kwargs"])]
    return {**payload, "kwargs": kwargs}


def letter_ranges(graded: Sequence[Score], totals: tuple[int, int, int, int]
                  ) -> dict[str, tuple[float, float]] | None:
    """Range of the four accuracies over every letter the random draw could have picked."""
    by_row: dict[str, list[Score]] = {}
    for s in graded:
        if s.details.get("by_letter"):
            by_row.setdefault(s.item_id, []).append(s)
    if not by_row:
        return None
    seeded = [0, 0, 0, 0]
    low, high = [0, 0, 0, 0], [0, 0, 0, 0]
    for samples in by_row.values():
        for s in samples:
            st, lo = s.details["strict"], s.details["loose"]
            for m, value in enumerate((all(st), all(lo), sum(st), sum(lo))):
                seeded[m] += int(value)
        letters = set.intersection(*(set(s.details["by_letter"]) for s in samples))
        for m in range(4):
            row_totals = [sum(int(s.details["by_letter"][x][m]) for s in samples) for x in letters]
            low[m] += min(row_totals)
            high[m] += max(row_totals)
    names = ("prompt_level_strict_acc", "prompt_level_loose_acc", "inst_level_strict_acc",
             "inst_level_loose_acc")
    denominators = (len(graded), len(graded), totals[2], totals[3])
    return {names[m]: ((totals[m] - seeded[m] + low[m]) / denominators[m],
                       (totals[m] - seeded[m] + high[m]) / denominators[m]) for m in range(4)}


def ifeval_metrics(scores: Sequence[Score]) -> IFEvalMetrics | None:
    """lm-eval's four accuracies over samples, plus per-instruction-type accuracy."""
    graded = [s for s in scores if "strict" in s.details and "loose" in s.details]
    if not graded:
        return None
    inst_strict = [ok for s in graded for ok in s.details["strict"]]
    inst_loose = [ok for s in graded for ok in s.details["loose"]]
    per_type: dict[str, Counter[str]] = {}
    for s in graded:
        for inst, st, lo in zip(s.details["instructions"], s.details["strict"], s.details["loose"]):
            counts = per_type.setdefault(inst, Counter())
            counts["n"] += 1
            counts["strict"] += bool(st)
            counts["loose"] += bool(lo)
    return IFEvalMetrics.model_validate({
            "samples": len(graded),
            "samples_ungraded": sum(bool(s.details.get("ungraded")) for s in graded)
            + len(scores) - len(graded),
            "prompt_level_strict_acc": sum(all(s.details["strict"]) for s in graded) / len(graded),
            "prompt_level_loose_acc": sum(all(s.details["loose"]) for s in graded) / len(graded),
            "inst_level_strict_acc": sum(inst_strict) / len(inst_strict),
            "inst_level_loose_acc": sum(inst_loose) / len(inst_loose),
            "instructions": len(inst_strict),
            "no_final_answer": sum(bool(s.details.get("no_final_part")) for s in graded),
            "truncated": sum(s.verdict == "truncated" for s in graded),
            "per_instruction_type": {
                inst: {"n": c["n"], "strict_acc": c["strict"] / c["n"],
                       "loose_acc": c["loose"] / c["n"]}
                for inst, c in sorted(per_type.items())
            },
            "checker": "lm-eval 0.4.13 lm_eval.tasks.ifeval (strict + loose)",
            "randomised_checker_args": sorted({f"{s.item_id}: {a}" for s in graded
                                               for a in s.details.get("randomised_args", [])}),
            "letter_draw_range": letter_ranges(graded, (
                sum(all(s.details["strict"]) for s in graded),
                sum(all(s.details["loose"]) for s in graded), len(inst_strict), len(inst_loose))),
    })
