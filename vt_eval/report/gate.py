"""The score gate: a run (+ audit, + baseline) against a `GatePolicy`, one result per rule.

Exit 0: every rule passed. 1: a rule was violated (a partial run violates `run.complete`).
2: an input cannot be trusted (missing / older-schema / tampered results, unreadable audit or
baseline, invalid policy): the gate fails closed and never reports a pass it cannot vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vt_eval.errors import VtEvalError
from vt_eval.report.compare import compare_runs
from vt_eval.report.gate_policy import GatePolicy
from vt_eval.report.integrity import consistency_problems
from vt_eval.report.provenance import manifest_dict, sandbox_mode
from vt_eval.report.rundata import RunData, dotted, load_run

EXIT_OK, EXIT_VIOLATED, EXIT_ERROR = 0, 1, 2
Status = Literal["pass", "fail", "error", "skipped"]


@dataclass(frozen=True)
class RuleResult:
    name: str
    status: Status
    message: str


def exit_code(results: list[RuleResult]) -> int:
    if any(r.status == "error" for r in results) or not results:
        return EXIT_ERROR
    return EXIT_VIOLATED if any(r.status == "fail" for r in results) else EXIT_OK


def _pct(value: float | None) -> str:
    return "none" if value is None else f"{100 * value:.2f}%"


def _run_rules(run: RunData) -> list[RuleResult]:
    problems = consistency_problems(run)
    out = [RuleResult("run.integrity", "error" if problems else "pass",
                      "; ".join(problems[:10]) if problems else
                      "results.json agrees with plan.json, samples.jsonl and scores.jsonl")]
    partial = [f"{b.benchmark} {b.samples_done}/{b.samples_planned}"
               for b in run.results.benchmarks if not b.complete]
    out.append(RuleResult("run.complete", "fail" if partial or not run.results.benchmarks else
                          "pass", f"partial: {', '.join(partial)}" if partial else
                          "every planned sample was generated and scored"))
    return out


def _score_rules(run: RunData, policy: GatePolicy) -> list[RuleResult]:
    by_name = {b.benchmark: b for b in run.results.benchmarks}
    out = []
    for name, minimum in sorted(policy.scores.min.items()):
        result = by_name.get(name)
        rule = f"scores.min.{name}"
        if result is None:
            out.append(RuleResult(rule, "fail", f"{name} is not in this run"))
            continue
        basis = policy.scores.basis
        value = (result.ci95[0] if result.ci95 else None) if basis == "ci_low" else result.avg_at_k
        label = "95% CI lower bound" if basis == "ci_low" else "avg@k"
        ok = value is not None and value >= minimum
        out.append(RuleResult(rule, "pass" if ok else "fail",
                              f"{label} {_pct(value)} {'>=' if ok else '<'} minimum {_pct(minimum)}"))
    return out


def _rate_rules(run: RunData, policy: GatePolicy) -> list[RuleResult]:
    out = []
    for key, label in (("max_truncation", "truncated"), ("max_ungraded", "ungraded"),
                       ("max_no_answer", "no answer")):
        cap = getattr(policy.rates, key)
        if cap is None:
            continue
        for b in run.results.benchmarks:
            total = sum(b.verdicts.values())
            rate = {"max_truncation": b.truncation_rate, "max_no_answer": b.no_answer_rate,
                    "max_ungraded": b.ungraded_samples / total if total else None}[key]
            ok = rate is not None and rate <= cap
            out.append(RuleResult(f"rates.{key}.{b.benchmark}", "pass" if ok else "fail",
                                  f"{label} {_pct(rate)} {'<=' if ok else '>'} {_pct(cap)}"))
    return out


def _regression_rules(run: RunData, policy: GatePolicy, baseline: Path | None) -> list[RuleResult]:
    rule = policy.regression
    if rule is None:
        return []
    if baseline is None:
        status: Status = "error" if rule.require_baseline else "skipped"
        return [RuleResult("regression", status, "no --baseline run given")]
    try:
        base = load_run(baseline)
        problems = consistency_problems(base)
        if problems:
            return [RuleResult("regression", "error", f"baseline {baseline}: {problems[0]}")]
        view = compare_runs(run, base, intersection=False, seed=run.manifest.seeds.run_seed)
    except VtEvalError as exc:
        return [RuleResult("regression", "error", f"baseline {baseline}: {exc}")]
    out = []
    for row in view.rows:
        worse = row.difference < -rule.max_drop and row.p_value < rule.alpha
        out.append(RuleResult(
            f"regression.{row.benchmark}", "fail" if worse else "pass",
            f"{100 * row.difference:+.2f} pp vs baseline (95% CI {100 * row.ci95[0]:+.2f}, "
            f"{100 * row.ci95[1]:+.2f}; p = {row.p_value:.4f}); fails below "
            f"-{100 * rule.max_drop:.2f} pp at p < {rule.alpha}"))
    out += [RuleResult("regression", "fail", line) for line in view.refused]
    return out


def _contamination_rules(run: RunData, policy: GatePolicy, audit: Path | None) -> list[RuleResult]:
    from vt_eval.decontam.gate import check
    from vt_eval.decontam.policy import load_policy
    section = policy.contamination
    if section is None and audit is None:
        return []
    if audit is None:
        status: Status = "error" if section is not None and section.require_audit else "skipped"
        return [RuleResult("contamination", status, "no --audit dir given")]
    try:
        verdict = check(audit, load_policy(policy.decontam_policy_path()))
        from vt_eval.decontam.audit import read_audit
        audited = set(read_audit(audit)[0]["benchmarks"])
    except VtEvalError as exc:
        return [RuleResult("contamination", "error", str(exc))]
    status = {0: "pass", 1: "fail"}.get(verdict.code, "error")
    out = [RuleResult("contamination.policy", status, "\n".join(verdict.lines))]
    missing = sorted(b.benchmark for b in run.results.benchmarks if b.benchmark not in audited)
    out.append(RuleResult("contamination.coverage", "fail" if missing else "pass",
                          f"not audited: {missing}" if missing else
                          "the audit covers every benchmark of the run"))
    return out


def _provenance_rules(run: RunData, policy: GatePolicy) -> list[RuleResult]:
    data = manifest_dict(run)
    out = []
    for key in policy.provenance.required:
        found = dotted(data, key)
        empty = [path for path, value in found if value in (None, "", {}, [])]
        out.append(RuleResult(f"provenance.{key}", "fail" if empty or not found else "pass",
                              f"missing: {', '.join(empty)}" if empty else
                              "; ".join(f"{p} = {v}" for p, v in found)[:300]))
    if policy.sandbox.required:
        mode = sandbox_mode(run)
        out.append(RuleResult("sandbox", "fail" if mode.startswith("OFF") else "pass",
                              f"code sandbox: {mode}"))
    return out


def evaluate(policy: GatePolicy, run_dir: Path, audit: Path | None = None,
             baseline: Path | None = None) -> list[RuleResult]:
    try:
        run = load_run(run_dir)
    except VtEvalError as exc:
        return [RuleResult("run.readable", "error", str(exc))]
    results = [RuleResult("run.readable", "pass", f"{run.path}: results schema "
                          f"{run.results.schema_version}")]
    results += _run_rules(run)
    results += _score_rules(run, policy)
    results += _rate_rules(run, policy)
    results += _regression_rules(run, policy, baseline)
    results += _contamination_rules(run, policy, audit)
    results += _provenance_rules(run, policy)
    return results
