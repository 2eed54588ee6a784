"""A process pool whose every task has a hard timeout enforced at the process boundary.

Untrusted model output can make sympy run for minutes; the only reliable stop is killing the
process. Each worker handles one task at a time; a worker past its deadline is SIGKILLed and
replaced, and its task is reported as timed out. A worker that dies is reported as an error.
Workers are generic (each task names its "module:function"), so one pool serves every grader of a
run: `vt-eval score` pays the start-up once, not once per benchmark.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class PoolResult:
    index: int
    status: str  # "ok" | "timeout" | "error"
    value: Any = None
    error: str = ""


def _resolve(target: str) -> Callable[[Any], Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def worker_main(read_fd: int, write_fd: int) -> None:
    """Serve tasks from the parent until it closes the pipe."""
    functions: dict[str, Callable[[Any], Any]] = {}
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            message = inbox.recv()
        except EOFError:
            return
        index, target, payload = message
        try:
            if target not in functions:
                functions[target] = _resolve(target)
            outbox.send((index, "ok", functions[target](payload), ""))
        except Exception as exc:  # a grader bug must become a reported error, not a dead pool
            outbox.send((index, "error", None, f"{type(exc).__name__}: {exc}"))


class _Worker:
    """A separate Python process (not a fork: the parent may hold torch threads)."""

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from vt_eval.grading.pool import worker_main; "
             "worker_main(int(sys.argv[1]), int(sys.argv[2]))",
             str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.outbox = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.task: int | None = None
        self.deadline = 0.0

    def submit(self, index: int, target: str, payload: Any, timeout_s: float) -> None:
        self.task = index
        # The deadline starts when the task is sent; a fresh worker's import time is not billed
        # to the task because the child imports before it first reads.
        self.deadline = time.monotonic() + timeout_s
        self.outbox.send((index, target, payload))

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.conn.close()
        self.outbox.close()

    def stop(self, deadline: float) -> None:
        """Wait for the exit the closed pipe asked for (until `deadline`), else kill."""
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.conn.close()


class TimeoutPool:
    """`map` payloads through a "module:function" target with a per-task timeout."""

    def __init__(self, workers: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.size = max(1, workers)
        self._workers: list[_Worker] = []  # started by the first map: a pool nobody uses is free

    def __enter__(self) -> TimeoutPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask every worker to exit at once, then wait for all of them (5 s in total)."""
        for worker in self._workers:
            worker.outbox.close()
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.stop(deadline)
        self._workers = []

    def map(self, target: str, payloads: Iterable[Any]) -> Iterator[PoolResult]:
        """Yield one PoolResult per payload, in completion order."""
        if not self._workers:
            self._workers = [_Worker() for _ in range(self.size)]
        pending = iter(enumerate(payloads))
        exhausted = False
        busy: dict[Connection, _Worker] = {}
        while True:
            for worker in self._workers:
                if worker.task is None and not exhausted:
                    nxt = next(pending, None)
                    if nxt is None:
                        exhausted = True
                        break
                    worker.submit(nxt[0], target, nxt[1], self.timeout_s)
                    busy[worker.conn] = worker
            if not busy:
                return
            now = time.monotonic()
            next_deadline = min(w.deadline for w in busy.values())
            ready = wait(list(busy), timeout=max(0.0, next_deadline - now))
            for conn in ready:
                worker = busy.pop(conn)  # type: ignore[index]
                yield self._collect(worker)
            for conn, worker in list(busy.items()):
                if time.monotonic() >= worker.deadline:
                    del busy[conn]
                    yield self._replace(worker, "timeout", f"no result within {self.timeout_s:g} s")

    def _collect(self, worker: _Worker) -> PoolResult:
        task = worker.task
        assert task is not None
        try:
            index, status, value, error = worker.conn.recv()
        except (EOFError, OSError):
            code = worker.process.poll()
            return self._replace(worker, "error", f"grader process died (exit code {code})")
        worker.task = None
        return PoolResult(index, status, value, error)

    def _replace(self, worker: _Worker, status: str, error: str) -> PoolResult:
        task = worker.task
        assert task is not None
        worker.kill()
        position = self._workers.index(worker)
        self._workers[position] = _Worker()
        return PoolResult(task, status, None, error)
