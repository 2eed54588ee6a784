"""The score gate: a run (+ audit, + baseline) against a `GatePolicy`, one result per rule.

Every figure a rule tests (avg@k, CI, rates, completeness, the baseline's accuracies) is the one
`verify.verify_run` recomputed from plan.json + scores.jsonl + samples.jsonl, never results.json.

Exit 0: every rule passed. 1: a rule was violated (a partial run violates `run.complete`).
2: an input cannot be trusted (a missing file or manifest record, older-schema or tampered
results, an unverified or partial baseline, an unreadable audit, an invalid policy): the gate
fails closed and never reports a pass it cannot vouch for. On an unverified run every rule that
would have passed is an error ("not vouched").
"""

from __future__ import annotations

from pathlib import Path

from vt_eval.errors import VtEvalError
from vt_eval.report.compare import compare_runs, untrusted
from vt_eval.report.gate_policy import GatePolicy
from vt_eval.report.provenance import manifest_dict, sandbox_mode
from vt_eval.report.rundata import dotted
from vt_eval.report.verify import VerifiedRun, verify_run

from vt_eval.report.gate_result import EXIT_ERROR, RuleResult, Status, exit_code

__all__ = ["EXIT_ERROR", "RuleResult", "evaluate", "exit_code"]


def _pct(value: float | None) -> str:
    return "none" if value is None else f"{100 * value:.2f}%"


def _run_rules(run: VerifiedRun) -> list[RuleResult]:
    problems = run.problems
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    out = [RuleResult("run.integrity", "error" if problems else "pass",
                      "; ".join(problems[:10]) + more if problems else
                      "every figure of results.json equals its recomputation from plan.json, "
                      "samples.jsonl and scores.jsonl, which are the files it was made from")]
    partial = run.partial()
    out.append(RuleResult("run.complete", "pass" if run.complete else "fail",
                          f"partial (planned samples present exactly once): {', '.join(partial)}"
                          if partial else "every planned sample is present exactly once, scored"))
    return out


def _score_rules(run: VerifiedRun, policy: GatePolicy) -> list[RuleResult]:
    by_name = {name: b.recomputed for name, b in run.benchmarks.items()}
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


def _rate_rules(run: VerifiedRun, policy: GatePolicy) -> list[RuleResult]:
    out = []
    for key, label in (("max_truncation", "truncated"), ("max_ungraded", "ungraded"),
                       ("max_no_answer", "no answer")):
        cap = getattr(policy.rates, key)
        if cap is None:
            continue
        for b in (v.recomputed for v in run.benchmarks.values()):
            total = sum(b.verdicts.values())
            rate = {"max_truncation": b.truncation_rate, "max_no_answer": b.no_answer_rate,
                    "max_ungraded": b.ungraded_samples / total if total else None}[key]
            ok = rate is not None and rate <= cap
            out.append(RuleResult(f"rates.{key}.{b.benchmark}", "pass" if ok else "fail",
                                  f"{label} {_pct(rate)} {'<=' if ok else '>'} {_pct(cap)}"))
    return out


def _regression_rules(run: VerifiedRun, policy: GatePolicy,
                      baseline: Path | None) -> list[RuleResult]:
    rule = policy.regression
    if rule is None:
        return []
    if baseline is None:
        status: Status = "error" if rule.require_baseline else "skipped"
        return [RuleResult("regression", status, "no --baseline run given" +
                           ("" if rule.require_baseline else ": not checked"))]
    try:
        base = verify_run(baseline)
        why = untrusted(base)
        if why is not None:
            return [RuleResult("regression", "error", f"baseline: {why}")]
        if run.verified and not run.complete:
            return [RuleResult("regression", "fail", "not compared: this run is partial "
                               f"({', '.join(run.partial())})")]
        if not run.verified:
            return [RuleResult("regression", "error", "not compared: this run is not verified "
                               "(see run.integrity)")]
        view = compare_runs(run, base, intersection=False, seed=run.data.manifest.seeds.run_seed)
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


def _contamination_rules(run: VerifiedRun, policy: GatePolicy,
                         audit: Path | None) -> list[RuleResult]:
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
    missing = sorted(name for name in run.benchmarks if name not in audited)
    out.append(RuleResult("contamination.coverage", "fail" if missing else "pass",
                          f"not audited: {missing}" if missing else
                          "the audit covers every benchmark of the run"))
    return out


def _provenance_rules(verified: VerifiedRun, policy: GatePolicy) -> list[RuleResult]:
    run = verified.data
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


def _not_vouched(results: list[RuleResult]) -> list[RuleResult]:
    """On an unverified run no rule passes: a pass becomes an error saying why."""
    return [RuleResult(r.name, "error", f"not vouched (run.integrity failed): {r.message}")
            if r.status == "pass" else r for r in results]


def evaluate(policy: GatePolicy, run_dir: Path, audit: Path | None = None,
             baseline: Path | None = None, probes: Path | None = None) -> list[RuleResult]:
    from vt_eval.report.gate_evidence import evidence_rules  # it builds on RuleResult
    try:
        run = verify_run(run_dir)
    except VtEvalError as exc:
        return [RuleResult("run.readable", "error", str(exc))]
    results = [RuleResult("run.readable", "pass", f"{run.path}: results schema "
                          f"{run.data.results.schema_version}; plan, manifest, samples and "
                          f"scores present")]
    integrity, *rules = _run_rules(run)
    results.append(integrity)
    rules += _score_rules(run, policy) + _rate_rules(run, policy)
    rules += _regression_rules(run, policy, baseline)
    rules += _contamination_rules(run, policy, audit)
    rules += _provenance_rules(run, policy)
    rules += evidence_rules(run, policy, audit, probes)
    return results + (rules if run.verified else _not_vouched(rules))
