"""Append-only JSONL files that survive SIGKILL.

Each record is written as one complete line and flushed. After a crash the last line may be
partial: on open it is detected and cut off (and reported); a bad line anywhere else is an error
that names the line, because it means something other than a crash damaged the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from pydantic import BaseModel, ValidationError

from vt_eval.util import write_text_atomic

from vt_eval.errors import DataError

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Repair:
    path: Path
    dropped_bytes: int

    def __str__(self) -> str:
        return (f"{self.path}: cut off a partial last line ({self.dropped_bytes} bytes) left by an "
                f"interrupted write; that sample will be generated again")


def repair_tail(path: Path) -> Repair | None:
    """Truncate an unterminated or unparsable last line. Returns what was done."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        back = min(size, 1 << 20)
        while True:
            handle.seek(size - back)
            tail = handle.read(back)
            cut = tail.rstrip(b"\n").rfind(b"\n")
            if cut >= 0 or back == size:
                break
            back = min(size, back * 4)
        last_start = size - back + cut + 1 if cut >= 0 else 0
        last = tail[cut + 1:] if cut >= 0 else tail
        if last.endswith(b"\n"):
            try:
                json.loads(last)
                return None
            except json.JSONDecodeError:
                pass
        handle.truncate(last_start)
        return Repair(path, size - last_start)


def read_records(path: Path, model: type[Model]) -> Iterator[Model]:
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield _validate_line(model, line)
            except ValidationError as exc:
                raise DataError(f"{path}:{number}: not a valid {model.__name__} record: "
                                f"{exc.errors()[0]['msg']}") from exc


def _validate_line(model: type[Model], line: str) -> Model:
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        if exc.errors()[0]["type"] != "json_invalid":
            raise
        # A line written by an older vt-eval may hold lone-surrogate escapes ("\\ud800") that the
        # strict JSON parser refuses; Python's json accepts them and the model replaces them.
        try:
            return model.model_validate(json.loads(line))
        except json.JSONDecodeError:
            raise exc from None


class JsonlWriter:
    """Appends records, one flushed line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def write(self, record: BaseModel) -> None:
        self._handle.write(record.model_dump_json() + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_records_atomic(path: Path, records: Sequence[BaseModel]) -> None:
    write_text_atomic(path, "".join(record.model_dump_json() + "\n" for record in records))
