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

from vt_eval.decontam.longline import BadLine, LongLine
from vt_eval.decontam.zstd_stream import open_zstd

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet",
           ".txt": "text", ".text": "text", ".md": "text"}
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst"}
_SKIP_KEYS = frozenset({"role", "from", "type"})  # chat metadata, not text


class ShardError(Exception):
    """A training shard that cannot be read or trusted."""


class TextFieldError(ShardError):
    """The requested text field is not in the data (message lists the available fields)."""


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


@dataclass(frozen=True)
class RowEvent:
    row: int  # index within the task
    text: str
    segments: tuple[tuple[str, int, int], ...]  # (field path, start, end) in `text`
    raw: bytes | None = None


@dataclass(frozen=True)
class PieceEvent:
    row: int
    text: str
    char_offset: int
    last: bool
    raw: bytes


@dataclass(frozen=True)
class SkipEvent:
    row: int
    reason: str
    detail: str = ""


Event = RowEvent | PieceEvent | SkipEvent


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
    if shard.compression or shard.fmt == "json" or shard.size <= chunk_bytes:
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


def _lines(stream: BinaryIO, start: int, end: int, max_line: int) -> Iterator[tuple[bytes, bool, bool]]:
    """(bytes, first piece, last piece) for each line starting in [start, end); long lines in pieces."""
    if start > 0:
        stream.seek(start - 1)
        if stream.read(1) != b"\n":
            while (part := stream.readline(max_line)) and not part.endswith(b"\n"):
                pass
    pos = stream.tell() if start > 0 else 0
    while end < 0 or pos < end:
        part = stream.readline(max_line)
        if not part:
            return
        pos += len(part)
        first = True
        while len(part) == max_line and not part.endswith(b"\n"):
            nxt = stream.readline(max_line)
            if not nxt:
                break
            yield part, first, False
            pos += len(nxt)
            part, first = nxt, False
        yield part, first, True


def flatten(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) for every string inside `value` (chat metadata keys skipped)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key not in _SKIP_KEYS:
                yield from flatten(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from flatten(sub, f"{path}[{i}]")


def _resolve(row: dict[str, Any], field: str) -> tuple[bool, Any]:
    value: Any = row
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _non_text(value: Any, field: str) -> str | None:
    """Why a requested field's value is not auditable text (None: it is)."""
    if isinstance(value, str):
        return None
    if not isinstance(value, (dict, list)):
        return f"{field} is {type(value).__name__}, not a string"
    if isinstance(value, list):
        for i, sub in enumerate(value):
            if not isinstance(sub, (str, dict, list)):
                return f"{field}[{i}] is {type(sub).__name__}, not a string"
    if next(flatten(value, field), None) is None:
        return f"{field} holds no string"
    return None


Segments = tuple[tuple[str, int, int], ...]  # (field path, start, end) in the joined text


def row_text(row: dict[str, Any], fields: tuple[str, ...] | None) -> tuple[str, Segments] | SkipEvent:
    """The audited text of a row (segments joined by newlines), or why it cannot be audited
    (a SkipEvent with row -1): a requested field missing or not text, or no string at all."""
    parts: list[tuple[str, str]] = []
    if fields is None:
        parts = list(flatten(row, ""))
        if not parts:
            return SkipEvent(-1, "no_text", "no string value in the row")
    for field in fields or ():
        found, value = _resolve(row, field)
        if not found:
            return SkipEvent(-1, "missing_text_field", ", ".join(sorted(map(str, row))))
        problem = _non_text(value, field)
        if problem:
            return SkipEvent(-1, "non_string_text_field", problem)
        parts.extend(flatten(value, field))
    segments, pieces, offset = [], [], 0
    for path, text in parts:
        segments.append((path, offset, offset + len(text)))
        pieces.append(text)
        offset += len(text) + 1
    return "\n".join(pieces), tuple(segments)


def _row_event(index: int, row: Any, fields: tuple[str, ...] | None,
               raw: bytes | None) -> RowEvent | SkipEvent:
    if not isinstance(row, dict):
        return SkipEvent(index, "not_an_object")
    extracted = row_text(row, fields)
    if isinstance(extracted, SkipEvent):
        return SkipEvent(index, extracted.reason, extracted.detail)
    return RowEvent(index, extracted[0], extracted[1], raw)


def _line_events(stream: BinaryIO, task: Task, fields: tuple[str, ...] | None,
                 max_line: int) -> Iterator[Event]:
    """Rows of a line file. A line longer than `max_line` comes as PieceEvents; if it turns out
    not to be auditable (invalid UTF-8, not one JSON object) a SkipEvent for the same row follows
    its pieces and the rest of the line is passed over."""
    row, offset = -1, 0
    long_line: LongLine | None = None
    for part, first, last in _lines(stream, task.start, task.end, max_line):
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
    if fmt == "text":
        return RowEvent(row, line, (("line", 0, len(line)),), part)
    if not line.strip():
        return SkipEvent(row, "blank_line")
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return SkipEvent(row, "invalid_json", str(exc))
    return _row_event(row, value, fields, part)


def _dumped(value: Any, keep_raw: bool) -> bytes | None:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8") + b"\n" if keep_raw else None


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
                for value in batch.to_pylist():
                    yield _row_event(row, value, fields, _dumped(value, keep_raw))
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
                data = json.loads(stream.read())
                rows = data if isinstance(data, list) else [data]
                for i, value in enumerate(rows):
                    yield _row_event(i, value, fields, _dumped(value, keep_raw))
                return
            yield from _line_events(stream, task, fields, max_line)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise ShardError(f"{task.shard.path}: unreadable ({type(exc).__name__}: {exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ShardError(f"{task.shard.path}: not valid JSON ({exc})") from exc
