"""The gate's `[evidence]` rules: one result per (rule, question, benchmark) of the verdict, named
`evidence.require.<question>.<benchmark>` / `evidence.fail_on.<question>.<benchmark>` so the
JUnit test case names the panel line it judges."""

from __future__ import annotations

from pathlib import Path

from vt_eval.errors import VtEvalError
from vt_eval.report.gate_result import RuleResult
from vt_eval.report.gate_policy import GatePolicy
from vt_eval.report.verify import VerifiedRun
from vt_eval.verdict.build import build_verdict
from vt_eval.verdict.model import Line


def _message(line: Line) -> str:
    text = f"{line.title}: {line.state_text}: {line.summary}"
    if line.state == "not_checked":
        return f"{text}; why: {line.reason}"
    return text + (f"; power: {line.power.text()}" if line.power is not None else "")


def _require(line: Line, benchmark: str) -> RuleResult:
    failed = line.state == "not_checked"
    return RuleResult(f"evidence.require.{line.question}.{benchmark}",
                      "fail" if failed else "pass", _message(line))


def _fail_on(line: Line, benchmark: str) -> RuleResult:
    status = {"evidence_found": "fail", "no_evidence_found": "pass",
              "not_checked": "skipped"}[line.state]
    return RuleResult(f"evidence.fail_on.{line.question}.{benchmark}", status,  # type: ignore[arg-type]
                      _message(line))


def evidence_rules(run: VerifiedRun, policy: GatePolicy, audit: Path | None,
                   probes: Path | None) -> list[RuleResult]:
    section = policy.evidence
    if section is None:
        return []
    claims = {name: score / 100 for name, score in section.claims.items()}
    try:
        verdict = build_verdict(run.path, audit, probes, claims, verified=run,
                                claim_source="gate policy [evidence] claims")
    except VtEvalError as exc:
        return [RuleResult("evidence", "error", str(exc))]
    out = []
    for bench in verdict.benchmarks:
        for line in bench.lines:
            if line.question in section.require:
                out.append(_require(line, bench.benchmark))
            if line.question in section.fail_on:
                out.append(_fail_on(line, bench.benchmark))
    return out
