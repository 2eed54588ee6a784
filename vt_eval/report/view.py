"""The scorecard's view model: everything the HTML and Markdown templates show, already computed.

Numbers are fractions (0..1) or None; templates format them with the `pct` filter. Text from the
run (model responses, answers, explanations) is kept as plain strings: the HTML template escapes
it (jinja2 autoescape), the Markdown writer escapes it for tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vt_eval.verdict.model import Verdict

Interval = tuple[float, float]


@dataclass(frozen=True)
class ReferenceRow:
    model: str
    score: float  # fraction
    difference: float | None  # ours - published
    difference_ci: Interval | None  # our CI - published (the published figure has no CI)
    ours: bool = False  # the model this harness reproduces (VibeThinker-3B)


@dataclass(frozen=True)
class SampleView:
    index: int
    verdict: str
    extracted: str | None
    explanation: str
    tail: str
    chars: int
    tokens: int | None
    finish: str


@dataclass(frozen=True)
class ProblemView:
    item_id: str
    gold: str
    accuracy: float | None
    correct: int
    samples: int
    majority_answer: str | None
    majority_correct: bool | None
    verdicts: dict[str, int]
    date: str | None
    contaminated: bool
    sample_views: list[SampleView] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceView:
    """One counting training match for a contaminated item, with the matched span marked."""

    file: str
    row: int
    method: str
    rule: str
    containment: float | None
    before: str  # question text before the matched span
    span: str  # the matched span (highlighted)
    after: str
    row_text: str
    answer_in_row: bool | None  # None: the training row could not be read


@dataclass(frozen=True)
class ContaminatedItem:
    item_id: str
    overlap: str  # "question and answer" | "question only" | "unknown"
    evidence: list[EvidenceView]


@dataclass(frozen=True)
class CleanView:
    label: str
    items: int
    excluded: list[str]
    avg_at_k: float | None
    ci95: Interval | None
    maj_at_k: float | None


@dataclass(frozen=True)
class ContaminationView:
    audit: str
    items: int
    contaminated: int
    question_and_answer: list[ContaminatedItem]
    question_only: list[ContaminatedItem]
    unknown: list[ContaminatedItem]


@dataclass(frozen=True)
class CompareRow:
    benchmark: str
    items: int
    ours: float
    other: float
    difference: float
    ci95: Interval
    p_value: float


@dataclass(frozen=True)
class CompareView:
    other_run: str
    method: str
    rows: list[CompareRow]
    refused: list[str]  # benchmarks not compared, with the reason
    config_differences: list[str]


@dataclass(frozen=True)
class BenchmarkView:
    name: str
    title: str
    grader: str
    judge: str | None
    k: int
    complete: bool
    items_planned: int
    items_scored: int
    items_needing_judge: int
    samples_done: int
    samples_planned: int
    avg_at_k: float | None
    ci95: Interval | None
    pass_at_k: list[tuple[str, float]]
    maj_at_k: float | None
    clr: float | None
    clr_detail: list[tuple[str, str]]
    no_answer_rate: float | None
    truncation_rate: float | None
    ungraded_rate: float | None
    ungraded_samples: int
    mean_tokens: float | None
    references: list[ReferenceRow]
    citation: str
    clean: CleanView | None
    contamination: ContaminationView | None
    problems: list[ProblemView]
    summary: list[str]
    warnings: list[str]
    date_source: str | None

    @property
    def reference(self) -> ReferenceRow | None:
        """The published figure of the reproduced model, if the card has one."""
        return next((r for r in self.references if r.ours), None)


@dataclass(frozen=True)
class Plot:
    title: str
    alt: str
    data_uri: str  # data:image/png;base64,...


@dataclass(frozen=True)
class FreshnessView:
    """Accuracy on items dated before vs after a cutoff (`vt-eval freshness`)."""

    cutoff: str
    created_at: str
    meaning: str
    before_items: int
    before_accuracy: float | None
    after_items: int
    after_accuracy: float | None
    difference: float | None  # before - after
    difference_ci: Interval | None
    p_value: float | None
    adjusted: float | None  # within difficulty strata
    adjusted_ci: Interval | None
    adjusted_p: float | None
    strata: list[str]
    undated: list[str]


@dataclass(frozen=True)
class Scorecard:
    run_id: str
    scored_at: str
    generated_at: str
    status: str  # "complete" | "partial"
    benchmarks: list[BenchmarkView]
    provenance: list[tuple[str, str]]
    policies: list[tuple[str, str]]
    warnings: list[str]
    integrity: list[str]  # results.json problems (empty: consistent)
    compare: CompareView | None = None
    plots: list[Plot] = field(default_factory=list)  # overview plots
    bench_plots: dict[str, list[Plot]] = field(default_factory=dict)  # by benchmark name
    plots_note: str | None = None
    cutoff: str | None = None
    reference_model: str = "VibeThinker-3B"
    freshness: FreshnessView | None = None
    verdict: Verdict | None = None  # the panel the page opens with (vt_eval.verdict)
