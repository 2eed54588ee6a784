"""The plan stage: config + benchmark data -> plan.json (items, k and data files per benchmark).

In `run` the benchmarks come from the config (and --data-dir); in `score` of a run that has no
plan.json yet (made by vt-eval 0.1), from the data files its manifest recorded.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from vt_eval.errors import ConfigError
from vt_eval.planning import PlanRecord, load_selected, make_plan, plan_fingerprint, reload_recorded
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.util import write_text_atomic


class PlanStage(Stage):
    name = "plan"
    writes = ("plan.json",)

    def settings(self, ctx: StageContext) -> str:
        return plan_fingerprint(ctx.config, ctx.data_dir)

    def execute(self, ctx: StageContext) -> StageOutcome:
        recorded = ctx.run.manifest().datasets if ctx.settings.get("recorded_data") else {}
        if recorded:
            plan = self._from_recorded(ctx, recorded)
        else:
            loaded, skipped = load_selected(ctx.config, ctx.data_dir)
            for name, reason in skipped.items():
                ctx.console.print(f"[yellow]skipped[/] {name}: {escape(reason)}", highlight=False)
            plan = make_plan(ctx.config, loaded, skipped, ctx.data_dir)
        self._check_scope(ctx, plan)
        write_text_atomic(ctx.run.plan_path, plan.model_dump_json(indent=1))
        ctx.run.update_manifest(
            datasets={b.name: b.dataset for b in plan.benchmarks},
            skipped_benchmarks=plan.skipped,
            item_selection={"limit": ctx.config.run.limit, "since": ctx.config.run.since,
                            "until": ctx.config.run.until,
                            "contest_after": ctx.config.run.contest_after})
        self._print_plan(ctx, plan)
        per_benchmark = {f"{b.name}.items": len(b.item_ids) for b in plan.benchmarks}
        return StageOutcome(counts={"benchmarks": len(plan.benchmarks),
                                    "samples": plan.sample_count(), **per_benchmark},
                            versions={b.name: b.grader for b in plan.benchmarks})

    @staticmethod
    def _from_recorded(ctx: StageContext, recorded: dict[str, dict[str, Any]]) -> PlanRecord:
        """A pre-plan.json run: its recorded data files; items and k re-derived from its config."""
        loaded = [reload_recorded(name, info) for name, info in recorded.items()]
        return make_plan(ctx.config, loaded, ctx.run.manifest().skipped_benchmarks, ctx.data_dir)

    @staticmethod
    def _print_plan(ctx: StageContext, plan: PlanRecord) -> None:
        for b in plan.benchmarks:
            ctx.log(f"plan {b.name}: {len(b.item_ids)} items x k={b.k} = "
                    f"{len(b.item_ids) * b.k} samples")
        total = plan.sample_count()
        ctx.log(f"plan: {total} samples, at most {total * ctx.config.sampling.max_tokens:,} "
                f"generated tokens (max_tokens {ctx.config.sampling.max_tokens})")

    @staticmethod
    def _check_scope(ctx: StageContext, plan: PlanRecord) -> None:
        if plan.sample_count() == 0:
            raise ConfigError("the plan has no samples (no item matches the selection)")
