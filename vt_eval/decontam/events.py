"""What the readers yield: a complete row, a piece of an oversized row, or a skipped row; and the
errors that make a whole shard untrustworthy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


class ShardError(Exception):
    """A training shard that cannot be read or trusted."""


class TextFieldError(ShardError):
    """The requested text field is not in the data (message lists the available fields)."""


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


def split_lines(stream: BinaryIO, start: int, end: int, max_line: int) -> Iterator[tuple[bytes, bool, bool]]:
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
