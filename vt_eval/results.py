"""results.json: the typed summary of a scored run (the report's only input besides scores)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vt_eval.frozen import Frozen


class ItemResult(Frozen):
    item_id: str
    gold: str
    samples: int
    correct: int
    accuracy: float | None  # None when rules cannot settle this item (needs_judge)
    verdicts: dict[str, int]
    majority_answer: str | None  # records.GOLD_CLUSTER, or the winning cluster's first answer
    majority_correct: bool | None


class SubsetScore(Frozen):
    """The same metrics on a subset of items (e.g. the items with no training overlap)."""

    label: str
    items: int
    excluded_items: list[str]
    avg_at_k: float | None
    ci95: tuple[float, float] | None
    maj_at_k: float | None


class BenchmarkResult(Frozen):
    benchmark: str
    title: str
    grader: str  # tag, e.g. "math/1"
    k: int
    complete: bool
    items_planned: int
    items_scored: int  # items with at least one sample and a rule-settled gold
    items_needing_judge: int
    samples_planned: int
    samples_done: int
    avg_at_k: float | None = Field(description='mean accuracy over samples ("Pass@1")')
    ci95: tuple[float, float] | None
    pass_at_k: dict[str, float]
    maj_at_k: float | None
    verdicts: dict[str, int]
    no_answer_rate: float | None
    truncation_rate: float | None
    ungraded_samples: int  # grader_timeout + grader_error: counted as not correct, shown apart
    mean_response_tokens: float | None
    reference: dict[str, float]
    reference_citation: str
    clean: SubsetScore | None = None
    warnings: list[str]
    per_item: list[ItemResult]
    # Grader- or stage-specific metrics by their name (IFEval's four accuracies, GPQA letter
    # distributions, the judge, CLR), and their one-line summaries for terminal and reports.
    extra_metrics: dict[str, Any] = Field(default_factory=dict)
    summary: list[str] = Field(default_factory=list)


RESULTS_SCHEMA = 2


class RunResults(Frozen):
    schema_version: int = RESULTS_SCHEMA
    run_id: str
    scored_at: str
    graders: dict[str, str]
    policies: dict[str, dict[str, str]]  # by grader tag, plus "metrics" and optional stages
    benchmarks: list[BenchmarkResult]
    warnings: list[str]
