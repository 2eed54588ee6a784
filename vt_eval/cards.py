"""Benchmark cards: one TOML file per benchmark under `benchmarks/`.

A card is data, not code: source and pinned revision, the local snapshot, field mapping, prompt
template, grader name, default k and the published reference scores. Adding a benchmark that reuses
an existing grader is one new card file.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from vt_eval.errors import ConfigError
from vt_eval.frozen import Frozen
from vt_eval.resources import resource_dir
from vt_eval.suggest import did_you_mean


class Source(Frozen):
    """Where real users get the data: a Hugging Face dataset or a git repository, pinned."""

    hf_repo: str | None = None
    hf_config: str | None = None
    repo: str | None = None
    path: str | None = None
    revision: str
    split: str = "train"
    license: str


class LocalFile(Frozen):
    """The snapshot shipped with vt-eval (path relative to `benchmarks/`)."""

    file: str
    format: Literal["jsonl", "csv", "json", "parquet", "zip"]
    sha256: str


class Fields(Frozen):
    """Which column holds what. `required` columns must be present and non-empty in every row."""

    id: str
    question: str
    answer: str
    required: tuple[str, ...] = ()


class Reference(Frozen):
    """Published scores. `answer_reading` says how the publishers read the answers behind those
    figures: "lenient" (the final stated option, as published chat-model figures are usually
    graded: an LLM or a forgiving parser) or "strict" (only the format the prompt asks for). A
    grader with several readings (GPQA) reports each; the claim is compared with the matching one
    (results.json `extra_metrics.<grader>.readings.<answer_reading>`, else the headline avg@k)."""

    citation: str
    scores: dict[str, float] = Field(default_factory=dict)
    answer_reading: Literal["strict", "lenient"] = "lenient"


class Released(Frozen):
    """When a benchmark's items became public (`vt-eval freshness`, the probes' post-cutoff
    controls). `date` is the earliest; `parts` maps integer item-id ranges ("16-30") to their own
    date (AIME I/II); `field` names a row column holding each item's own date (contest dates).
    `difficulty_field` (a row column) or `position_bucket` (problems per difficulty band, by
    position within a part) give the freshness test its difficulty strata. `source`: where the
    dates come from."""

    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    parts: dict[str, str] = Field(default_factory=dict)
    field: str | None = None
    difficulty_field: str | None = None
    position_bucket: int = Field(0, ge=0)
    source: str


class Card(Frozen):
    name: str
    title: str
    suites: tuple[str, ...]
    grader: str
    k: int = Field(gt=0)
    prompt: str
    system_prompt: str | None = None
    on_malformed: Literal["skip", "error"] = "error"
    source: Source
    local: LocalFile
    fields: Fields
    known_bad: dict[str, str] = Field(default_factory=dict)
    reference: Reference
    # Free-form settings a grader or loader of this benchmark reads (documented by that grader).
    options: dict[str, object] = Field(default_factory=dict)
    released: Released | None = None  # when the items became public (see Released)

    def render_prompt(self, question: str) -> str:
        # Not str.format: questions and templates are full of LaTeX braces.
        return self.prompt.replace("{question}", question)

    @property
    def local_path(self) -> Path:
        return cards_dir() / self.local.file


def cards_dir() -> Path:
    return resource_dir("benchmarks")


def load_card(path: Path) -> Card:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"benchmark card {path}: invalid TOML: {exc}") from exc
    try:
        card = Card.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"benchmark card {path}: {problems}") from exc
    if card.name != path.stem:
        raise ConfigError(f"benchmark card {path}: name '{card.name}' must equal the file name")
    return card


@cache
def all_cards() -> dict[str, Card]:
    """Every card shipped with this installation, by name."""
    return {p.stem: load_card(p) for p in sorted(cards_dir().glob("*.toml"))}


def suites() -> dict[str, list[str]]:
    """Suite name -> benchmark names (plus the suite 'all')."""
    out: dict[str, list[str]] = {}
    for card in all_cards().values():
        for suite in card.suites:
            out.setdefault(suite, []).append(card.name)
    out["all"] = list(all_cards())
    return out


def get_card(name: str) -> Card:
    cards = all_cards()
    if name not in cards:
        raise ConfigError(f"unknown benchmark '{name}'{did_you_mean(name, cards)}; "
                          f"known: {', '.join(cards)}")
    return cards[name]


def select_cards(suite: str | None, benchmarks: tuple[str, ...] = ()) -> list[Card]:
    """Resolve `--suite` and `--benchmarks` (benchmarks win when both are given)."""
    if benchmarks:
        return [get_card(b) for b in benchmarks]
    known = suites()
    name = suite or "math"
    if name not in known:
        raise ConfigError(f"unknown suite '{name}'{did_you_mean(name, known)}; "
                          f"known: {', '.join(sorted(known))}")
    return [get_card(b) for b in known[name]]
