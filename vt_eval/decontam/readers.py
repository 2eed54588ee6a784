"""Streaming readers for training shards: JSONL, JSON, Parquet, plain text; gzip / zstd.

A shard is split into tasks (byte ranges of uncompressed line files, row groups of Parquet, else
the whole file). Reading yields events: a complete row, a piece of an oversized row (a line longer
than `max_line_bytes` is never held in memory whole), or a skipped row with its reason. Anything
that makes a shard untrustworthy (missing, binary, corrupt compression, bad Parquet) raises
`ShardError`; the audit records it and exits 2.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from vt_eval.decontam.events import (Event, PieceEvent, RowEvent, ShardError, SkipEvent,
                                     TextFieldError, split_lines)
from vt_eval.decontam.longline import BadLine, LongLine
from vt_eval.decontam.paragraphs import paragraph_events
from vt_eval.decontam.rowtext import RowProblem, parse_json, row_text
from vt_eval.decontam.zstd_stream import open_zstd

__all__ = ["Event", "PieceEvent", "RowEvent", "Shard", "ShardError", "SkipEvent", "Task",
           "TextFieldError", "detect_shard", "iter_events", "plan_tasks"]

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet",
           ".txt": "text", ".text": "text", ".md": "text"}
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst"}


@dataclass(frozen=True)
class Shard:
    index: int
    path: str
    fmt: str
    compression: str | None
    size: int


@dataclass(frozen=True)
class Task:
    """Part of a shard: bytes [start, end) (end -1: to EOF) or Parquet row groups [start, end).
    `row_base` is the shard row index of the task's first row when known at planning time."""

    shard: Shard
    start: int = 0
    end: int = -1
    row_base: int | None = 0


def detect_shard(index: int, path: Path) -> Shard:
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    fmt_suffix = suffixes[-2] if compression and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    fmt = FORMATS.get(fmt_suffix)
    if fmt is None:
        raise ShardError(f"{path}: unknown training file type '{''.join(path.suffixes) or '(none)'}'; "
                         f"use one of {sorted(FORMATS)} optionally with {sorted(COMPRESSIONS)}")
    if fmt == "parquet" and compression:
        raise ShardError(f"{path}: compressed Parquet files are not supported (Parquet compresses itself)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ShardError(f"{path}: cannot read: {exc}") from exc
    if not path.is_file():
        raise ShardError(f"{path}: not a file")
    return Shard(index, str(path), fmt, compression, size)


def plan_tasks(shard: Shard, chunk_bytes: int) -> list[Task]:
    """Split a shard into tasks that can run in any process."""
    if shard.fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(shard.path).metadata
        except (OSError, ValueError) as exc:
            raise ShardError(f"{shard.path}: not a readable Parquet file: {exc}") from exc
        tasks, base = [], 0
        for rg in range(meta.num_row_groups):
            tasks.append(Task(shard, rg, rg + 1, base))
            base += meta.row_group(rg).num_rows
        return tasks or [Task(shard, 0, 0, 0)]
    if shard.compression or shard.fmt in ("json", "text") or shard.size <= chunk_bytes:
        return [Task(shard)]
    starts = list(range(0, shard.size, chunk_bytes))
    return [Task(shard, s, min(s + chunk_bytes, shard.size), 0 if s == 0 else None) for s in starts]


def _open(shard: Shard) -> BinaryIO:
    raw = open(shard.path, "rb")  # noqa: SIM115 - closed by the caller's context
    if shard.compression == "gz":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if shard.compression == "zst":
        return open_zstd(raw)
    return raw


def _row_event(index: int, row: Any, fields: tuple[str, ...] | None,
               raw: bytes | None | bool) -> RowEvent | SkipEvent:
    """`raw`: the row's bytes, or True to serialise the parsed row (only once it proved readable)."""
    if not isinstance(row, dict):
        return SkipEvent(index, "not_an_object")
    try:
        text, segments = row_text(row, fields)
        if raw is True:
            raw = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    except RowProblem as exc:
        return SkipEvent(index, exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - any row that cannot be read is a counted skip
        return SkipEvent(index, "unreadable_row", f"{type(exc).__name__}: {str(exc)[:200]}")
    return RowEvent(index, text, segments, raw or None)


def _line_events(stream: BinaryIO, task: Task, fields: tuple[str, ...] | None,
                 max_line: int) -> Iterator[Event]:
    """Rows of a line file. A line longer than `max_line` comes as PieceEvents; if it turns out
    not to be auditable (invalid UTF-8, not one JSON object) a SkipEvent for the same row follows
    its pieces and the rest of the line is passed over."""
    row, offset = -1, 0
    long_line: LongLine | None = None
    for part, first, last in split_lines(stream, task.start, task.end, max_line):
        if first:
            row, offset = row + 1, 0
            long_line = None if last else LongLine(task.shard.fmt)
        if b"\x00" in part:
            raise ShardError(f"{task.shard.path}: binary data (NUL byte) in line {row + 1} of this "
                             f"part of the file; not a text file")
        if first and last:
            yield _whole_line(row, part, task.shard.fmt, fields)
            continue
        if long_line is None:  # this row was already skipped
            continue
        try:
            text = long_line.text(part, last)
        except BadLine as exc:
            long_line = None
            yield SkipEvent(row, exc.reason, exc.detail)
            continue
        yield PieceEvent(row, text, offset, last, part)
        offset += len(text)


def _whole_line(row: int, part: bytes, fmt: str, fields: tuple[str, ...] | None) -> Event:
    try:
        line = part.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return SkipEvent(row, "invalid_utf8")
    if not line or line.isspace():
        return SkipEvent(row, "blank_line")
    try:
        value = parse_json(line)
    except RowProblem as exc:
        return SkipEvent(row, exc.reason, exc.detail)
    return _row_event(row, value, fields, part)


def _batch_rows(batch: Any) -> Iterator[Any]:
    """The rows of a Parquet record batch as Python values; a row pyarrow cannot convert (e.g. a
    timestamp outside Python's range) comes as the exception, to be skipped."""
    try:
        yield from batch.to_pylist()
        return
    except Exception:  # noqa: BLE001 - find the row(s) that fail below
        pass
    for i in range(batch.num_rows):
        try:
            yield batch.slice(i, 1).to_pylist()[0]
        except Exception as exc:  # noqa: BLE001 - a row that cannot be read is a counted skip
            yield exc


def _parquet_events(task: Task, fields: tuple[str, ...] | None, keep_raw: bool) -> Iterator[Event]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(task.shard.path)
        columns = sorted({f.split(".")[0] for f in fields}) if fields else None
        if columns:
            missing = [c for c in columns if c not in pf.schema_arrow.names]
            if missing:
                raise TextFieldError(f"{task.shard.path}: text field(s) {missing} not found; "
                                     f"available: {pf.schema_arrow.names}")
        row = 0
        for rg in range(task.start, task.end):
            for batch in pf.iter_batches(row_groups=[rg], columns=columns, batch_size=4096):
                for value in _batch_rows(batch):
                    if isinstance(value, Exception):
                        yield SkipEvent(row, "unreadable_row", f"{type(value).__name__}: {value}"[:200])
                    else:
                        yield _row_event(row, value, fields, keep_raw)
                    row += 1
    except (OSError, pa.ArrowException) as exc:
        raise ShardError(f"{task.shard.path}: unreadable Parquet data: {exc}") from exc


def iter_events(task: Task, fields: tuple[str, ...] | None, max_line: int,
                keep_raw: bool = False) -> Iterator[Event]:
    """Every row of a task, in order. Raises ShardError for an untrustworthy shard. `keep_raw`:
    JSON and Parquet rows carry their JSON serialisation (line formats always carry the line)."""
    if task.shard.fmt == "parquet":
        yield from _parquet_events(task, fields, keep_raw)
        return
    try:
        with _open(task.shard) as stream:
            if task.shard.fmt == "json":
                try:
                    data = parse_json(stream.read())
                except RowProblem as exc:
                    raise ShardError(f"{task.shard.path}: not readable as JSON ({exc})") from exc
                rows = data if isinstance(data, list) else [data]
                for i, value in enumerate(rows):
                    yield _row_event(i, value, fields, keep_raw)
                return
            if task.shard.fmt == "text":
                yield from paragraph_events(stream, task.shard.path, max_line)
                return
            yield from _line_events(stream, task, fields, max_line)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise ShardError(f"{task.shard.path}: unreadable ({type(exc).__name__}: {exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ShardError(f"{task.shard.path}: not valid JSON ({exc})") from exc
