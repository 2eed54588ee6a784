"""The stage interface: a name, the run-dir files it reads and writes, and `run(ctx)`.

`run_stages` executes a list of stages in order. A stage whose outputs exist and whose inputs
(file contents and settings, fingerprinted) are those of its last successful run is skipped, so a
resumed or repeated command redoes only what changed. Each execution is recorded in the
manifest as a `StageReport` (counts, timings, versions).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console

from vt_eval.config import EvalConfig
from vt_eval.manifest import StageReport
from vt_eval.rundir import RunDir
from vt_eval.util import now_iso, sha256_file, sha256_text


@dataclass(frozen=True)
class StageContext:
    """What every stage receives. `settings` holds per-command options by stage name."""

    run: RunDir
    config: EvalConfig
    console: Console
    data_dir: Path | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    force: frozenset[str] = frozenset()  # stage names to run even when complete

    def log(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)


@dataclass
class StageOutcome:
    """What `Stage.execute` hands back to the base class for the report."""

    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Stage(ABC):
    name: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()  # run-dir file names
    writes: ClassVar[tuple[str, ...]] = ()

    def enabled(self, ctx: StageContext) -> bool:
        return True

    def settings(self, ctx: StageContext) -> Any:
        """Settings that change this stage's outputs (part of its input fingerprint)."""
        return None

    def fingerprint(self, ctx: StageContext) -> dict[str, str]:
        prints = {name: sha256_file(ctx.run.file(name)) for name in self.reads
                  if ctx.run.file(name).is_file()}
        prints["settings"] = sha256_text(json.dumps(self.settings(ctx), sort_keys=True,
                                                    default=str)) or ""
        return prints

    def is_complete(self, ctx: StageContext, inputs: dict[str, str]) -> bool:
        """Done before, outputs present, and `inputs` (this run's fingerprint) unchanged."""
        last = ctx.run.manifest().stages.get(self.name)
        if last is None or last.status != "done":
            return False
        if not all(ctx.run.file(name).is_file() for name in self.writes):
            return False
        return last.inputs == inputs

    @abstractmethod
    def execute(self, ctx: StageContext) -> StageOutcome: ...

    def run(self, ctx: StageContext, inputs: dict[str, str] | None = None) -> StageReport:
        """Execute and record. `inputs`: the fingerprint already taken (the files are hashed
        once per stage, not once for the skip decision and again for the report)."""
        started, clock = now_iso(), time.perf_counter()
        inputs = self.fingerprint(ctx) if inputs is None else inputs
        outcome = self.execute(ctx)
        report = StageReport(name=self.name, status="done", started_at=started, ended_at=now_iso(),
                             seconds=round(time.perf_counter() - clock, 3), inputs=inputs,
                             counts=outcome.counts, versions=outcome.versions,
                             details=outcome.details)
        ctx.run.record_stage(report)
        return report


def run_stages(stages: Sequence[Stage], ctx: StageContext,
               on_skip: Callable[[Stage], None] | None = None) -> list[StageReport]:
    reports = []
    for stage in stages:
        if not stage.enabled(ctx):
            continue
        inputs = stage.fingerprint(ctx)
        if stage.name not in ctx.force and stage.is_complete(ctx, inputs):
            if on_skip:
                on_skip(stage)
            continue
        reports.append(stage.run(ctx, inputs))
    return reports
