"""What a grader is: it builds a sample's prompt and turns samples into Scores.

A grader is a class with a name and a version (bump the version whenever a verdict could change),
listed in `vt_eval.grading.GRADERS`; cards name them. Everything grader-specific lives on the class:
- `Options`: the pydantic model of the card's `[options]` table (validated at plan time);
- `select_items`: which items of the benchmark a run evaluates (e.g. code date windows);
- `prompt`: the messages of one sample;
- `grade_answers`: verdicts for samples that finished (truncation is handled here, in the base);
- `cluster_keys`: "same answer" by the benchmark's own equivalence (maj@k and CLR vote over it);
- `policies`, `extra_metrics` and `summary_lines`: what results.json and the reports say about it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from vt_eval.cards import Card
from vt_eval.config import RunSection
from vt_eval.data import Item
from vt_eval.errors import ConfigError
from vt_eval.frozen import Frozen
from vt_eval.grading.pool import PoolResult, TimeoutPool
from vt_eval.records import GOLD_CLUSTER, Sample, Score


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    extra: dict[str, Any]


@dataclass(frozen=True)
class GradeTask:
    card: Card
    item: Item
    sample: Sample


@dataclass(frozen=True)
class GradingOptions:
    """Knobs every grader receives. Defaults documented here are the run defaults."""

    timeout_s: float = 10.0  # per sample, enforced at a process boundary
    workers: int = 2  # grading processes
    unsafe_no_sandbox: bool = False  # code graders only: run programs without bubblewrap
    # One pool shared by every grader of a run (None: a grader starts its own).
    pool: TimeoutPool | None = field(default=None, compare=False, repr=False)


class GraderOptions(Frozen):
    """Card options every grader understands; graders extend this model."""

    judge: Literal["on", "off"] = "on"  # "off": rules settle every sample, no LLM judge


class Grader:
    name: ClassVar[str] = "base"
    version: ClassVar[str] = "0"
    Options: ClassVar[type[GraderOptions]] = GraderOptions
    policies: ClassVar[Mapping[str, str]] = {}

    @property
    def tag(self) -> str:
        return f"{self.name}/{self.version}"

    def options(self, card: Card) -> Any:
        """The card's [options], validated by this grader's Options model."""
        try:
            return self.Options.model_validate(card.options)
        except ValidationError as exc:
            problems = "; ".join(f"options.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"benchmark card {card.name} ({self.tag}): {problems}") from exc

    def select_items(self, card: Card, items: Sequence[Item], run: RunSection) -> list[Item]:
        """Which items a run evaluates (before --limit). Default: all, in file order."""
        return list(items)

    def prompt(self, card: Card, item: Item, sample_index: int, run_seed: int) -> Prompt:
        """Default: the card's template as one user turn (plus the card's system prompt)."""
        messages = [{"role": "system", "content": card.system_prompt}] if card.system_prompt else []
        messages.append({"role": "user", "content": card.render_prompt(item.question)})
        return Prompt(messages=messages, extra={})

    def grade(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        """Truncated samples are `truncated` whatever they hold; the rest go to grade_answers.
        Every Score gets its cluster key."""
        finished = []
        for task in tasks:
            if task.sample.finish_reason == "length":
                yield self.with_clusters([self.truncated(task)], options)[0]
            else:
                finished.append(task)
        if finished:
            scores = list(self.grade_answers(finished, options))
            yield from self.with_clusters(scores, options)

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        raise NotImplementedError

    def truncated(self, task: GradeTask) -> Score:
        extracted, details = self.truncated_details(task)
        return self.score(task, "truncated", extracted, f"generation hit max tokens after "
                          f"{task.sample.completion_tokens} tokens", **details)

    def truncated_details(self, task: GradeTask) -> tuple[str | None, dict[str, Any]]:
        """What a truncated sample's Score still shows (its answer so far, grader facts)."""
        return None, {}

    def with_clusters(self, scores: list[Score], options: GradingOptions) -> list[Score]:
        keys = self.cluster_keys(scores, options)
        return [s.model_copy(update={"cluster": k}) for s, k in zip(scores, keys, strict=True)]

    def cluster_keys(self, scores: Sequence[Score], options: GradingOptions) -> list[str | None]:
        """Correct answers share the gold's cluster; other answers cluster by whitespace- and
        case-folded text; samples without an answer (no_answer, truncated, needs a judge) vote
        for nothing."""
        return [self.default_cluster(s) for s in scores]

    @staticmethod
    def default_cluster(score: Score) -> str | None:
        if score.verdict == "correct":
            return GOLD_CLUSTER
        if score.verdict in ("incorrect", "grader_timeout", "grader_error") and score.extracted:
            return " ".join(score.extracted.split()).casefold()
        return None

    def extra_metrics(self, tasks: Sequence[GradeTask], scores: Sequence[Score]) -> BaseModel | None:
        """Benchmark-level metrics beyond avg@k (results.json extra_metrics[<grader name>])."""
        return None

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        """One-line summaries of this grader's extra metrics, for the terminal and the reports."""
        return []

    def provenance(self, scores: Sequence[Score]) -> dict[str, Any]:
        """How this grader ran (e.g. the sandbox mode), for the grade stage's manifest report."""
        return {}

    @contextmanager
    def worker_pool(self, options: GradingOptions) -> Iterator[TimeoutPool]:
        if options.pool is not None:
            yield options.pool
            return
        with TimeoutPool(options.workers, options.timeout_s) as pool:
            yield pool

    def from_pool_failure(self, task: GradeTask, answer: str | None, result: PoolResult,
                          what: str, **details: Any) -> Score | None:
        """grader_timeout / grader_error for a pool task that did not finish, else None."""
        if result.status == "timeout":
            return self.score(task, "grader_timeout", answer, f"{what}: {result.error}", **details)
        if result.status != "ok":
            return self.score(task, "grader_error", answer, f"{what} failed: {result.error}",
                              **details)
        return None

    def score(self, task: GradeTask, verdict: str, extracted: str | None, explanation: str,
              **details: Any) -> Score:
        """Build a Score for `task` (helper for subclasses)."""
        s = task.sample
        return Score(benchmark=s.benchmark, item_id=s.item_id, sample_index=s.sample_index,
                     verdict=verdict, extracted=extracted, gold=task.item.answer,
                     explanation=explanation, grader=self.tag, details=details)
