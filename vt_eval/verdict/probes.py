"""Memorization probes: a `vt-eval probe` output dir (benchmarks.json + items.jsonl) for this
benchmark.

Used only when the probes ran on this run's model and benchmarks.json's means follow from
items.jsonl. Per statistic: the benchmark minus the pooled post-cutoff controls with its CI, and
the items flagged, i.e. above every control item (an unseen item is there with probability
1 / (controls + 1)). Evidence found: the probe run says the benchmark stands out on a statistic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vt_eval.probes.compare import STATISTICS
from vt_eval.probes.texts import cut
from vt_eval.verdict.model import Line, ProbeExample, ProbesDetail, ProbeStatistic
from vt_eval.verdict.stats import interval, power

TOLERANCE = 1e-9
MAX_EXAMPLES = 10
PRIMARY = ("prefix_match", "min_k", "perturbation_gap")  # one per probe, for the power line


def probe_kind(statistic: str) -> str:
    return "perturbation" if statistic == "perturbation_gap" else STATISTICS[statistic][0]


class ProbeRun:
    """A probe output dir as read and checked, or why it cannot be used."""

    def __init__(self, directory: Path, run_models: Sequence[str]) -> None:
        self.path = Path(directory)
        self.report: dict[str, Any] | None = None
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.error = ""
        try:
            report = json.loads((self.path / "benchmarks.json").read_text(encoding="utf-8"))
            lines = (self.path / "items.jsonl").read_text(encoding="utf-8").splitlines()
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    self.records.setdefault(str(record["benchmark"]), []).append(record)
            problem = _disagreement(report, self.records)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.error = f"{self.path} is not a readable probe output ({exc!r})"
            return
        model = str(report.get("model") or "")
        if not _same_model(model, run_models):
            self.error = (f"the probes in {self.path} ran on {model or 'an unnamed model'}, this run "
                          f"is of {run_models[0] if run_models else 'an unnamed model'}")
        elif problem:
            self.error = f"{self.path}: benchmarks.json does not follow from items.jsonl ({problem})"
        else:
            self.report = report


def _same_model(model: str, names: Sequence[str]) -> bool:
    wanted = {model.casefold(), Path(model.rstrip("/")).name.casefold()} - {""}
    return bool(wanted & {n.casefold() for n in names})


def _mean(records: list[dict[str, Any]], statistic: str) -> float | None:
    values = [float(r[statistic]) for r in records if r.get(statistic) is not None]
    return sum(values) / len(values) if values else None


def _disagreement(report: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> str:
    for name, entry in report["benchmarks"].items():
        mine = records.get(name, [])
        if len(mine) != entry["items"]:
            return f"{name}: {entry['items']} items in benchmarks.json, {len(mine)} in items.jsonl"
        for statistic, stat in entry["statistics"].items():
            mean, recorded = _mean(mine, statistic), stat.get("value")
            if (mean is None) != (recorded is None) or (
                    mean is not None and abs(mean - float(recorded)) > TOLERANCE):
                return f"{name} {statistic}: mean {recorded} recorded, {mean} from the items"
    return ""


def _flagged(mine: list[dict[str, Any]], controls: list[dict[str, Any]], statistic: str) -> list[str]:
    top = [r[statistic] for r in controls if r.get(statistic) is not None]
    if not top:
        return []
    highest = max(top)
    return [str(r["item_id"]) for r in mine if r.get(statistic) is not None and r[statistic] > highest]


def _statistics(entry: dict[str, Any], mine: list[dict[str, Any]],
                controls: list[dict[str, Any]]) -> list[ProbeStatistic]:
    out = []
    for statistic, versus in entry.get("vs_controls", {}).items():
        if entry["statistics"][statistic]["n"] == 0:
            continue  # this probe was not run (or the backend cannot give the statistic)
        out.append(ProbeStatistic(
            probe=probe_kind(statistic), statistic=statistic,  # type: ignore[arg-type]
            value=entry["statistics"][statistic]["value"], difference=versus["value"],
            difference_ci95=interval((versus["ci_low"], versus["ci_high"])),
            margin=float(versus["margin"]), p_value=versus.get("p_value"),
            stands_out=bool(versus["stands_out"]),
            flagged_items=_flagged(mine, controls, statistic)))
    return out


def _example(record: dict[str, Any], flagged_by: list[str]) -> ProbeExample:
    scores = {s: float(record[s]) for s in flagged_by if record.get(s) is not None}
    cuts = record.get("cuts") or []
    if not cuts:
        return ProbeExample(item_id=str(record["item_id"]), flagged_by=flagged_by,
                            prompt=str(record["text"]), continuation="", reference="", scores=scores)
    best = max(cuts, key=lambda c: (c.get("prefix_match") or 0, c.get("rouge_l") or 0))
    prompt, _ = cut(str(record["text"]), float(best["cut"]))
    return ProbeExample(item_id=str(record["item_id"]), flagged_by=flagged_by, prompt=prompt,
                        continuation=str(best.get("generated", "")),
                        reference=str(best.get("reference", "")), scores=scores)


def _examples(mine: list[dict[str, Any]], statistics: list[ProbeStatistic]) -> list[ProbeExample]:
    by_item: dict[str, list[str]] = {}
    for stat in statistics:
        for item in stat.flagged_items:
            by_item.setdefault(item, []).append(stat.statistic)
    records = {str(r["item_id"]): r for r in mine}
    ranked = sorted(by_item, key=lambda i: -len(by_item[i]))[:MAX_EXAMPLES]
    return [_example(records[i], by_item[i]) for i in ranked]


def _summary(stats: list[ProbeStatistic], control_items: int, controls: list[str]) -> str:
    shown = [s for s in stats if s.statistic in PRIMARY] or stats[:3]
    parts = [f"{s.probe} Δ {s.statistic} {s.difference:+.3f} "
             f"[{s.difference_ci95.low:+.3f}, {s.difference_ci95.high:+.3f}]"
             for s in shown if s.difference is not None and s.difference_ci95 is not None]
    flagged = len({i for s in stats for i in s.flagged_items})
    return (f"{'; '.join(parts)} vs {control_items} control items ({', '.join(controls)}); "
            f"{flagged} items above every control item")


def probes_line(name: str, run: ProbeRun | None) -> Line:
    try:
        return _probes_line(name, run)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Line(question="probes", state="not_checked", detail=ProbesDetail(),
                    anchor=f"probes-{name}", summary="no memorization probe",
                    reason=f"{run.path if run else 'the probe output'} is not a probe output this "
                           f"vt-eval reads ({exc!r}); run `vt-eval probe` again")


def _probes_line(name: str, run: ProbeRun | None) -> Line:
    anchor = f"probes-{name}"
    if run is None or run.report is None:
        reason = run.error if run is not None else (
            f"no probe run given: run `vt-eval probe --benchmarks {name},CONTROL --cutoff DATE` "
            f"and pass --probes OUT/RUN_ID")
        return Line(question="probes", state="not_checked", detail=ProbesDetail(), anchor=anchor,
                    summary="no memorization probe", reason=reason)
    report = run.report
    controls = [str(c) for c in report.get("controls", [])]
    pooled = [r for c in controls for r in run.records.get(c, [])]
    entry = report["benchmarks"].get(name)
    base = ProbesDetail(directory=str(run.path), model=report.get("model"), cutoff=report.get("cutoff"),
                        controls=controls, control_items=len(pooled))
    if entry is None or entry["role"] == "control" or "vs_controls" not in entry:
        why = (f"{name} was not probed in {run.path}" if entry is None else
               f"{name} was a post-cutoff control of the probe run (the baseline, not a suspect)"
               if entry["role"] == "control" else "the probe run had no controls to compare with")
        return Line(question="probes", state="not_checked", detail=base, anchor=anchor,
                    summary="not probed as a suspect", reason=why)
    mine = run.records.get(name, [])
    stats = _statistics(entry, mine, pooled)
    detail = base.model_copy(update={
        "items": len(mine), "statistics": stats, "examples": _examples(mine, stats),
        "probes_run": sorted({s.probe for s in stats})})
    text = _summary(stats, len(pooled), controls)
    standing = [s.statistic for s in stats if s.stands_out]
    if standing:
        return Line(question="probes", state="evidence_found", detail=detail, anchor=anchor,
                    summary=f"{text}; stands out on {', '.join(standing)}")
    primary = next((s for s in stats if s.statistic in PRIMARY and s.difference_ci95), None)
    note = (f"Δ {primary.statistic} in its units; flagged only when the whole CI clears the "
            f"margin {primary.margin}, so the detectable effect includes it" if primary
            else "no statistic could be compared")
    found = power(len(mine), primary.difference_ci95 if primary else None,
                  compared_with=len(pooled), note=note, unit="raw")
    if primary is not None and found.detectable_effect is not None:
        found = found.model_copy(update={"detectable_effect": found.detectable_effect + primary.margin})
    return Line(question="probes", state="no_evidence_found", detail=detail, anchor=anchor,
                summary=f"{text}; stands out on nothing at the configured margins", power=found)
