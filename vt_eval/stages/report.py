"""The report stage: results.json + scores/samples/plan/manifest -> scorecard.html, scorecard.md.

The last stage of `run` and `score`. Rendering lives in `vt_eval/report/`; `vt-eval report` makes
the same files with an audit, a comparison run or a training cutoff.
"""

from __future__ import annotations

from typing import Any

from vt_eval.stages.base import Stage, StageContext, StageOutcome


class ReportStage(Stage):
    name = "report"
    reads = ("results.json", "scores.jsonl", "samples.jsonl", "plan.json", "manifest.json")
    writes = ("scorecard.html", "scorecard.md")

    def settings(self, ctx: StageContext) -> Any:
        audit = ctx.settings.get("report_audit")
        return {"audit": str(audit) if audit else None}

    def fingerprint(self, ctx: StageContext) -> dict[str, str]:
        # manifest.json changes with every stage record (this one's too): never a reason to redo
        prints = super().fingerprint(ctx)
        prints.pop("manifest.json", None)
        return prints

    def execute(self, ctx: StageContext) -> StageOutcome:
        from vt_eval.report.scorecard import write_scorecard
        written = write_scorecard(ctx.run.path, audit=ctx.settings.get("report_audit"))
        ctx.log(f"scorecard: {written.html} (Markdown: {written.markdown.name})")
        card = written.card
        return StageOutcome(counts={"benchmarks": len(card.benchmarks), "plots": len(card.plots)
                                    + sum(len(p) for p in card.bench_plots.values()),
                                    "integrity_problems": len(card.integrity)},
                            details={"status": card.status, "plots_note": card.plots_note})
