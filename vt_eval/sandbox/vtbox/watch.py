"""Watch one running program from the server: wall clock, output caps, memory budget, its end.

Everything gathered here is a fact observed from outside the program (exit status, elapsed time,
bytes it wrote, memory it held); the program's own bytes are passed on as data, never read as a
status. The host turns the facts into a verdict.
"""

from __future__ import annotations

import os
import select
import signal
import time
from typing import Any

from .frames import FrameReader

STDERR_KEEP = 4096
NOTE_KEEP = 4096
METER_PERIOD_S = 0.01


class Meter:
    """Total resident memory (anonymous + shared) of every process in test pid namespaces; used
    only when no cgroup can count it. Threads share their process's memory, so count processes."""

    def __init__(self, depth: int, limit_bytes: int | None) -> None:
        self.depth = depth  # NSpid entries of a process inside a test's pid namespace
        self.limit = limit_bytes
        self.next_check = time.monotonic() + METER_PERIOD_S

    def total(self) -> int:
        total = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/status", "rb") as f:
                    status = f.read()
            except OSError:
                continue
            fields = dict(line.split(b":", 1) for line in status.splitlines() if b":" in line)
            if len(fields.get(b"NSpid", b"").split()) < self.depth:
                continue
            for key in (b"RssAnon", b"RssShmem"):
                total += int(fields.get(key, b"0 kB").split()[0]) * 1024
        return total

    def poll_ms(self, left_s: float) -> float:
        wait = left_s if self.limit is None else min(left_s, max(0.0, self.next_check
                                                                 - time.monotonic()))
        return max(0.0, wait) * 1000

    def over(self) -> bool:
        if self.limit is None or time.monotonic() < self.next_check:
            return False
        self.next_check = time.monotonic() + METER_PERIOD_S
        return self.total() > self.limit


def kill_program(pid: int, isolate: bool) -> None:
    """SIGKILL the program. Isolated, it is pid 1 of its namespace: the kernel kills the rest."""
    try:
        if isolate:
            os.kill(pid, signal.SIGKILL)
        else:
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _drain(fd: int, buf: bytearray, cap: int) -> None:
    os.set_blocking(fd, False)
    try:
        while len(buf) <= cap and (chunk := os.read(fd, 1 << 16)):
            buf += chunk
    except BlockingIOError:
        pass


class StdioRun:
    """Feed stdin, collect capped stdout/stderr and the trusted compile-error pipe."""

    def __init__(self, pid: int, meter: Meter, isolate: bool, fds: dict[str, int]) -> None:
        self.pid, self.meter, self.isolate = pid, meter, isolate
        self.fds = fds  # stdin, stdout, stderr, status (server ends)
        self.bufs = {fds["stdout"]: bytearray(), fds["stderr"]: bytearray(),
                     fds["status"]: bytearray()}
        self.facts: dict[str, Any] = {"exit": None, "timed_out": False, "output_limit": False,
                                      "over_budget": False}

    def _write_stdin(self, data: memoryview, poller: select.poll) -> memoryview:
        fd = self.fds["stdin"]
        try:
            data = data[os.write(fd, data[:65536]):]
        except BlockingIOError:
            return data
        except BrokenPipeError:
            data = memoryview(b"")
        if not data:
            poller.unregister(fd)
            os.close(fd)
            self.fds["stdin"] = -1
        return data

    def _read(self, fd: int, poller: select.poll) -> None:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            poller.unregister(fd)
            return
        buf = self.bufs[fd]
        buf += chunk
        if fd == self.fds["stderr"] and len(buf) > 2 * STDERR_KEEP:
            del buf[:-STDERR_KEEP]
        elif fd == self.fds["status"] and len(buf) > NOTE_KEEP:
            del buf[NOTE_KEEP:]

    def run(self, stdin: bytes, start: float, timeout: float, out_cap: int) -> dict[str, Any]:
        pidfd = os.pidfd_open(self.pid)
        poller = select.poll()
        for fd in self.bufs:
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        data = memoryview(stdin)
        os.set_blocking(self.fds["stdin"], False)
        poller.register(self.fds["stdin"], select.POLLOUT)
        if not data:
            data = self._write_stdin(data, poller)
        stdout = self.bufs[self.fds["stdout"]]
        while self.facts["exit"] is None:
            left = start + timeout - time.monotonic()
            if left <= 0:
                self.facts["timed_out"] = True
                break
            for fd, _event in poller.poll(self.meter.poll_ms(left)):
                if fd == pidfd:
                    self.facts["exit"] = os.waitpid(self.pid, 0)[1]
                elif fd == self.fds["stdin"]:
                    data = self._write_stdin(data, poller)
                else:
                    self._read(fd, poller)
            if len(stdout) > out_cap:
                self.facts["output_limit"] = True
                break
            if self.meter.over():
                self.facts["over_budget"] = True
                break
        return self._finish(pidfd, start, out_cap)

    def _finish(self, pidfd: int, start: float, out_cap: int) -> dict[str, Any]:
        elapsed = time.monotonic() - start
        if self.fds["stdin"] >= 0:
            os.close(self.fds["stdin"])
        if self.facts["exit"] is None or not self.isolate:  # unsafe mode: its whole group too
            kill_program(self.pid, self.isolate)
        if self.facts["exit"] is None:
            self.facts["exit"] = os.waitpid(self.pid, 0)[1]
        os.close(pidfd)
        for fd, buf in self.bufs.items():  # whatever is still buffered in the pipes
            _drain(fd, buf, out_cap)
        stdout, stderr, status = (self.bufs[self.fds[k]] for k in ("stdout", "stderr", "status"))
        if len(stdout) > out_cap:
            self.facts["output_limit"] = True
            del stdout[out_cap:]
        return {**self.facts, "time": round(elapsed, 6),
                "note": status.decode("utf-8", "replace")[:NOTE_KEEP] or None,
                "stdout": stdout.decode("utf-8", "replace"),
                "stderr": stderr[-STDERR_KEEP:].decode("utf-8", "replace")}


def await_frame(session: dict[str, Any], meter: Meter, timeout: float) -> dict[str, Any]:
    """Wait for the call-mode child's next frame. A note on the trusted status pipe (written
    before any candidate code ran: compile error or setup failure), the child's end, a timeout or the budget end the session (facts say which)."""
    start = time.monotonic()
    reader: FrameReader = session["reader"]
    poller = select.poll()
    for fd in (session["pidfd"], session["status"], -1 if reader.eof else session["res"]):
        if fd >= 0:
            poller.register(fd, select.POLLIN)
    facts: dict[str, Any] = {"frame": None, "data": "", "exit": None, "timed_out": False,
                             "output_limit": False, "over_budget": False, "note": None}
    while True:
        body = reader.frame()
        if body is not None:
            facts["frame"] = body[:1].decode("latin-1")
            facts["data"] = body[1:].decode("utf-8", "replace")
            break
        left = start + timeout - time.monotonic()
        if left <= 0:
            facts["timed_out"] = True
            break
        if reader.too_big:
            facts["output_limit"] = True
            break
        if meter.over():
            facts["over_budget"] = True
            break
        events = dict(poller.poll(meter.poll_ms(left)))
        if session["status"] in events:
            _read_status(session, poller)
        if session["res"] in events and not reader.eof:
            reader.feed(session["res"])
            if reader.eof:
                poller.unregister(session["res"])
            continue
        if session["pidfd"] in events and (reader.eof or not _pending(session["res"])):
            facts["exit"] = os.waitpid(session["pid"], 0)[1]
            session["exit"] = facts["exit"]
            _read_status(session, poller)
            break
    facts["note"] = session["note"] or None
    facts["wall"] = round(time.monotonic() - start, 6)
    return facts


def _read_status(session: dict[str, Any], poller: select.poll) -> None:
    fd = session["status"]
    if fd < 0:
        return
    os.set_blocking(fd, False)
    try:
        chunk = os.read(fd, NOTE_KEEP)
    except BlockingIOError:
        return
    if chunk:
        session["note"] += chunk.decode("utf-8", "replace")
        return
    poller.unregister(fd)
    os.close(fd)
    session["status"] = -1


def _pending(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])
