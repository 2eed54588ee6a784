"""The judge stage (optional; `vt-eval score RUN --judge-base-url URL --judge-model M`).

scores.jsonl (rule verdicts) -> scores.jsonl (judged; each changed Score keeps its rule verdict in
details.rule_verdict) + judge.json (per-benchmark judge metrics, and the sha256 of the scores it
wrote, so the aggregate stage never attaches a stale judge.json to re-graded scores).
"""

from __future__ import annotations

from typing import Any

from vt_eval.cards import get_card
from vt_eval.data import Item
from vt_eval.judge.apply import JudgeSettings, card_judged, judge_benchmark, wants_judge
from vt_eval.judge.cache import JudgeCache
from vt_eval.planning import reload_benchmark, require_plan
from vt_eval.records import Score
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import read_records, write_records_atomic
from vt_eval.util import sha256_file, write_json_atomic

POLICY = ("needs_judge samples (and, with --judge-scope incorrect/all, rule-incorrect/correct ones) "
          "are judged; the judge can turn needs_judge or incorrect into correct, never overrules a "
          "rule-verified correct; an unparsable verdict after retries is judge_error, left out of "
          "accuracy like needs_judge and never counted wrong")


def _openai_backend(settings: JudgeSettings) -> Any:
    from vt_eval.backends.openai_backend import OpenAIBackend
    from vt_eval.config import OpenAIConfig

    return OpenAIBackend(settings.base_url, settings.model,
                         OpenAIConfig(concurrency=settings.concurrency, max_retries=2))


class JudgeStage(Stage):
    name = "judge"
    reads = ("scores.jsonl",)
    writes = ("scores.jsonl", "judge.json")

    def enabled(self, ctx: StageContext) -> bool:
        return isinstance(ctx.settings.get("judge"), JudgeSettings)

    def settings(self, ctx: StageContext) -> dict[str, Any]:
        return ctx.settings["judge"].describe()

    def execute(self, ctx: StageContext) -> StageOutcome:
        settings: JudgeSettings = ctx.settings["judge"]
        plan = require_plan(ctx.run.path)
        items = {b.name: {i.id: i for i in reload_benchmark(b).loaded.items} for b in plan.benchmarks}
        scores = list(read_records(ctx.run.scores_path, Score))
        cache = JudgeCache(settings.cache_path or ctx.run.file("judge_cache.jsonl"))
        warnings = [str(cache.repair)] if cache.repair else []
        backend: Any = None
        metrics: dict[str, Any] = {}
        merged: list[Score] = []
        try:
            for name, by_id in items.items():
                mine = [s for s in scores if s.benchmark == name]
                if not card_judged(get_card(name)):
                    merged.extend(mine)
                    continue
                if any(wants_judge(s, settings.scope) for s in mine) and backend is None:
                    backend = _openai_backend(settings)  # only when something needs judging
                judged, bench_metrics, bench_warnings = self._judge(name, by_id, mine, settings,
                                                                    backend, cache)
                merged.extend(judged)
                metrics[name] = bench_metrics
                warnings.extend(f"{name}: {w}" for w in bench_warnings)
        finally:
            cache.close()
            if backend is not None:
                backend.close()
        write_records_atomic(ctx.run.scores_path, merged)
        write_json_atomic(ctx.run.file("judge.json"), {
            "policy": POLICY, "settings": {**settings.describe(), "cache": str(cache.path)},
            "scores_sha256": sha256_file(ctx.run.scores_path), "benchmarks": metrics})
        judged_count = sum(m.get("judged_samples", 0) for m in metrics.values())
        return StageOutcome(counts={"judged_samples": judged_count},
                            versions={"prompt": settings.describe()["prompt_version"]},
                            details={**settings.describe(), "cache": str(cache.path),
                                     "warnings": warnings})

    @staticmethod
    def _judge(name: str, items: dict[str, Item], scores: list[Score], settings: JudgeSettings,
               backend: Any, cache: JudgeCache) -> tuple[list[Score], dict[str, Any], list[str]]:
        if backend is None:
            return scores, {**settings.describe(), "judged_samples": 0}, []
        outcome = judge_benchmark(get_card(name), items, scores, settings, backend, cache)
        return outcome.scores, outcome.metrics, outcome.warnings

