"""`decontam audit`: plan tasks, run them on an engine, aggregate, write matches.jsonl and
summary.json. Also the API the scorer uses: `load_clean_ids` / `load_contaminated_ids`."""

from __future__ import annotations

import json
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vt_eval.decontam.engine import get_runner
from vt_eval.decontam.integrity import (
    FORMAT_VERSION,
    MATCHES,
    SUMMARY,
    matches_bytes,
    seal,
    verify,
)
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.normalize import DESCRIPTION as NORMALISATION
from vt_eval.decontam.policy import CountRule, Policy, policy_record, rule_for
from vt_eval.decontam.readers import Shard, ShardError, Task, detect_shard, plan_tasks
from vt_eval.decontam.scan import ScanOptions, TaskResult
from vt_eval.errors import DataError, VtEvalError
from vt_eval.util import package_versions, sha256_file

__all__ = ["FORMAT_VERSION", "MATCHES", "SUMMARY", "AuditConfig", "AuditOutcome", "BenchmarkSet",
           "load_benchmark_items", "load_clean_ids", "load_contaminated_ids", "read_audit", "rule_for",
           "run_audit", "write_outputs"]


@dataclass(frozen=True)
class BenchmarkSet:
    """The items to audit, per benchmark, with provenance (or the load error)."""

    items: tuple[BenchItem, ...]
    info: dict[str, dict[str, Any]]
    errors: tuple[str, ...] = ()


def load_benchmark_items(names: list[str]) -> BenchmarkSet:
    """Load cards by name; a benchmark that fails to load or has no items is an error."""
    from vt_eval.cards import get_card
    from vt_eval.data import load_benchmark

    items: list[BenchItem] = []
    info: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for name in names:
        try:
            loaded = load_benchmark(get_card(name))
        except VtEvalError as exc:
            errors.append(f"benchmark {name}: {exc}")
            continue
        info[name] = {"items": len(loaded.items), "sha256": loaded.sha256,
                      "location": loaded.location, "revision": loaded.revision}
        items.extend(BenchItem(name, it.id, it.question) for it in loaded.items)
    return BenchmarkSet(tuple(items), info, tuple(errors))


@dataclass(frozen=True)
class AuditConfig:
    """`chunk_bytes`: bytes of an uncompressed line file per task. `workers`: processes (local)
    or CPUs (ray). `hash_files`: record each training file's sha256."""

    engine: str = "local"
    workers: int = 2
    chunk_bytes: int = 32 << 20
    hash_files: bool = True
    options: ScanOptions = ScanOptions()


@dataclass
class AuditOutcome:
    matches: list[dict[str, Any]]
    summary: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def _sha256(path: str) -> str:
    return sha256_file(Path(path))


def _plan(paths: list[Path], chunk_bytes: int) -> tuple[list[Shard], list[Task], list[str]]:
    shards, tasks, errors = [], [], []
    for path in paths:
        try:
            shard = detect_shard(len(shards), path)
            tasks.extend(plan_tasks(shard, chunk_bytes))
            shards.append(shard)
        except ShardError as exc:
            errors.append(str(exc))
    return shards, tasks, errors


def _globalize(results: list[TaskResult], tasks: list[Task]) -> list[dict[str, Any]]:
    """Task-local row numbers -> shard row numbers (line files: rows of earlier tasks)."""
    seen_rows: Counter[int] = Counter()
    out = []
    for result, task in zip(results, tasks):
        base = task.row_base if task.row_base is not None else seen_rows[task.shard.index]
        for match in result.matches:
            out.append({**match, "file": task.shard.path, "row": base + match["row"]})
        seen_rows[task.shard.index] = base + result.rows
    return out


def _file_records(shards: list[Shard], tasks: list[Task], results: list[TaskResult],
                  hash_files: bool) -> list[dict[str, Any]]:
    records = []
    for shard in shards:
        mine = [r for r, t in zip(results, tasks) if t.shard.index == shard.index]
        skips: Counter[str] = Counter()
        examples: list[str] = []
        rows = 0
        for result, task in [(r, t) for r, t in zip(results, tasks) if t.shard.index == shard.index]:
            base = task.row_base if task.row_base is not None else rows
            skips.update(result.skips)
            examples.extend(_skip_example(shard, base, e) for e in result.skip_examples)
            rows = base + result.rows
        records.append({
            "path": shard.path, "format": shard.fmt, "compression": shard.compression,
            "bytes": shard.size, "sha256": _sha256(shard.path) if hash_files else None,
            "rows": rows, "text_bytes": sum(r.text_bytes for r in mine),
            "skipped": dict(sorted(skips.items())), "skip_examples": examples[:20],
            "oversized_rows": sum(r.oversized_rows for r in mine),
            "candidate_rows": sum(r.candidate_rows for r in mine),
            "minhash_signed_rows": sum(r.minhash_signed for r in mine),
            "minhash_rows_out_of_length": sum(r.minhash_out_of_length for r in mine),
            "minhash_rows_below_overlap": sum(r.minhash_below_overlap for r in mine),
        })
    return records


def _skip_example(shard: Shard, base: int, example: str) -> str:
    row, reason, detail = example.split("\t", 2)
    where = {"jsonl": f"line {base + int(row) + 1}",
             "text": f"paragraph {base + int(row)}"}.get(shard.fmt, f"row {base + int(row)}")
    label = "fields: " if reason == "missing_text_field" else ""
    return f"{shard.path}:{where}: {reason}" + (f" ({label}{detail})" if detail else "")


def _versions() -> dict[str, str]:
    installed = package_versions(("vt-eval", "numpy", "datasketch", "xxhash", "pyarrow",
                                  "zstandard", "confusable-homoglyphs"))
    return {"python": platform.python_version(),
            **{name: version or "not installed" for name, version in installed.items()}}


def benchmark_summary(bench: BenchmarkSet, matches: list[dict[str, Any]],
                      rules: tuple[CountRule, ...]) -> dict[str, Any]:
    """Per benchmark: items, contaminated (by `rules`), rate, clean / contaminated ids, worst items."""
    counting: dict[str, set[str]] = defaultdict(set)
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for match in matches:
        key = (match["benchmark"], match["item_id"])
        if rule_for(match, rules):
            counting[match["benchmark"]].add(match["item_id"])
        score = (match.get("containment", 0.0), match.get("longest_span_tokens", 0))
        if key not in best or score > best[key]["score"]:
            best[key] = {"score": score, "match": match}
    out: dict[str, Any] = {}
    for name, info in bench.info.items():
        ids = [it.item_id for it in bench.items if it.benchmark == name]
        bad = [i for i in ids if i in counting[name]]
        worst = sorted((v["match"] for k, v in best.items() if k[0] == name),
                       key=lambda m: (-m.get("containment", 0.0), -m.get("longest_span_tokens", 0)))
        out[name] = {**info, "contaminated": len(bad), "rate": round(len(bad) / len(ids), 6) if ids else 0.0,
                     "contaminated_ids": bad, "clean_ids": [i for i in ids if i not in counting[name]],
                     "matched_ids": sorted({m["item_id"] for m in worst}),
                     "worst": [{"item_id": m["item_id"], "method": m["method"], "n": m["n"],
                                "containment": m.get("containment"), "file": m["file"], "row": m["row"],
                                "longest_span_tokens": m.get("longest_span_tokens", 0),
                                "counts": bool(rule_for(m, rules))} for m in worst[:10]]}
    return out


def _unauditable_files(files: list[dict[str, Any]], failed: set[int],
                       shards: list[Shard]) -> list[str]:
    """A file with no rows, or no audited text in any row, cannot be vouched for."""
    failed_paths = {s.path for s in shards if s.index in failed}
    out = []
    for record in files:
        if record["path"] in failed_paths:
            continue
        if record["rows"] == 0:
            out.append(f"{record['path']}: no rows (an empty training file cannot be audited)")
        elif record["text_bytes"] == 0:
            out.append(f"{record['path']}: {record['rows']} row(s) but no audited text "
                       f"(skipped: {record['skipped'] or 'none'})")
    return out


def run_audit(train: list[Path], bench: BenchmarkSet, policy: Policy, config: AuditConfig,
              on_progress: Callable[[TaskResult, Task], None] | None = None) -> AuditOutcome:
    """Audit `train` against `bench`; errors are collected (fail closed), never raised."""
    started = time.time()
    shards, tasks, errors = _plan(train, config.chunk_bytes)
    errors = list(bench.errors) + errors
    if not bench.items:
        errors.append("no benchmark items to audit")
    results: list[TaskResult] = []
    if bench.items and tasks:
        runner = get_runner(config.engine)
        for result in runner(tasks, list(bench.items), policy, config.options, config.workers):
            results.append(result)
            if result.error:
                errors.append(result.error)
            if on_progress:
                on_progress(result, tasks[result.task_index])
    matches = _globalize(results, tasks) if len(results) == len(tasks) else []
    for match in matches:
        match["counts_by"] = rule_for(match, policy.rules)
    matches.sort(key=lambda m: (m["benchmark"], m["item_id"], m["file"], m["row"], m["method"]))
    files = _file_records(shards, tasks, results, config.hash_files) if len(results) == len(tasks) else []
    errors.extend(_unauditable_files(files, {r.shard_index for r in results if r.error}, shards))
    skipped = sum(sum(f["skipped"].values()) for f in files)
    summary = {
        "format_version": FORMAT_VERSION, "ok": not errors, "errors": errors,
        "policy": policy_record(policy),
        "parameters": {"engine": config.engine, "workers": config.workers,
                       "chunk_bytes": config.chunk_bytes,
                       "text_fields": list(config.options.text_fields) if config.options.text_fields else "all",
                       "max_line_bytes": config.options.max_line_bytes,
                       "normalisation": NORMALISATION,
                       "hot_path_hash": "numpy 8-byte chunks + splitmix64 (polynomial mod 2^64 past 64 bytes); "
                                        "exact token re-check",
                       "minhash": {"library": "datasketch", "scheme": "affine32",
                                   "shingle_hash": "low 32 bits of the 64-bit token n-gram hash"}},
        "versions": _versions(),
        "training": {"files": files, "rows": sum(f["rows"] for f in files),
                     "text_bytes": sum(f["text_bytes"] for f in files), "skipped_rows": skipped,
                     "empty_files": [f["path"] for f in files if f["rows"] == 0]},
        "benchmarks": benchmark_summary(bench, matches, policy.rules),
        "matches": {"total": len(matches), "counting": sum(1 for m in matches if m["counts_by"])},
        "seconds": round(time.time() - started, 3),
    }
    return AuditOutcome(matches, summary, errors)


def write_outputs(outcome: AuditOutcome, out_dir: Path) -> None:
    """matches.jsonl, then summary.json sealed with its sha256 and counts (`integrity`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = matches_bytes(outcome.matches)
    (out_dir / MATCHES).write_bytes(data)
    outcome.summary = seal(outcome.summary, data)
    (out_dir / SUMMARY).write_text(json.dumps(outcome.summary, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")


def read_audit(audit_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """summary.json and matches.jsonl of an audit folder, verified against each other
    (`integrity.verify`); DataError naming the file and key if they cannot be trusted."""
    return verify(Path(audit_dir))


def _ids(audit_dir: Path, key: str) -> dict[str, set[str]]:
    summary, _ = read_audit(audit_dir)
    if not summary["ok"]:
        raise DataError(f"{audit_dir}: the audit had errors ({'; '.join(summary['errors'][:3])}); "
                        f"its clean subset cannot be trusted")
    return {name: set(b[key]) for name, b in summary["benchmarks"].items()}


def load_clean_ids(audit_dir: Path) -> dict[str, set[str]]:
    """Benchmark name -> ids of items with no counting training overlap (for `score --exclude`)."""
    return _ids(Path(audit_dir), "clean_ids")


def load_contaminated_ids(audit_dir: Path) -> dict[str, set[str]]:
    """Benchmark name -> ids of items the audit's policy counts as contaminated."""
    return _ids(Path(audit_dir), "contaminated_ids")
