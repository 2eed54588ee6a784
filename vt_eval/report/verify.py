"""One call that loads a run directory, verifies it and recomputes what a verdict rests on.

The gate, `compare`, `report` and `verdict` all start here, so they run the same checks:

    verified = verify_run(run_dir)        # DataError (exit 2): a needed file or record is missing
    if not verified.verified: ...          # results.json disagrees with the per-sample files
    verified.benchmarks["aime_2025"].recomputed.ci95   # from scores.jsonl, never results.json

See `integrity` for the list of checks and `recompute` for how the figures are made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vt_eval.report.integrity import NOT_RECOMPUTED, check
from vt_eval.report.recompute import VerifiedBenchmark
from vt_eval.report.rundata import RunData, load_run
from vt_eval.results import RunResults

__all__ = ["VerifiedBenchmark", "VerifiedRun", "verify_run"]


@dataclass(frozen=True)
class VerifiedRun:
    path: Path
    data: RunData  # the files as read
    benchmarks: dict[str, VerifiedBenchmark]  # by name, in plan order
    problems: list[str]  # every disagreement found; empty: results.json is vouched for

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def complete(self) -> bool:
        """Every planned sample of every benchmark present exactly once (from the files)."""
        return bool(self.benchmarks) and all(b.complete for b in self.benchmarks.values())

    def partial(self) -> list[str]:
        """`name done/planned` for each incomplete benchmark."""
        return [f"{b.name} {b.samples_complete}/{b.samples_planned}"
                for b in self.benchmarks.values() if not b.complete]

    def recomputed_data(self) -> RunData:
        """`data` with each benchmark of results.json replaced by its recomputation, keeping only
        the fields that are not recomputed (card texts, extra_metrics, summary lines) from
        results.json: what a page shows, whatever results.json claims."""
        stated = {b.benchmark: b for b in self.data.results.benchmarks}
        benchmarks = []
        for name, verified in self.benchmarks.items():
            kept = {field: getattr(stated[name], field) for field in NOT_RECOMPUTED} \
                if name in stated else {}
            benchmarks.append(verified.recomputed.model_copy(update=kept))
        graders = {b.name: b.grader for b in self.data.plan.benchmarks}
        results: RunResults = self.data.results.model_copy(
            update={"benchmarks": benchmarks, "graders": graders})
        return replace(self.data, results=results)

    @property
    def status(self) -> str:
        if not self.verified:
            return "NOT VERIFIED"
        return "verified complete" if self.complete else "verified partial"


def verify_run(run_dir: Path, with_tails: bool = False) -> VerifiedRun:
    """Load and check a run dir. Raises DataError/ConfigError (exit 2) when a file a check needs
    is missing or unreadable; returns the problems found otherwise (`verified` is then False).
    `with_tails`: keep each response's tail (the scorecard's drill-down)."""
    data = load_run(Path(run_dir), with_samples=with_tails)
    benchmarks, problems = check(data)
    return VerifiedRun(path=data.path, data=data, benchmarks=benchmarks, problems=problems)
