"""A zstd reader that fails closed: every frame of a multi-frame file is read, and input that
ends inside a frame (cut mid-block or exactly at a block boundary) raises instead of ending early.

`zstandard.ZstdDecompressor().stream_reader` returns a short read without error on a truncated
frame and stops after the first frame, so rows after the cut or in later frames would vanish.
(A file cut exactly between two complete frames is indistinguishable from a shorter valid file.)
"""

from __future__ import annotations

import io
from typing import BinaryIO

import zstandard

_INPUT_CHUNK = 1 << 13  # compressed bytes per step: bounds the output of one step (zstd bombs)


class TruncatedZstdError(EOFError):
    """The compressed input ended inside a zstd frame."""


class ZstdRawReader(io.RawIOBase):
    """Raw (unbuffered) reader of the decompressed bytes of every frame in `raw`."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._frame_bytes_in = 0  # compressed bytes fed to the current (unfinished) frame
        self._out = b""
        self._pos = 0
        self._input_done = False
        self._compressed_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._out) and not self._input_done:
            self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n

    def _fill(self) -> None:
        chunk = self._raw.read(_INPUT_CHUNK)
        if not chunk:
            self._input_done = True
            if self._frame_bytes_in:
                raise TruncatedZstdError(
                    f"zstd stream truncated: the input ends inside a frame after "
                    f"{self._compressed_read} compressed bytes (rows after the cut would be lost)")
            return
        self._compressed_read += len(chunk)
        pieces = []
        while chunk:
            self._frame_bytes_in += len(chunk)
            pieces.append(self._obj.decompress(chunk))
            if not self._obj.eof:
                break
            chunk = self._obj.unused_data
            self._obj = self._dctx.decompressobj()
            self._frame_bytes_in = 0
        self._out = b"".join(pieces)
        self._pos = 0

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def open_zstd(raw: BinaryIO) -> BinaryIO:
    """Buffered reader over `raw` (closed with it)."""
    return io.BufferedReader(ZstdRawReader(raw), buffer_size=1 << 16)  # type: ignore[return-value]
