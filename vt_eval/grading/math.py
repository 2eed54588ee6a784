"""The math grader: last \\boxed{} after the reasoning, checked with math-verify in a process pool.

Policies (recorded in every Score's explanation and in the README):
- a response that hit max tokens is `truncated`, whatever it contains;
- an answer must be boxed after the reasoning block; an unboxed "the answer is 117" is `no_answer`;
- a decimal that only approximates an exact gold is `incorrect`; a decimal equal to a decimal gold
  (37.5 for 37.50) is an exact value;
- several boxes at the end are read together (vt_eval.grading.extract): against a gold that is a
  list, set or several equations they are one answer; against a single value, several different
  boxed values are `incorrect`;
- `a \\pm b` is read as the set {a+b, a-b} (inside a set, its own element only); connective words
  and units are dropped where the rest is math (vt_eval.grading.math_text); a trailing period
  inside the box is ignored;
- an answer whose text is the gold's text is correct without parsing (`\\text{Evelyn}`);
- golds that rules cannot settle (prose, conditions, functions) make the sample `needs_judge`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from vt_eval.grading.base import Grader, GradeTask, GradingOptions
from vt_eval.grading.extract import Extraction, extract_boxed_answer
from vt_eval.grading.math_text import join_thousands, plain
from vt_eval.grading.pool import PoolResult
from vt_eval.records import GOLD_CLUSTER, Score

WORKER = "vt_eval.grading.math_cluster_worker:grade_and_cluster"
CLUSTER_WORKER = "vt_eval.grading.math_cluster_worker:canonical_answer"

_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z]{3,}")
_FUNCTION_DEF = re.compile(r"\b[A-Za-z]\s*\(\s*[a-z]\s*\)\s*=")
_SUBSCRIPT = re.compile(r"_\s*(?:\{[^{}]*\}|[A-Za-z0-9])")


@lru_cache(maxsize=4096)  # golds and answers repeat across the k samples
def normalise_answer(answer: str) -> str:
    text = answer.strip().strip("$").strip()
    text = re.sub(r"\\[,;!]|\\q?quad", " ", text)
    return plain(text.rstrip(" ."))[0]


@lru_cache(maxsize=4096)
def normalise_gold(gold: str) -> str:
    # Upstream golds carry stray spaces, unbalanced $ and trailing periods (IMO-AnswerBench).
    return plain(gold.strip().replace("$", "").strip().rstrip(".").strip())[0]


@lru_cache(maxsize=4096)
def _units(text: str) -> frozenset[str]:
    return frozenset(plain(text.strip().replace("$", "").strip().rstrip(" ."))[1])


def _loose_text(text: str) -> str:
    return re.sub(r"[\s$.]|\\[,;! ]", "", text).casefold()


@lru_cache(maxsize=4096)
def judge_reason(gold: str) -> str | None:
    """Why rules cannot settle answers to this gold, or None when they can."""
    text = _LATEX_COMMAND.sub(" ", _SUBSCRIPT.sub(" ", normalise_gold(gold)))
    text = re.sub(r"\\text\s*\{[^}]*\}", " ", text)
    words = _WORD.findall(text)
    if words:
        return f"gold answer is prose ({' '.join(words[:4])}...): needs an LLM judge"
    if _FUNCTION_DEF.search(normalise_gold(gold)):
        return "gold answer is a function: needs an LLM judge"
    if "!!" in gold:
        return "gold answer uses a double factorial, which the parser misreads: needs an LLM judge"
    return None


def _distinct_parts(found: Extraction) -> tuple[str, ...]:
    """The boxes of the final answer, repeats of the same text dropped."""
    parts = found.parts or (found.answer or "",)
    seen: dict[str, str] = {}
    for part in parts:
        seen.setdefault(" ".join(part.split()), part)
    return tuple(seen.values())


class MathGrader(Grader):
    name = "math"
    version = "2"
    policies = {
        "answer": "last \\boxed{} after the reasoning block; unboxed answers are no_answer",
        "truncation": "a response that hit max tokens is truncated (not correct), whatever it holds",
        "decimals": "a decimal approximating an exact gold is incorrect; a decimal equal to a "
                    "decimal gold is exact (37.5 = 37.50)",
        "several_boxes": "boxes at the end joined by separators or and/or are one answer: a list "
                         "for list/set/equation-system golds; different values for a single-value "
                         "gold are incorrect",
        "units": "connectives and units are dropped where the rest is math; a different unit "
                 "than the gold's goes to the judge",
        "percent": "an answer x% whose gold is written without % is also read as x (40% answers "
                   "'what percent' with gold 40)",
        "identities": "a true numeric identity (1296 = 2^4 \\cdot 3^4) stands for its value; a "
                      "false one (78 = 77) is incorrect",
        "ungraded": "grader_timeout/grader_error count as not correct and are shown apart",
        "needs_judge": "items whose gold rules cannot settle are left out of the metrics and counted",
        "clusters": "answers vote by canonical form (math-verify parse, exact numbers, simplified "
                    "expressions): 1/2, 0.5 and \\frac{1}{2} are one answer",
    }

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        pending: dict[tuple[str, str], list[tuple[GradeTask, str]]] = {}
        for task in tasks:
            settled = self._settle_without_math(task)
            if isinstance(settled, Score):
                yield settled
                continue
            key = (normalise_gold(task.item.answer), settled)
            pending.setdefault(key, []).append((task, settled))
        if not pending:
            return
        pairs = list(pending)
        with self.worker_pool(options) as pool:
            for result in pool.map(WORKER, pairs):
                for task, answer in pending[pairs[result.index]]:
                    yield self._from_result(task, answer, result)

    def truncated_details(self, task: GradeTask) -> tuple[str | None, dict[str, Any]]:
        return extract_boxed_answer(task.sample.response).answer, {}

    def _settle_without_math(self, task: GradeTask) -> Score | str | tuple[str, ...]:
        """A Score when no math is needed, else the normalised extracted answer (a tuple of
        answers when several different boxes are read together)."""
        found = extract_boxed_answer(task.sample.response)
        if found.answer is None:
            return self.score(task, "no_answer", None, found.reason)
        parts = _distinct_parts(found)
        gold = task.item.answer
        reason = judge_reason(gold)
        if reason and len(parts) == 1 and _loose_text(parts[0]) == _loose_text(gold):
            return self.score(task, "correct", found.answer, f"answer is the gold as written "
                              f"({found.reason})")
        if reason:
            return self.score(task, "needs_judge", found.answer, reason)
        units, gold_units = set().union(*map(_units, parts)), _units(gold)
        if units - gold_units and gold_units:
            return self.score(task, "needs_judge", found.answer, f"answer unit {sorted(units)} "
                              f"is not the gold's {sorted(gold_units)}: needs an LLM judge")
        answers = tuple(normalise_answer(join_thousands(part, gold)) for part in parts)
        return answers[0] if len(answers) == 1 else answers

    def _from_result(self, task: GradeTask, answer: str | tuple[str, ...],
                     result: PoolResult) -> Score:
        failed = self.from_pool_failure(task, answer if isinstance(answer, str) else
                                        ", ".join(answer), result, "math-verify")
        if failed is not None:
            return failed
        verdict, explanation, parsed, canonical = result.value
        shown = answer if isinstance(answer, str) else ", ".join(answer)
        score = self.score(task, verdict, shown, explanation, answer_parsed=parsed)
        return score.model_copy(update={"cluster": canonical}) if canonical else score

    def cluster_keys(self, scores: Sequence[Score], options: GradingOptions) -> list[str | None]:
        """Canonical forms come with the grading result; only answers graded without one
        (timeouts, errors) get a separate clustering pass."""
        keys = [s.cluster if s.cluster and s.verdict == "incorrect" else self.default_cluster(s)
                for s in scores]
        wanted = sorted({normalise_answer(s.extracted) for s, k in zip(scores, keys)
                         if k is not None and k != GOLD_CLUSTER and s.extracted and not s.cluster})
        if not wanted:
            return keys
        canonical: dict[str, str] = {}
        with self.worker_pool(options) as pool:
            for result in pool.map(CLUSTER_WORKER, wanted):
                if result.status == "ok" and result.value:
                    canonical[wanted[result.index]] = result.value
        return [canonical.get(normalise_answer(s.extracted), k) if k not in (None, GOLD_CLUSTER)
                and s.extracted and not s.cluster else k for s, k in zip(scores, keys)]
