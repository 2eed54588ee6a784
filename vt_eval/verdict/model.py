"""The verdict as one typed model: the JSON `vt-eval verdict --format json` prints, the schema
shipped beside this module (verdict.schema.json, generated from these classes), and the input of
the scorecard's panel and the gate's evidence rules.

Fractions are 0..1. Every line has one of three states; a check that was not run is
`not_checked`, never good news. `no_evidence_found` always carries the check's power.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from vt_eval.frozen import Frozen

SCHEMA_VERSION = 1
State = Literal["evidence_found", "no_evidence_found", "not_checked"]
Question = Literal["claim", "overlap", "freshness", "probes", "reproducibility"]
QUESTIONS: tuple[Question, ...] = ("claim", "overlap", "freshness", "probes", "reproducibility")
TITLES: dict[Question, str] = {
    "claim": "claim vs measured", "overlap": "training overlap", "freshness": "freshness",
    "probes": "memorization probes", "reproducibility": "reproducibility"}
STATE_TEXT: dict[State, str] = {"evidence_found": "evidence found",
                                "no_evidence_found": "no evidence found",
                                "not_checked": "not checked"}


class Interval(Frozen):
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


class Power(Frozen):
    """What a check that found nothing could have found: its sample sizes, the width of its 95%
    CI and the smallest true effect it would detect with 80% power (normal approximation:
    (z_0.975 + z_0.80) x SE, SE = CI width / (2 x 1.96))."""

    items: int
    compared_with: int | None = None  # the other group's items (controls, after the cutoff)
    ci_width: float | None = None
    detectable_effect: float | None = None
    unit: Literal["pp", "raw"] = "pp"  # pp: fractions shown as percentage points
    note: str = ""

    def text(self) -> str:
        def amount(value: float) -> str:
            return f"{100 * value:.1f} pp" if self.unit == "pp" else f"{value:.3f}"
        parts = [f"n={self.items}" + (f" vs {self.compared_with}" if self.compared_with is not None
                                       else "")]
        if self.ci_width is not None:
            parts.append(f"95% CI width {amount(self.ci_width)}")
        if self.detectable_effect is not None and self.unit == "pp" and self.detectable_effect >= 1:
            parts.append("too few items to detect any effect with 80% power")
        elif self.detectable_effect is not None:
            parts.append(f"detects an effect of {amount(self.detectable_effect)} with 80% power")
        return "; ".join(parts + ([self.note] if self.note else []))


class ClaimDetail(Frozen):
    kind: Literal["claim"] = "claim"
    claimed: float | None = None
    source: str | None = None  # "--claim", "config [claims]", "card reference (MODEL)"
    metric: str = "avg@k"  # "avg@k (lenient reading)" when the grader reads answers several ways
    reading: str | None = None  # the card's reference.answer_reading, when the grader has readings
    other_reading: str | None = None  # the headline (Score verdict) reading shown beside it
    other_measured: float | None = None
    other_no_answer_rate: float | None = None
    measured: float | None = None
    ci95: Interval | None = None
    items: int = 0
    k: int = 0
    relation: Literal["consistent", "below", "above"] | None = None  # measured vs the claim


class TrainingFile(Frozen):
    path: str
    sha256: str | None
    rows: int | None


class OverlapDetail(Frozen):
    kind: Literal["overlap"] = "overlap"
    audit: str | None = None
    training_files: list[TrainingFile] = Field(default_factory=list)
    training_rows: int | None = None
    items: int = 0
    question_and_answer: list[str] = Field(default_factory=list)
    question_only: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)  # the training row could not be re-read
    all_items_score: float | None = None
    clean_items: int | None = None
    clean_score: float | None = None
    clean_ci95: Interval | None = None
    difference: float | None = None  # all items - clean subset
    difference_ci95: Interval | None = None


class FreshnessDetail(Frozen):
    kind: Literal["freshness"] = "freshness"
    cutoff: str | None = None
    this_before: int = 0  # this benchmark's items dated on or before the cutoff
    this_after: int = 0
    before_items: int = 0  # every dated item of the run (the test pools benchmarks)
    before_accuracy: float | None = None
    after_items: int = 0
    after_accuracy: float | None = None
    difference: float | None = None  # before - after
    difference_ci95: Interval | None = None
    p_value: float | None = None
    adjusted: float | None = None  # within difficulty strata
    adjusted_ci95: Interval | None = None
    adjusted_p_value: float | None = None
    strata: list[str] = Field(default_factory=list)


class ProbeStatistic(Frozen):
    probe: Literal["completion", "likelihood", "perturbation"]
    statistic: str
    value: float | None  # this benchmark's mean
    difference: float | None  # minus the pooled controls
    difference_ci95: Interval | None
    margin: float
    p_value: float | None
    stands_out: bool
    flagged_items: list[str] = Field(default_factory=list)  # above every control item


class ProbeExample(Frozen):
    """A flagged item as the scorecard shows it: the probe's prompt, the model's continuation."""

    item_id: str
    flagged_by: list[str]
    prompt: str  # completion: the text's prefix at the cut shown; likelihood only: the text
    continuation: str  # the model's greedy continuation ("" when only likelihood was run)
    reference: str  # the true continuation
    scores: dict[str, float]  # this item's value of each statistic that flagged it


class ProbesDetail(Frozen):
    kind: Literal["probes"] = "probes"
    directory: str | None = None
    model: str | None = None
    cutoff: str | None = None
    controls: list[str] = Field(default_factory=list)
    probes_run: list[str] = Field(default_factory=list)
    items: int = 0
    control_items: int = 0
    statistics: list[ProbeStatistic] = Field(default_factory=list)
    examples: list[ProbeExample] = Field(default_factory=list)  # flagged items, the first few


class ReproducibilityDetail(Frozen):
    kind: Literal["reproducibility"] = "reproducibility"
    integrity_verified: bool = False
    problems: list[str] = Field(default_factory=list)
    complete: bool = False
    samples: int = 0
    samples_planned: int = 0
    seed_scheme: str | None = None
    run_seed: int | None = None
    resume_exact: bool | None = None
    resume_reason: str = ""
    engine: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    git_commit: str | None = None
    git_dirty: bool | None = None


Detail = Annotated[ClaimDetail | OverlapDetail | FreshnessDetail | ProbesDetail |
                   ReproducibilityDetail, Field(discriminator="kind")]


class Line(Frozen):
    question: Question
    state: State
    summary: str  # one sentence with the numbers
    reason: str = ""  # not_checked: why, and how to run the check
    power: Power | None = None  # set when state is no_evidence_found
    detail: Detail
    anchor: str  # id of the evidence section on the scorecard

    @property
    def title(self) -> str:
        return TITLES[self.question]

    @property
    def state_text(self) -> str:
        return STATE_TEXT[self.state]


class BenchmarkVerdict(Frozen):
    benchmark: str
    title: str
    lines: list[Line]
    strongest: str  # the closing sentence

    def line(self, question: Question) -> Line:
        return next(line for line in self.lines if line.question == question)


class Inputs(Frozen):
    run: str
    audit: str | None = None
    probes: str | None = None
    freshness: str | None = None
    claims: dict[str, float] = Field(default_factory=dict)  # from --claim (fractions)


class Verdict(Frozen):
    schema_version: Literal[1] = SCHEMA_VERSION
    run_id: str
    created_at: str
    integrity: str  # "verified complete" | "verified partial" | "NOT VERIFIED"
    inputs: Inputs
    benchmarks: list[BenchmarkVerdict]
    notes: list[str] = Field(default_factory=list)  # inputs given but unusable, and why
