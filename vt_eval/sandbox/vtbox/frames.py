"""Length-prefixed frames: 4-byte big-endian size, then the body.

Host <-> server frames carry JSON written by trusted code. Child -> server frames are untrusted:
one kind byte and opaque payload bytes, relayed to the host as data, never interpreted here.
"""

from __future__ import annotations

import json
import os
import struct

MAX_REQUEST = 1 << 30
# What a candidate process may send back (its only channel in call mode), one byte first:
READY, LOAD_ERROR, VALUE, UNSERIALIZABLE, EXCEPTION = b"R", b"X", b"V", b"U", b"E"


def read_exact(fd: int, n: int) -> bytes | None:
    chunks: list[bytes] = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = MAX_REQUEST) -> bytes | None:
    head = read_exact(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > limit:
        return None
    return read_exact(fd, size)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_frame(fd: int, body: bytes) -> None:
    write_all(fd, struct.pack(">I", len(body)) + body)


def read_json(fd: int) -> object | None:
    body = read_frame(fd)
    return None if body is None else json.loads(body)


def write_json(fd: int, obj: object) -> None:
    write_frame(fd, json.dumps(obj).encode("utf-8", "surrogatepass"))


class FrameReader:
    """Incremental reader of one untrusted frame from a non-blocking pipe, with a size cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.eof = False
        self.too_big = False

    def feed(self, fd: int) -> None:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            self.eof = True
            return
        self.buf += chunk
        if len(self.buf) >= 4 and struct.unpack(">I", bytes(self.buf[:4]))[0] > self.cap + 1:
            self.too_big = True

    def frame(self) -> bytes | None:
        """The first complete frame's body, consumed from the buffer; None if incomplete."""
        if len(self.buf) < 4:
            return None
        need = 4 + struct.unpack(">I", bytes(self.buf[:4]))[0]
        if len(self.buf) < need:
            return None
        body = bytes(self.buf[4:need])
        del self.buf[:need]
        return body
