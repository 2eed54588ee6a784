"""One line too long to hold in memory, read piece by piece: strict UTF-8 decoding and, for JSONL,
an incremental JSON syntax check. A piece that cannot be decoded, or a line that is not one JSON
object (checked up to its last byte), raises `BadLine`: the readers turn it into a counted skip of
that row, exactly as a short line with the same defect would be."""

from __future__ import annotations

import codecs
import re

from vt_eval.decontam.jsonstream import JsonLineValidator, JsonStreamError

_ESCAPES = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_ESC_MAP = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": "\n", "r": "\r", "t": "\t"}


class BadLine(Exception):
    """The line cannot be audited: `reason` is the skip reason, `detail` says where and why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def unescape_json(text: str) -> str:
    """JSON string escapes -> characters (the long-line path audits the raw line text)."""
    return _ESCAPES.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u"
                        else _ESC_MAP[m.group(1)], text)


class LongLine:
    """Decode (and for JSONL validate) the pieces of one line, in order."""

    def __init__(self, fmt: str) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._json = JsonLineValidator() if fmt == "jsonl" else None
        self._bytes = 0

    def text(self, part: bytes, last: bool) -> str:
        """The audited text of this piece; raises BadLine."""
        data = part.rstrip(b"\n") if last else part
        try:
            text = self._decoder.decode(data, final=last)
        except UnicodeDecodeError as exc:
            raise BadLine("invalid_utf8", f"invalid UTF-8 near byte {self._bytes + exc.start} "
                                          f"of the line: {exc.reason}") from exc
        self._bytes += len(part)
        if self._json is None:
            return text
        try:
            self._json.feed(text)
            if last:
                self._json.finish()
        except JsonStreamError as exc:
            raise BadLine(exc.reason, str(exc)) from exc
        return unescape_json(text)
