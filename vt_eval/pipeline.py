"""`run` and `score` as lists of stages over one run directory.

  run:   plan -> generate -> grade -> clr (with --tts clr) -> aggregate -> report
  score: plan (only if the run has no plan.json) -> grade -> judge (optional) -> aggregate -> report
  clr:   clr -> aggregate -> report

A new stage is one module under vt_eval/stages/ plus one line in these lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from vt_eval.backends import resolve_backend_name
from vt_eval.config import EvalConfig
from vt_eval.errors import ConfigError
from vt_eval.provenance import git_commit, host_info, package_versions
from vt_eval.results import RunResults
from vt_eval.rundir import RunDir, default_run_id
from vt_eval.stages.aggregate import AggregateStage
from vt_eval.stages.base import Stage, StageContext, run_stages
from vt_eval.stages.clr import ClrStage
from vt_eval.stages.generate import GenerateStage
from vt_eval.stages.grade import GradeStage
from vt_eval.stages.judge import JudgeStage
from vt_eval.stages.plan import PlanStage
from vt_eval.stages.report import ReportStage
from vt_eval.util import now_iso

RUN_STAGES: list[Stage] = [PlanStage(), GenerateStage(), GradeStage(), ClrStage(), AggregateStage(),
                           ReportStage()]
SCORE_STAGES: list[Stage] = [PlanStage(), GradeStage(), JudgeStage(), AggregateStage(),
                             ReportStage()]
# `vt-eval clr RUN`: CLR on the recorded samples, then the score command's later stages.
CLR_STAGES: list[Stage] = [ClrStage(), *(s for s in SCORE_STAGES
                                         if s.name not in ("plan", "grade", "judge"))]


def open_run(config: EvalConfig, run_id: str | None, console: Console) -> tuple[EvalConfig, RunDir]:
    """Resolve the backend and open (or refuse) the run dir: one identity per directory."""
    config = config.with_overrides({"model.backend": resolve_backend_name(config)})
    run = RunDir(Path(config.run.out) / (run_id or default_run_id(config)))
    if run.exists():
        differences = run.check_identity(config)
        if differences:
            listing = "\n  ".join(differences)
            raise ConfigError(f"{run.path} holds a run with a different configuration:\n  {listing}\n"
                              f"Use another --run-id (or --out) for a new run, or the original "
                              f"options to resume.")
        console.print(f"resuming run in {run.path}", highlight=False, markup=False)
    return config, run


def record_provenance(run: RunDir, config: EvalConfig) -> None:
    manifest = run.manifest()
    run.update_manifest(run_id=run.path.name, created_at=manifest.created_at or now_iso(),
                        sampling=config.sampling, grading=config.grading.model_dump(),
                        seeds={"run_seed": config.sampling.seed}, packages=package_versions(),
                        git=git_commit(), host=host_info())


def execute_run(config: EvalConfig, run_id: str | None, data_dir: Path | None, console: Console,
                stages: list[Stage] | None = None,
                settings: Mapping[str, Any] | None = None) -> RunResults:
    config, run = open_run(config, run_id, console)
    fresh = not run.exists()
    run.save_config(config)
    try:
        record_provenance(run, config)
        ctx = StageContext(run, config, console, data_dir, settings or {})
        run_stages(stages or RUN_STAGES, ctx, on_skip=lambda s: _skipped(console, s))
    except BaseException:
        if fresh and not run.samples_path.exists():
            _remove_empty_run(run)
        raise
    return RunResults.model_validate_json(run.results_path.read_bytes())


def score_run(run: RunDir, console: Console, settings: Mapping[str, Any] | None = None,
              stages: list[Stage] | None = None) -> RunResults:
    """Re-grade and re-aggregate an existing run: no model, no GPU."""
    config = run.load_config()
    ctx = StageContext(run, config, console, None, {"recorded_data": True, **(settings or {})},
                       force=frozenset({"grade", "judge", "aggregate"}))
    run_stages(stages or SCORE_STAGES, ctx)
    return RunResults.model_validate_json(run.results_path.read_bytes())


def clr_run(run: RunDir, config: EvalConfig, console: Console) -> RunResults:
    """CLR on an existing run's samples (`config` carries the [clr] settings), re-aggregated."""
    ctx = StageContext(run, config, console, None, {"recorded_data": True})
    run_stages(CLR_STAGES, ctx)
    return RunResults.model_validate_json(run.results_path.read_bytes())


def _skipped(console: Console, stage: Stage) -> None:
    if stage.name == "generate":
        console.print("all planned samples are already generated", highlight=False)


def _remove_empty_run(run: RunDir) -> None:
    """A run that failed before its first sample leaves no directory behind."""
    for name in ("config.toml", "manifest.json", "plan.json", ".manifest.lock"):
        run.file(name).unlink(missing_ok=True)
    try:
        run.path.rmdir()
    except OSError:
        pass  # something else is in it: keep it
