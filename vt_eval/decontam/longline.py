"""One line too long to hold in memory, read piece by piece: strict UTF-8 decoding and, for JSONL,
an incremental JSON syntax check. A piece that cannot be decoded, or a line that is not one JSON
object (checked up to its last byte), raises `BadLine`: the readers turn it into a counted skip of
that row, exactly as a short line with the same defect would be."""

from __future__ import annotations

import codecs
import re

from vt_eval.decontam.jsonstream import JsonLineValidator, JsonStreamError

_ESCAPES = re.compile(r'\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})'
                      r'|\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
# an escape cut by the end of a piece, or a high surrogate that may pair with the next piece
_OPEN_TAIL = re.compile(r'(?<!\\)(?:\\\\)*+(\\(?:u(?:[dD][89abAB][0-9a-fA-F]{2}|[0-9a-fA-F]{0,3}))?)\Z')
_ESC_MAP = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": "\n", "r": "\r", "t": "\t"}


class BadLine(Exception):
    """The line cannot be audited: `reason` is the skip reason, `detail` says where and why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _unescape_one(match: re.Match[str]) -> str:
    if match.group(1):
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    escape = match.group(3)
    if escape[0] != "u":
        return _ESC_MAP[escape]
    code = int(escape[1:], 16)
    if 0xD800 <= code <= 0xDFFF:
        raise BadLine("invalid_unicode", f"a lone surrogate escape \\{escape} (not encodable as UTF-8)")
    return chr(code)


def unescape_json(text: str) -> str:
    """JSON string escapes -> characters (the long-line path audits the raw line text); a lone
    surrogate escape raises BadLine."""
    return _ESCAPES.sub(_unescape_one, text)


class LongLine:
    """Decode (and for JSONL validate) the pieces of one line, in order."""

    def __init__(self, fmt: str) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._json = JsonLineValidator() if fmt == "jsonl" else None
        self._bytes = 0
        self._tail = ""  # an escape carried over to the next piece

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
        text, self._tail = self._tail + text, ""
        if not last:
            cut = _OPEN_TAIL.search(text, max(0, len(text) - 80))
            if cut:
                text, self._tail = text[:cut.start(1)], text[cut.start(1):]
        return unescape_json(text)
