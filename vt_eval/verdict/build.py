"""A run dir (+ audit, + probe output, + freshness.json, + claims) -> the `Verdict`.

Every measured figure comes from `report.verify.verify_run` (recomputed from the per-sample
files); an input that cannot be used turns its line into *not checked* with the reason, and is
listed in `notes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from vt_eval.cards import Card, get_card
from vt_eval.data import Item
from vt_eval.errors import VtEvalError
from vt_eval.planning import PlannedBenchmark, reload_benchmark
from vt_eval.report.verify import VerifiedBenchmark, VerifiedRun, verify_run
from vt_eval.util import now_iso
from vt_eval.verdict.claim import claim_line, find_claim, matching_measure, model_names
from vt_eval.verdict.closing import strongest
from vt_eval.verdict.freshness import FreshnessFile, freshness_line
from vt_eval.verdict.model import BenchmarkVerdict, Inputs, Line, Verdict
from vt_eval.verdict.overlap import Audit, overlap_line
from vt_eval.verdict.probes import ProbeRun, probes_line
from vt_eval.verdict.reproducibility import reproducibility_line


def read_audit_dir(path: Path | None) -> Audit | None:
    if path is None:
        return None
    from vt_eval.decontam.audit import read_audit
    try:
        return Audit(Path(path), read_audit(Path(path)))
    except VtEvalError as exc:
        return Audit(Path(path), None, str(exc))


def _items(planned: PlannedBenchmark) -> dict[str, Item]:
    """The planned items (question, gold) from the recorded, sha256-checked data file; {} when the
    file is gone (overlap evidence then cannot say whether the answer was in the training row)."""
    try:
        return {item.id: item for item in reload_benchmark(planned).loaded.items}
    except VtEvalError:
        return {}


def _card(name: str) -> Card | None:
    try:
        return get_card(name)
    except VtEvalError:
        return None


def benchmark_verdict(verified: VerifiedRun, bench: VerifiedBenchmark, planned: PlannedBenchmark,
                      sources: tuple[Audit | None, ProbeRun | None, FreshnessFile],
                      claims: Mapping[str, float], names: list[str],
                      claim_source: str = "--claim") -> BenchmarkVerdict:
    audit, probes, freshness = sources
    result = bench.recomputed
    card = _card(bench.name)
    config = verified.data.config
    configured = dict(config.claims) if config is not None else {}
    claim = find_claim(bench.name, card, claims, configured, names, claim_source)
    scores = [s for s in verified.data.scores if s.benchmark == bench.name]
    measure = matching_measure(result, scores, card, verified.data.plan.run_seed)
    lines = [claim_line(result, claim, names, measure),
             overlap_line(result, audit, _items(planned) if audit and audit.data else {},
                          planned.dataset.get("sha256"),
                          verified.data.plan.run_seed),
             freshness_line(bench.name, freshness),
             probes_line(bench.name, probes),
             reproducibility_line(verified, bench)]
    lines = [powerless(line) for line in lines]
    if not verified.verified:
        lines = [unvouched(line, verified.problems) for line in lines]
    return BenchmarkVerdict(benchmark=bench.name, title=result.title, lines=lines,
                            strongest=strongest(lines, result))


def powerless(line: Line) -> Line:
    """A check too small to detect any difference (80% power needs more than 100 points) found
    nothing because it could not: not checked, never a green line."""
    power = line.power
    if (line.state != "no_evidence_found" or power is None or power.unit != "pp"
            or power.detectable_effect is None or power.detectable_effect < 1):
        return line
    return line.model_copy(update={
        "state": "not_checked", "reason": f"too few items for this check to detect any effect "
                                          f"({power.text()})"})


def unvouched(line: Line, problems: list[str]) -> Line:
    """On a run whose files disagree, a check that found nothing says nothing: not checked."""
    if line.state != "no_evidence_found" or line.question == "reproducibility":
        return line
    return line.model_copy(update={
        "state": "not_checked", "power": None,
        "reason": f"the run's integrity is not verified ({problems[0]}): a finding of nothing "
                  f"on it cannot be vouched for"})


def build_verdict(run_dir: Path, audit: Path | None = None, probes: Path | None = None,
                  claims: Mapping[str, float] | None = None,
                  verified: VerifiedRun | None = None, claim_source: str = "--claim") -> Verdict:
    """`claims`: fractions by benchmark (from --claim, or as `claim_source` says). Raises DataError (exit 2) when the run
    itself cannot be read; unusable audit / probe / freshness inputs become *not checked*."""
    verified = verified or verify_run(Path(run_dir))
    data = verified.data
    names = model_names(data.config.model.name if data.config else None, data.manifest.model)
    audit_dir = read_audit_dir(audit)
    probe_run = ProbeRun(probes, names) if probes is not None else None
    freshness = FreshnessFile(verified.path, data.scores)
    planned = {b.name: b for b in data.plan.benchmarks}
    sources = (audit_dir, probe_run, freshness)
    benchmarks = [benchmark_verdict(verified, bench, planned[name], sources, claims or {}, names,
                                    claim_source) for name, bench in verified.benchmarks.items()]
    notes = []
    if audit_dir is not None and audit_dir.error:
        notes.append(f"--audit {audit_dir.path}: {audit_dir.error}")
    if probe_run is not None and probe_run.error:
        notes.append(f"--probes {probe_run.path}: {probe_run.error}")
    if freshness.path.is_file() and freshness.data is None:
        notes.append(freshness.error)
    return Verdict(run_id=data.run_id, created_at=now_iso(), integrity=verified.status,
                   inputs=Inputs(run=str(verified.path), audit=str(audit) if audit else None,
                                 probes=str(probes) if probes else None,
                                 freshness=str(freshness.path) if freshness.data else None,
                                 claims=dict(claims or {})),
                   benchmarks=benchmarks, notes=notes)
