"""The CLR stage (optional; `vt-eval run --tts clr`, `vt-eval clr RUN`): Claim-Level Reliability.

plan.json + samples.jsonl + scores.jsonl -> claims.jsonl, verifications.jsonl (one line per model
call, appended as calls finish: a killed run resumes without redoing a recorded call) and
clr.json (per benchmark: CLR accuracy over R repetitions beside maj@K/pass@K/avg@K on the same
samples, token costs, per-problem clusters and choices, the method's every choice, and the
sha256 of the scores it used so the aggregate stage ignores a stale one).

Two model steps, each one generate call on the run's backend: extraction (one call per drawn
trajectory), then verification (one call per claim). The arithmetic is in vt_eval/clr/.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vt_eval.backends import make_backend
from vt_eval.backends.base import Backend, Request
from vt_eval.clr.aggregation import Trajectory, problem_rng, reliability, run_problem
from vt_eval.clr.calls import (CallSettings, claim_record, extraction_request, verification_record,
                               verification_request)
from vt_eval.clr.files import ClaimRecord, Loaded, VerificationRecord, load_records
from vt_eval.clr.metrics import ProblemRun, benchmark_metrics, problem_detail
from vt_eval.clr.parsing import CLAIM_STATUSES, VERDICT_STATUSES
from vt_eval.clr.pools import Problem, build_problems, needing_calls, skipped_benchmarks
from vt_eval.clr.prompts import prompt_texts
from vt_eval.clr.report import CHOICES, benchmark_entry, count_statuses, skipped_entry
from vt_eval.config import CLRConfig, SamplingParams
from vt_eval.errors import DataError
from vt_eval.planning import PlanRecord, read_plan
from vt_eval.records import Sample, Score
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import JsonlWriter, read_records, repair_tail
from vt_eval.util import sha256_file, write_json_atomic

CLR_SCHEMA = 1


def step_settings(cfg: CLRConfig, run_seed: int) -> tuple[CallSettings, CallSettings]:
    def sampling(max_tokens: int) -> SamplingParams:
        return SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, top_k=-1,
                              max_tokens=max_tokens, seed=run_seed)
    return (CallSettings(cfg.extract_prompt, sampling(cfg.extract_max_tokens), cfg.m,
                         cfg.trajectory_chars),
            CallSettings(cfg.verify_prompt, sampling(cfg.verify_max_tokens)))


@dataclass
class _Backend:
    """The run's backend, made on first use (re-aggregating recorded calls needs no model)."""

    ctx: StageContext
    backend: Backend | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def get(self) -> Backend:
        if self.backend is None:
            self.ctx.log(f"loading model {self.ctx.config.model.name} "
                         f"({self.ctx.config.model.backend}) for CLR …")
            self.backend = make_backend(self.ctx.config, self.ctx.config.model.backend)
            self.provenance = {"backend": self.backend.name, **self.backend.provenance()}
        return self.backend

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def _call(ctx: StageContext, backend: _Backend, what: str, requests: list[Request],
          params: SamplingParams, write: Any) -> int:
    """One generate call for a whole step; each completion is recorded as it arrives."""
    if not requests:
        return 0
    model = backend.get()
    ctx.log(f"CLR {what}: {len(requests)} calls")
    done = 0
    for completion in model.generate(requests, params):
        write(completion)
        done += 1
    return done


class ClrStage(Stage):
    name = "clr"
    reads = ("plan.json", "samples.jsonl", "scores.jsonl")
    writes = ("claims.jsonl", "verifications.jsonl", "clr.json")

    def enabled(self, ctx: StageContext) -> bool:
        return ctx.config.clr.enabled

    def settings(self, ctx: StageContext) -> dict[str, Any]:
        return ctx.config.clr.model_dump(mode="json", exclude={"enabled"})

    def execute(self, ctx: StageContext) -> StageOutcome:
        cfg = ctx.config.clr
        prompt_texts(cfg.extract_prompt, cfg.verify_prompt)  # unknown versions fail before a call
        plan = read_plan(ctx.run.plan_path)
        if plan is None or not ctx.run.scores_path.is_file():
            raise DataError(f"{ctx.run.path}: CLR needs a graded run (plan.json and scores.jsonl)")
        repair_tail(ctx.run.samples_path)
        samples: dict[tuple[str, str, int], Sample] = {}
        for sample in read_records(ctx.run.samples_path, Sample):
            samples.setdefault(sample.key, sample)  # the first copy, as the grade stage keeps
        scores = list(read_records(ctx.run.scores_path, Score))
        problems = build_problems(plan, samples.values(), scores)
        extract, verify = step_settings(cfg, plan.run_seed)
        todo = [s for name, probs in problems.items()
                for s in needing_calls(probs, self._k(cfg, plan, name), cfg.repetitions,
                                       plan.run_seed, cfg.answered_only)]
        backend = _Backend(ctx)
        try:
            claims, made_x = self._extract(ctx, backend, todo, extract, plan.run_seed)
            verifications, made_v = self._verify(ctx, backend, todo, claims, verify, plan.run_seed)
        finally:
            backend.close()
        entries = self._entries(ctx, plan, problems, claims.records, verifications.records)
        self._write(ctx, plan, entries, extract, verify)
        notes = claims.notes + verifications.notes + [
            f"CLR: K = {cfg.k} is more than {b.name}'s k = {b.k}: every repetition uses all "
            f"{b.k} samples" for b in plan.benchmarks if b.name in problems and b.k < cfg.k]
        return StageOutcome(
            counts={"trajectories": len(todo), "extraction_calls": made_x,
                    "verification_calls": made_v, "extractions_recorded": len(claims.records),
                    "verifications_recorded": len(verifications.records)},
            versions={"extract_prompt": cfg.extract_prompt, "verify_prompt": cfg.verify_prompt},
            details={"settings": cfg.model_dump(mode="json"), "choices": CHOICES,
                     "extraction": extract.describe(), "verification": verify.describe(),
                     "model": backend.provenance, "warnings": notes,
                     "skipped": skipped_benchmarks(plan)})

    @staticmethod
    def _k(cfg: CLRConfig, plan: PlanRecord, benchmark: str) -> int:
        planned = next(b.k for b in plan.benchmarks if b.name == benchmark)
        return min(cfg.k, planned)

    @staticmethod
    def _extract(ctx: StageContext, backend: _Backend, todo: list[Sample], settings: CallSettings,
                 run_seed: int) -> tuple[Loaded[ClaimRecord], int]:
        path = ctx.run.file("claims.jsonl")
        loaded = load_records(path, ClaimRecord, settings.digest)
        missing = [s for s in todo if s.key not in loaded.records]
        requests = {s.key: extraction_request(s, settings, run_seed) for s in missing}
        by_key = {s.key: s for s in missing}
        with JsonlWriter(path) as writer:
            def write(completion: Any) -> None:
                record = claim_record(by_key[completion.key], requests[completion.key],
                                      completion, settings)
                writer.write(record)
                loaded.records[record.key] = record
            made = _call(ctx, backend, "extraction", list(requests.values()), settings.sampling,
                         write)
        return loaded, made

    @staticmethod
    def _verify(ctx: StageContext, backend: _Backend, todo: list[Sample],
                claims: Loaded[ClaimRecord], settings: CallSettings, run_seed: int
                ) -> tuple[Loaded[VerificationRecord], int]:
        path = ctx.run.file("verifications.jsonl")
        loaded = load_records(path, VerificationRecord, settings.digest)
        jobs: dict[tuple[str, str, int], tuple[Sample, int, str]] = {}
        requests: list[Request] = []
        for sample in todo:
            record = claims.records.get(sample.key)
            for index, claim in enumerate(record.claims if record else []):
                done = loaded.records.get((*sample.key, index))
                if done is not None and done.claim == claim:
                    continue
                request = verification_request(sample, index, claim, settings, run_seed)
                jobs[request.key] = (sample, index, claim)
                requests.append(request)
        by_key = {r.key: r for r in requests}
        with JsonlWriter(path) as writer:
            def write(completion: Any) -> None:
                sample, index, claim = jobs[completion.key]
                record = verification_record(sample, index, claim, by_key[completion.key],
                                             completion, settings)
                writer.write(record)
                loaded.records[record.key] = record
            made = _call(ctx, backend, "verification", requests, settings.sampling, write)
        return loaded, made

    def _entries(self, ctx: StageContext, plan: PlanRecord, problems: dict[str, list[Problem]],
                 claims: dict[Hashable, ClaimRecord],
                 verifications: dict[Hashable, VerificationRecord]) -> dict[str, Any]:
        cfg = ctx.config.clr
        entries: dict[str, Any] = {name: skipped_entry(reason)
                                   for name, reason in skipped_benchmarks(plan).items()}
        for name, mine in problems.items():
            k = self._k(cfg, plan, name)
            runs, used_claims, used_verifs = [], [], []
            for problem in (p for p in mine if p.settled):
                pool = []
                for sample in problem.samples:
                    trajectory, c, vs = _trajectory(problem, sample, claims, verifications, cfg)
                    pool.append(trajectory)
                    used_claims += [c] if c else []
                    used_verifs += vs
                rngs = [problem_rng(plan.run_seed, r, name, problem.item_id)
                        for r in range(cfg.repetitions)]
                runs.append(ProblemRun(problem.item_id, tuple(pool),
                                       tuple(run_problem(pool, k, rngs))))
            metrics = benchmark_metrics(runs, k, plan.run_seed)
            metrics["items_needing_judge"] = sum(not p.settled for p in mine)
            entries[name] = benchmark_entry(metrics, _parsing(used_claims, used_verifs),
                                            _spent(used_claims, used_verifs),
                                            [problem_detail(r) for r in runs], cfg.m)
        return entries

    @staticmethod
    def _write(ctx: StageContext, plan: PlanRecord, entries: dict[str, Any],
               extract: CallSettings, verify: CallSettings) -> None:
        cfg = ctx.config.clr
        write_json_atomic(ctx.run.file("clr.json"), {
            "schema_version": CLR_SCHEMA, "scores_sha256": sha256_file(ctx.run.scores_path),
            "run_seed": plan.run_seed, "settings": cfg.model_dump(mode="json"),
            "choices": CHOICES, "prompts": prompt_texts(cfg.extract_prompt, cfg.verify_prompt),
            "extraction": extract.describe(), "verification": verify.describe(),
            "benchmarks": entries})


def _trajectory(problem: Problem, sample: Sample, claims: dict[Hashable, ClaimRecord],
                verifications: dict[Hashable, VerificationRecord], cfg: CLRConfig
                ) -> tuple[Trajectory, ClaimRecord | None, list[VerificationRecord]]:
    score = problem.scores[sample.sample_index]
    record = claims.get(sample.key)
    verifs = []
    for index, claim in enumerate(record.claims if record else []):
        found = verifications.get((*sample.key, index))
        if found is not None and found.claim == claim:
            verifs.append(found)
    verdicts = [v.verdict for v in verifs]
    calls = [*([record] if record else []), *verifs]
    return Trajectory(
        index=sample.sample_index, cluster=score.cluster, answer=score.extracted,
        reliability=reliability(verdicts, cfg.m, cfg.missing_claims) if record else 0.0,
        generation_tokens=sample.completion_tokens or 0,
        clr_prompt_tokens=sum(c.prompt_tokens or 0 for c in calls),
        clr_completion_tokens=sum(c.completion_tokens or 0 for c in calls),
        calls=len(calls)), record, verifs


def _parsing(claims: Sequence[ClaimRecord], verifs: Sequence[VerificationRecord]) -> dict[str, Any]:
    return {"claims": count_statuses([c.status for c in claims], CLAIM_STATUSES),
            "claim_rules": {rule: sum(c.rule == rule for c in claims)
                            for rule in ("claim-lines", "list", "none")},
            "extra_claims_dropped": sum(c.extra_dropped for c in claims),
            "extractions_truncated": sum(c.finish_reason == "length" for c in claims),
            "verdicts": count_statuses([v.status for v in verifs], VERDICT_STATUSES)}


def _spent(claims: Sequence[ClaimRecord], verifs: Sequence[VerificationRecord]) -> dict[str, int]:
    """Every call this benchmark's metrics used (each once, however many repetitions drew it)."""
    calls = [*claims, *verifs]
    return {"extraction_calls": len(claims), "verification_calls": len(verifs),
            "prompt_tokens": sum(c.prompt_tokens or 0 for c in calls),
            "completion_tokens": sum(c.completion_tokens or 0 for c in calls)}
