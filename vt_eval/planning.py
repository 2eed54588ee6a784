"""The plan: which benchmarks, items and k a run evaluates, and every sample's prompt and seed.

plan.json (a `PlanRecord`) is written by the plan stage and read by every later stage: it names
each benchmark's items and k and the exact data file (sha256-verified on every reload), so later
stages never re-derive the plan from flags.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vt_eval.cards import Card, get_card, select_cards
from vt_eval.config import EvalConfig
from vt_eval.data import Item, LoadedBenchmark, load_benchmark
from vt_eval.errors import DataError
from vt_eval.frozen import Frozen
from vt_eval.grading import get_grader
from vt_eval.grading.base import Prompt
from vt_eval.seeds import CURRENT_SCHEME, derive_seed
from vt_eval.util import sha256_text

PLAN_SCHEMA = 1


class PlannedBenchmark(Frozen):
    name: str
    grader: str  # tag, e.g. "math/1"
    k: int
    item_ids: list[str]
    dataset: dict[str, Any]  # LoadedBenchmark.provenance(): location, sha256, revision, problems


class PlanRecord(Frozen):
    schema_version: int = PLAN_SCHEMA
    fingerprint: str  # of the settings that shape the plan: a different one means re-plan
    run_seed: int
    seed_scheme: str = CURRENT_SCHEME
    benchmarks: list[PlannedBenchmark]
    skipped: dict[str, str] = {}

    def sample_count(self) -> int:
        return sum(len(b.item_ids) * b.k for b in self.benchmarks)


@dataclass(frozen=True)
class PlannedSample:
    card: Card
    item: Item
    sample_index: int
    seed: int
    prompt: Prompt

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.card.name, self.item.id, self.sample_index)


@dataclass(frozen=True)
class PlannedData:
    """One planned benchmark with its items loaded back (only the planned ones, in plan order)."""

    loaded: LoadedBenchmark
    k: int

    @property
    def card(self) -> Card:
        return self.loaded.card


def plan_fingerprint(config: EvalConfig, data_dir: Path | None) -> str:
    shaping = {"run": config.run.model_dump(mode="json", exclude={"out"}),
               "seed": config.sampling.seed, "data_dir": str(data_dir) if data_dir else None}
    return sha256_text(json.dumps(shaping, sort_keys=True)) or ""


def load_selected(config: EvalConfig, data_dir: Path | None
                  ) -> tuple[list[LoadedBenchmark], dict[str, str]]:
    """The run's benchmarks, and those of its suite that had to be skipped (name -> why).

    A benchmark named with --benchmarks must load. One that comes with a suite and whose data is
    not available (LiveCodeBench is not shipped) is skipped with the reason recorded and shown."""
    cards = select_cards(config.run.suite, config.run.benchmarks)
    loaded: list[LoadedBenchmark] = []
    skipped: dict[str, str] = {}
    for card in cards:
        try:
            loaded.append(load_benchmark(card, data_dir, allow_download=bool(config.run.benchmarks)))
        except DataError as exc:
            if config.run.benchmarks:
                raise
            skipped[card.name] = str(exc)
    if not loaded:
        raise DataError("no benchmark of the suite could be loaded:\n  " + "\n  ".join(skipped.values()))
    return loaded, skipped


def make_plan(config: EvalConfig, benchmarks: list[LoadedBenchmark], skipped: dict[str, str],
              data_dir: Path | None) -> PlanRecord:
    planned = []
    for loaded in benchmarks:
        card = loaded.card
        grader = get_grader(card.grader)
        grader.options(card)  # a card with bad options fails here, before any generation
        items = grader.select_items(card, loaded.items, config.run)
        items = items[: config.run.limit] if config.run.limit else items
        planned.append(PlannedBenchmark(name=card.name, grader=grader.tag,
                                        k=config.run.samples or card.k,
                                        item_ids=[i.id for i in items],
                                        dataset=loaded.provenance()))
    return PlanRecord(fingerprint=plan_fingerprint(config, data_dir), run_seed=config.sampling.seed,
                      benchmarks=planned, skipped=skipped)


def read_plan(path: Path) -> PlanRecord | None:
    if not path.is_file():
        return None
    try:
        return PlanRecord.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise DataError(f"{path}: not a plan this vt-eval can read "
                        f"({exc.errors()[0]['msg']}); delete it to re-plan") from exc


def require_plan(run_dir: Path) -> PlanRecord:
    """The run's plan.json, or a DataError saying that the plan stage has not run."""
    plan = read_plan(run_dir / "plan.json")
    if plan is None:
        raise DataError(f"{run_dir}: no plan.json; the plan stage must run first "
                        f"(`vt-eval score {run_dir}` makes it)")
    return plan


def reload_recorded(name: str, info: dict[str, Any]) -> LoadedBenchmark:
    """The exact data file a run recorded (manifest or plan), verified by sha256."""
    card = get_card(name)
    location = Path(info["location"]) if info.get("source_kind") == "user-path" else None
    if location is not None and not location.is_file():
        raise DataError(f"{name}: the run's data file {location} is gone; put it back to re-score")
    loaded = load_benchmark(card, user_path=location)
    if info.get("sha256") and loaded.sha256 != info["sha256"]:
        raise DataError(f"{name}: the data file now has sha256 {loaded.sha256[:12]}…, the run "
                        f"used {info['sha256'][:12]}… ({info.get('location')}); refusing to use "
                        f"different data")
    return loaded


def reload_benchmark(planned: PlannedBenchmark) -> PlannedData:
    """The planned items of one benchmark, from its recorded (sha256-verified) data file."""
    loaded = reload_recorded(planned.name, planned.dataset)
    card = loaded.card
    by_id = {item.id: item for item in loaded.items}
    missing = [i for i in planned.item_ids if i not in by_id]
    if missing:
        raise DataError(f"{planned.name}: planned items {missing[:5]} are not in {loaded.location}")
    items = tuple(by_id[i] for i in planned.item_ids)
    return PlannedData(LoadedBenchmark(card, items, loaded.source_kind, loaded.location,
                                       loaded.sha256, loaded.revision, loaded.problems), planned.k)


def planned_samples(plan: PlanRecord, data: list[PlannedData]) -> Iterator[PlannedSample]:
    """Every planned sample with its prompt and seed, in plan order."""
    for benchmark in data:
        card = benchmark.card
        grader = get_grader(card.grader)
        for item in benchmark.loaded.items:
            for index in range(benchmark.k):
                seed = derive_seed(plan.run_seed, card.name, item.id, index, plan.seed_scheme)
                prompt = grader.prompt(card, item, index, plan.run_seed)
                yield PlannedSample(card, item, index, seed, prompt)
