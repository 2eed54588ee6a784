"""`decontam filter`: write the training set without the rows an audit found contaminated.

Rows to drop come from the audit's matches (those that count under its policy, or every match
with `drop_all_matches`). Each dropped row's hash is re-checked, so a file changed since the audit
is an error, not a silent mis-filter. Rows the audit could not read are dropped and reported too:
nothing unaudited reaches the output.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import xxhash

from vt_eval.decontam.audit import read_audit
from vt_eval.decontam.readers import (PieceEvent, RowEvent, ShardError, SkipEvent, detect_shard,
                                      iter_events, plan_tasks)
from vt_eval.decontam.scan import row_hash
from vt_eval.errors import DataError


@dataclass
class FileReport:
    path: str
    rows: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def drop_set(audit_dir: Path, drop_all_matches: bool) -> tuple[dict[tuple[str, int], tuple[str, str]], dict]:
    """(file, row) -> (row hash, reason) for every row to drop; also the audit summary."""
    summary, matches = read_audit(audit_dir)
    if not summary["ok"]:
        raise DataError(f"{audit_dir}: the audit had errors; fix them and re-run it before filtering")
    drops: dict[tuple[str, int], tuple[str, str]] = {}
    for match in matches:
        if drop_all_matches or match.get("counts_by"):
            reason = f"{match['benchmark']}/{match['item_id']} ({match['method']})"
            drops.setdefault((match["file"], match["row"]), (match["row_hash"], reason))
    return drops, summary


def _kept_bytes(event: RowEvent, fmt: str) -> bytes:
    if fmt == "text":
        return json.dumps({"text": event.text}, ensure_ascii=False).encode("utf-8") + b"\n"
    raw = event.raw or b""
    return raw if raw.endswith(b"\n") else raw + b"\n"


@dataclass
class _LongCopy:
    """An oversized row copied piece by piece; taken back if it turns out unauditable."""

    row: int
    start: int  # output offset of its first byte
    hasher: Any = field(default_factory=xxhash.xxh3_64)

    def copy(self, event: PieceEvent, out: BinaryIO, keep: bool, fmt: str) -> None:
        self.hasher.update(event.text.encode("utf-8"))
        if not keep:
            return
        if fmt == "text":  # a long paragraph: written as {"text": ...} like a short one
            head = b'{"text": "' if event.char_offset == 0 else b""
            body = json.dumps(event.text, ensure_ascii=False)[1:-1].encode("utf-8")
            out.write(head + body + (b'"}\n' if event.last else b""))
            return
        out.write(event.raw if not event.last or event.raw.endswith(b"\n") else event.raw + b"\n")

    def take_back(self, out: BinaryIO) -> None:
        out.seek(self.start)
        out.truncate()


def _filter_file(path: Path, drops: dict, out: BinaryIO, fields: tuple[str, ...] | None,
                 max_line: int) -> FileReport:
    shard = detect_shard(0, path)
    shard = type(shard)(0, str(path), shard.fmt, shard.compression, shard.size)
    report = FileReport(str(path))
    long_row: _LongCopy | None = None
    for task in plan_tasks(shard, chunk_bytes=1 << 62):
        base = task.row_base or 0
        for event in iter_events(task, fields, max_line, keep_raw=True):
            row = base + event.row
            report.rows = max(report.rows, row + 1)
            drop = drops.get((str(path), row))
            if isinstance(event, SkipEvent):
                if long_row is not None and long_row.row == row:
                    long_row.take_back(out)
                report.dropped[f"not audited ({event.reason})"] += 1
            elif isinstance(event, PieceEvent):
                if long_row is None or long_row.row != row:
                    long_row = _LongCopy(row, out.tell())
                long_row.copy(event, out, drop is None, shard.fmt)
                if event.last:
                    _finish_row(report, drop, long_row.hasher.hexdigest(), path, row)
            else:
                if drop is None:
                    out.write(_kept_bytes(event, shard.fmt))
                _finish_row(report, drop, row_hash(event.text), path, row)
    return report


def _finish_row(report: FileReport, drop: tuple[str, str] | None, digest: str, path: Path, row: int) -> None:
    if drop is None:
        report.kept += 1
        return
    if drop[0] != digest:
        raise DataError(f"{path} row {row}: content changed since the audit (hash {digest}, audit "
                        f"recorded {drop[0]}); re-run the audit")
    report.dropped["contaminated"] += 1
    if len(report.examples) < 20:
        report.examples.append(f"row {row}: {drop[1]}")


def run_filter(train: list[Path], audit_dir: Path, out_path: Path,
               drop_all_matches: bool) -> list[FileReport]:
    """Write `out_path` (JSONL); raise DataError / ShardError on anything untrustworthy. Rows are
    read exactly as the audit read them (its text fields and line limit, from summary.json)."""
    drops, summary = drop_set(audit_dir, drop_all_matches)
    params = summary["parameters"]
    fields = None if params["text_fields"] == "all" else tuple(params["text_fields"])
    max_line = int(params["max_line_bytes"])
    audited = {f["path"]: f for f in summary["training"]["files"]}
    for path in train:
        if str(path) not in audited:
            raise DataError(f"{path} was not part of audit {audit_dir} (audited: {sorted(audited)})")
    tmp = out_path.with_name(out_path.name + ".partial")
    reports = []
    try:
        with open(tmp, "wb") as out:
            for path in train:
                reports.append(_filter_file(path, drops, out, fields, max_line))
        os.replace(tmp, out_path)
    except (DataError, ShardError, OSError):
        tmp.unlink(missing_ok=True)
        raise
    return reports
