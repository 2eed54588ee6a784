"""Training overlap: a decontamination audit (`vt-eval decontam audit`) against this benchmark.

Which training files were audited (path, sha256, rows), the items whose training match also holds
the gold answer vs the question only, and the score without them: all items - clean subset, with
a bootstrap CI over items. An audit that skipped rows, had errors, or read another version of the
benchmark cannot say "no overlap": the line is then not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vt_eval.data import Item
from vt_eval.fmt import ci, pct, pp, pp_ci
from vt_eval.metrics import bootstrap_ci
from vt_eval.report.contamination import contamination_view
from vt_eval.results import BenchmarkResult
from vt_eval.verdict.model import Line, OverlapDetail, TrainingFile
from vt_eval.verdict.stats import all_minus_clean, interval, power

HOW = ("run `vt-eval decontam audit --train FILES --benchmarks {name} --out AUDIT` and pass "
       "--audit AUDIT")


@dataclass(frozen=True)
class Audit:
    """An audit dir as read: (summary, matches), or why it cannot be used."""

    path: Path
    data: tuple[dict[str, Any], list[dict[str, Any]]] | None
    error: str = ""


def _files(summary: Mapping[str, Any]) -> list[TrainingFile]:
    return [TrainingFile(path=str(f.get("path")), sha256=f.get("sha256"), rows=f.get("rows"))
            for f in summary.get("training", {}).get("files", [])]


def _not_checked(name: str, detail: OverlapDetail, summary: str, reason: str) -> Line:
    return Line(question="overlap", state="not_checked", summary=summary, reason=reason,
                detail=detail, anchor=f"overlap-{name}")


def _why_not(audit: Audit | None, name: str, dataset_sha: str | None) -> str | None:
    if audit is None:
        return "no audit given: " + HOW.format(name=name)
    if audit.data is None:
        return f"the audit {audit.path} cannot be used: {audit.error}"
    summary = audit.data[0]
    bench = summary["benchmarks"].get(name)
    if bench is None:
        return f"the audit {audit.path} did not cover {name}: " + HOW.format(name=name)
    if dataset_sha and bench.get("sha256") and bench["sha256"] != dataset_sha:
        return (f"the audit read another version of {name} (sha256 {str(bench['sha256'])[:12]}… "
                f"vs the run's {dataset_sha[:12]}…)")
    return None


def _clean_score(result: BenchmarkResult, flagged: set[str], seed: int
                 ) -> dict[str, Any]:
    scored = [i for i in result.per_item if i.accuracy is not None]
    accuracies = [float(i.accuracy) for i in scored if i.accuracy is not None]
    clean = [i.item_id not in flagged for i in scored]
    kept = [a for a, c in zip(accuracies, clean) if c]
    out: dict[str, Any] = {"all_items_score": result.avg_at_k, "clean_items": len(kept)}
    if kept:
        out["clean_score"] = sum(kept) / len(kept)
        out["clean_ci95"] = interval(bootstrap_ci(kept, seed))
        out["difference"], out["difference_ci95"] = all_minus_clean(accuracies, clean, seed)
    return out


def overlap_line(result: BenchmarkResult, audit: Audit | None, items: Mapping[str, Item],
                 dataset_sha: str | None, seed: int) -> Line:
    name = result.benchmark
    why = _why_not(audit, name, dataset_sha)
    if why is not None or audit is None or audit.data is None:
        return _not_checked(name, OverlapDetail(audit=str(audit.path) if audit else None),
                            "no training data audited", why or "")
    summary, _ = audit.data
    bench = summary["benchmarks"][name]
    view = contamination_view(audit.path, audit.data, name, items)
    groups = {"question_and_answer": [c.item_id for c in view.question_and_answer],
              "question_only": [c.item_id for c in view.question_only],
              "unknown": [c.item_id for c in view.unknown]} if view else {}
    flagged = {i for ids in groups.values() for i in ids}
    training = summary.get("training", {})
    detail = OverlapDetail(audit=str(audit.path), training_files=_files(summary),
                           training_rows=training.get("rows"), items=int(bench["items"]),
                           **groups, **_clean_score(result, flagged, seed))
    files = ", ".join(f"{Path(f.path).name} (sha256 {str(f.sha256)[:12]}…, {f.rows} rows)"
                      for f in detail.training_files)
    anchor = f"overlap-{name}"
    if flagged:
        text = (f"{len(flagged)}/{detail.items} items found in {files}: question and answer "
                f"{len(detail.question_and_answer)}, question only {len(detail.question_only)}"
                + (f", unread {len(detail.unknown)}" if detail.unknown else "")
                + f"; clean subset {detail.clean_items} items {pct(detail.clean_score)} "
                  f"{ci(_pair(detail.clean_ci95))}, all − clean {pp(detail.difference)} "
                  f"{pp_ci(_pair(detail.difference_ci95))}")
        return Line(question="overlap", state="evidence_found", summary=text, detail=detail,
                    anchor=anchor)
    skipped = int(training.get("skipped_rows") or 0)
    if not summary.get("ok", False) or skipped:
        problem = (f"{skipped} training rows were skipped" if skipped else
                   "the audit had errors: " + "; ".join(summary.get("errors", [])[:2]))
        return _not_checked(name, detail, f"no overlap found in {files}, but {problem}",
                            "an audit that did not read every row cannot say there is no overlap")
    return Line(question="overlap", state="no_evidence_found", detail=detail, anchor=anchor,
                summary=f"0/{detail.items} items found in {files}",
                power=power(detail.items, None, note=f"every item against "
                            f"{detail.training_rows} training rows (n-gram and MinHash rules of "
                            f"the audit's policy)"))


def _pair(value: Any) -> tuple[float, float] | None:
    return (value.low, value.high) if value is not None else None
