"""`decontam check`: re-evaluate an audit under a policy and decide pass / violated / error.

Fail closed: anything about the audit or the policy that `check` cannot vouch for raises
(DataError / ConfigError, exit 2 naming the file and key) or returns EXIT_ERROR, never 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vt_eval.decontam.audit import read_audit
from vt_eval.decontam.policy import Policy, check_gate_names, rule_for

EXIT_OK, EXIT_VIOLATED, EXIT_ERROR = 0, 1, 2
FAIL_CLOSED = "the audit is incomplete, so the policy cannot pass (fail closed)"


@dataclass(frozen=True)
class Verdict:
    code: int
    lines: tuple[str, ...]


def _count(matches: list[dict[str, Any]], policy: Policy) -> dict[str, dict[str, int]]:
    """benchmark -> item id -> number of counting matches (its evidence count)."""
    out: dict[str, dict[str, int]] = {}
    for match in matches:
        if rule_for(match, policy.rules):
            per = out.setdefault(match["benchmark"], {})
            per[match["item_id"]] = per.get(match["item_id"], 0) + 1
    return out


def _known_benchmarks() -> set[str]:
    from vt_eval.cards import all_cards

    return set(all_cards())


def _refusal(summary: dict[str, Any], policy: Policy) -> Verdict | None:
    """EXIT_ERROR when the audit cannot support any verdict under `policy`."""
    if not summary["ok"] or summary["errors"]:
        return Verdict(EXIT_ERROR, tuple(f"audit error: {e}" for e in summary["errors"]) + (FAIL_CLOSED,))
    audited = {"ngram": summary["policy"]["ngram"], "minhash": summary["policy"]["minhash"]}
    wanted = {k: _jsonable(v) for k, v in policy.detection_params().items()}
    if audited != wanted:
        return Verdict(EXIT_ERROR, (f"policy {policy.source} uses detection parameters {wanted}, "
                                    f"but the audit ran with {audited}; re-run the audit with this policy",))
    check_gate_names(policy, _known_benchmarks(), set(summary["benchmarks"]))
    training = summary["training"]
    unaudited = [f["path"] for f in training["files"] if f["rows"] == 0 or f["text_bytes"] == 0]
    if not training["files"] or unaudited:
        listed = unaudited or "none listed"
        return Verdict(EXIT_ERROR, (f"training file(s) with no rows or no audited text: {listed}", FAIL_CLOSED))
    empty = [name for name, b in summary["benchmarks"].items() if b["items"] == 0]
    if not summary["benchmarks"] or empty:
        listed = empty or "none listed"
        return Verdict(EXIT_ERROR, (f"benchmark(s) with no audited items: {listed}", FAIL_CLOSED))
    skipped = training["skipped_rows"]
    if skipped > policy.gate.max_skipped_rows:
        examples = [e for f in training["files"] for e in f["skip_examples"]][:10]
        return Verdict(EXIT_ERROR, (f"{skipped} training row(s) skipped as unreadable or invalid; policy "
                                    f"allows {policy.gate.max_skipped_rows} (gate.max_skipped_rows)",
                                    *examples))
    return None


def check(audit_dir: Path, policy: Policy) -> Verdict:
    """Exit 0 when the policy holds, 1 when violated, 2 when the audit cannot be trusted."""
    summary, matches = read_audit(audit_dir)
    refusal = _refusal(summary, policy)
    if refusal is not None:
        return refusal
    counted = _count(matches, policy)
    benchmarks = summary["benchmarks"]
    unchecked = [name for name, b in benchmarks.items() if not _can_fail(policy, name, b["items"])]
    if len(unchecked) == len(benchmarks):
        return Verdict(EXIT_ERROR, (f"policy {policy.source} checks nothing on this audit: no benchmark "
                                    f"can fail (gate.max_rate = {policy.gate.max_rate}, every "
                                    f"gate.max_items cap at or above the benchmark's item count)",
                                    "not checked: the policy cannot fail, so it cannot pass (fail closed)"))
    failures, lines = [], []
    for name, bench in benchmarks.items():
        items = bench["items"]
        bad = counted.get(name, {})
        rate = len(bad) / items
        evidence = sum(bad.values())
        cap = policy.gate.max_items.get(name)
        status = f"{name}: {len(bad)}/{items} items contaminated ({100 * rate:.2f}%), {evidence} evidence match(es)"
        if name in unchecked:
            lines.append(f"not checked {status}; the gate cannot fail for it (gate.max_rate = "
                         f"{policy.gate.max_rate}, gate.max_items.{name} = {cap})")
        elif cap is not None and len(bad) > cap:
            failures.append(f"FAIL {status}; rule gate.max_items.{name} = {cap}")
        elif rate > policy.gate.max_rate:
            failures.append(f"FAIL {status}; rule gate.max_rate = {policy.gate.max_rate}")
        else:
            lines.append(f"ok   {status}")
        if bad:
            lines.append(f"     items: {', '.join(sorted(bad)[:20])}" + (" …" if len(bad) > 20 else ""))
    verdict = "policy violated" if failures else "policy holds"
    return Verdict(EXIT_VIOLATED if failures else EXIT_OK, (*failures, *lines, verdict))


def _can_fail(policy: Policy, name: str, items: int) -> bool:
    """Whether some number of contaminated items of this benchmark fails the gate."""
    cap = policy.gate.max_items.get(name)
    return policy.gate.max_rate < 1.0 or (cap is not None and cap < items)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
