"""Plain text and Markdown read as paragraphs, so hard wrapping cannot hide a copy.

A row of a `.txt` / `.md` file is a paragraph: consecutive non-blank lines, up to a blank
(whitespace-only) line or the end of the file; its lines are audited as one text, so a benchmark
problem wrapped at 40 columns is one run of tokens again. A paragraph longer than `max_line` bytes
is streamed in pieces (bounded memory), like an oversized JSON line. A paragraph with invalid
UTF-8 anywhere is a counted skip (`invalid_utf8`, naming the line).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from vt_eval.decontam.events import Event, PieceEvent, RowEvent, ShardError, SkipEvent, split_lines


class _Paragraph:
    """The paragraph being read: its bytes and text so far, or the piece stream it became."""

    def __init__(self, row: int, line: int) -> None:
        self.row = row
        self.first_line = line
        self.last_line = line
        self.raw: list[bytes] = []
        self.text: list[str] = []
        self.size = 0
        self.offset = 0  # characters already sent as pieces
        self.streaming = False
        self.bad = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")

    def add(self, part: bytes, line: int, max_bytes: int) -> Iterator[Event]:
        self.last_line = line
        if self.bad:
            return
        try:
            self.text.append(self._decoder.decode(part))
        except UnicodeDecodeError as exc:
            self.bad = True
            yield SkipEvent(self.row, "invalid_utf8", f"line {line}: {exc.reason}")
            return
        self.raw.append(part)
        self.size += len(part)
        if self.size >= max_bytes:
            yield self._piece(last=False)

    def close(self) -> Iterator[Event]:
        if self.bad:
            return
        try:
            self.text.append(self._decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            yield SkipEvent(self.row, "invalid_utf8", f"line {self.last_line}: {exc.reason}")
            return
        if self.streaming:
            yield self._piece(last=True)
            return
        text = "".join(self.text).rstrip("\r\n")
        where = f"lines {self.first_line}-{self.last_line}"
        yield RowEvent(self.row, text, ((where, 0, len(text)),), b"".join(self.raw))

    def _piece(self, last: bool) -> PieceEvent:
        text, raw = "".join(self.text), b"".join(self.raw)
        if last:
            text = text.rstrip("\r\n")
        event = PieceEvent(self.row, text, self.offset, last, raw)
        self.streaming = True
        self.offset += len(text)
        self.text, self.raw, self.size = [], [], 0
        return event


def paragraph_events(stream: BinaryIO, path: str, max_line: int) -> Iterator[Event]:
    """The paragraphs of a whole text file, in order (row = paragraph index)."""
    paragraph: _Paragraph | None = None
    line, rows = 0, 0
    for part, first, last in split_lines(stream, 0, -1, max_line):
        if b"\x00" in part:
            raise ShardError(f"{path}: binary data (NUL byte) in line {line + 1}; not a text file")
        if first:
            line += 1
            if last and not part.strip():  # a blank line ends the paragraph
                if paragraph is not None:
                    yield from paragraph.close()
                    paragraph = None
                continue
        if paragraph is None:
            paragraph = _Paragraph(rows, line)
            rows += 1
        yield from paragraph.add(part, line, max_line)
    if paragraph is not None:
        yield from paragraph.close()
