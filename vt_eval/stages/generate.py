"""The generate stage: plan.json -> samples.jsonl, appended as samples finish, resumable after any
kill. Complete when every planned sample is in samples.jsonl (so a resumed run starts here)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from vt_eval.backends.base import Completion, Request
from vt_eval.backends.executor import Executor, make_executor
from vt_eval.backends.units import WorkUnit, cut_units, plan_cut_sha256
from vt_eval.manifest import Session, resume_exactness
from vt_eval.planning import PlannedSample, planned_samples, reload_benchmark, require_plan
from vt_eval.records import Sample
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import JsonlWriter, read_records, repair_tail
from vt_eval.util import now_iso, sha256_text

LOG_EVERY_S = 30.0  # progress lines when the output is not a terminal (CI logs)


def planned(ctx: StageContext) -> list[PlannedSample]:
    plan = require_plan(ctx.run.path)
    return list(planned_samples(plan, [reload_benchmark(b) for b in plan.benchmarks]))


def finished_keys(ctx: StageContext) -> set[tuple[str, str, int]]:
    return {s.key for s in read_records(ctx.run.samples_path, Sample)}


def to_sample(planned_sample: PlannedSample, completion: Completion) -> Sample:
    p = planned_sample
    return Sample(
        benchmark=p.card.name, item_id=p.item.id, sample_index=p.sample_index, seed=p.seed,
        messages=p.prompt.messages, prompt_extra=p.prompt.extra, response=completion.text,
        finish_reason=completion.finish_reason, prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens, latency_s=round(completion.latency_s, 4),
        created_at=now_iso(),
    )


class GenerateStage(Stage):
    name = "generate"
    reads = ("plan.json",)
    writes = ("samples.jsonl",)

    def is_complete(self, ctx: StageContext, inputs: dict[str, str]) -> bool:
        repair = repair_tail(ctx.run.samples_path)
        if repair:
            ctx.log(f"repaired {repair}")
        return {p.key for p in planned(ctx)} <= finished_keys(ctx)

    def execute(self, ctx: StageContext) -> StageOutcome:
        todo_all = planned(ctx)
        done = finished_keys(ctx) & {p.key for p in todo_all}
        sessions = ctx.run.manifest().sessions
        session = Session(started_at=now_iso(), planned=len(todo_all), already_done=len(done))
        ctx.run.update_manifest(status="running", sessions=[*sessions, session])
        ctx.log(f"loading model {ctx.config.model.name} ({ctx.config.model.backend}) …")
        executor = make_executor(ctx.config, ctx.config.model.backend)
        requests = [Request(p.key, p.prompt.messages, p.seed) for p in todo_all]
        size = executor.fixed_batch
        units = cut_units(requests, done, size)
        session = session.model_copy(update={
            "unit_size": size, "plan_cut_sha256": plan_cut_sha256(requests, size),
            "batch_invariant": executor.batch_invariant})
        ctx.run.update_manifest(model=executor.provenance(), cluster=executor.cluster(),
                                effective_sampling=executor.effective_params(ctx.config.sampling),
                                sessions=[*sessions, session])
        tally = _Tally()
        try:
            self._generate(ctx, executor, units, {p.key: p for p in todo_all}, len(done), tally)
        finally:
            executor.close()
            ended = session.model_copy(update={
                "generated": tally.written, "ended_at": now_iso(),
                "regenerated": tally.regenerated, "regenerated_differing": tally.differing})
            ctx.run.update_manifest(sessions=[*sessions, ended], cluster=executor.cluster(),
                                    resume=resume_exactness([*sessions, ended]))
        ctx.run.update_manifest(status="generated")
        return StageOutcome(counts={"planned": len(todo_all), "already_done": len(done),
                                    "generated": tally.written, "units": len(units),
                                    "regenerated": tally.regenerated,
                                    "regenerated_differing": tally.differing},
                            versions={"backend": ctx.config.model.backend})

    def _generate(self, ctx: StageContext, executor: Executor, units: list[WorkUnit],
                  by_key: dict[tuple[str, str, int], PlannedSample], done: int,
                  tally: _Tally) -> None:
        rewritten = set().union(*(u.done for u in units)) if units else set()
        written_text = _response_hashes(ctx, rewritten)
        with (_progress(ctx, len(by_key), done) as on_sample,
              JsonlWriter(ctx.run.samples_path) as writer):
            for completion in executor.run(units, ctx.config.sampling):
                if completion.key in rewritten:
                    tally.regenerated += 1
                    if sha256_text(completion.text) != written_text.get(completion.key):
                        tally.differing += 1
                    continue
                sample = to_sample(by_key[completion.key], completion)
                writer.write(sample)
                tally.written += 1
                on_sample(sample)


class _Tally:
    def __init__(self) -> None:
        self.written = self.regenerated = self.differing = 0


def _response_hashes(ctx: StageContext, keys: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], str | None]:
    if not keys:
        return {}
    return {s.key: sha256_text(s.response) for s in read_records(ctx.run.samples_path, Sample)
            if s.key in keys}


class _progress:
    """A live bar on a terminal; a line every LOG_EVERY_S seconds elsewhere (CI logs)."""

    def __init__(self, ctx: StageContext, total: int, done: int) -> None:
        self.ctx, self.total, self.count = ctx, total, done
        self.tokens, self.started, self.last_line = 0, time.monotonic(), time.monotonic()
        self.bar: Progress | None = None
        if ctx.console.is_terminal:
            self.bar = Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("samples · {task.fields[tps]} tok/s"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                console=ctx.console)
            self.task = self.bar.add_task("generating", total=total, completed=done, tps="–")

    def __enter__(self) -> Callable[[Sample], None]:
        if self.bar:
            self.bar.__enter__()
        else:
            self.ctx.log(f"generating: {self.count}/{self.total} samples done")
        return self.on_sample

    def on_sample(self, sample: Sample) -> None:
        self.count += 1
        self.tokens += sample.completion_tokens or 0
        now = time.monotonic()
        rate = self.tokens / max(1e-6, now - self.started)
        if self.bar:
            self.bar.update(self.task, advance=1, tps=f"{rate:.1f}")
        elif now - self.last_line >= LOG_EVERY_S or self.count == self.total:
            self.last_line = now
            self.ctx.log(f"generating: {self.count}/{self.total} samples, {rate:.1f} tok/s, "
                         f"{now - self.started:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(None, None, None)
