"""The fork-server that runs INSIDE the bubblewrap sandbox, under the system /usr/bin/python3.

Standard library only; this package is bind-mounted read-only into the sandbox and must not import
vt_eval. It reads length-prefixed JSON requests from fd 0, answers on fd 1, and forks one child per
program run (stdio) or per loaded program (call mode), each as pid 1 of a fresh pid namespace with
its own mount and IPC namespaces (child.py). The server itself is pid 1 of a private pid namespace,
non-dumpable, and never visible to a program: no program can signal it, trace it, or open its fds.

Replies are facts observed from outside the program plus the program's own bytes as data; which
verdict they mean is decided on the host (vt_eval/sandbox/client.py, vt_eval/code/judge.py).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from . import child, kernel
from .child import Setup
from .frames import FrameReader, read_json, write_frame, write_json
from .watch import Meter, StdioRun, await_frame, kill_program

MB = 1024 * 1024
# Mirrors the modules LiveCodeBench's preamble imports, so forked children find them loaded.
PRELOAD = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
           "statistics", "itertools", "functools", "operator", "io", "json", "typing", "decimal",
           "fractions", "array", "ast", "traceback")


class Server:
    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.req = os.dup(0)
        self.resp = os.dup(1)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        self.pidns = os.open("/proc/self/ns/pid", os.O_RDONLY) if setup.isolate else -1
        self.depth = _nspid_depth() + 1
        self.session: dict[str, Any] | None = None

    # ---- children ---------------------------------------------------------------------------
    def spawn(self, body: Callable[[], None]) -> int:
        """Fork `body` as pid 1 of a fresh pid namespace (isolated mode)."""
        if self.setup.isolate:
            kernel.unshare(kernel.CLONE_NEWPID)
        try:
            pid = os.fork()
        except OSError:
            self._own_pid_namespace()
            raise
        if pid == 0:
            try:
                body()
            finally:
                os._exit(70)
        self._own_pid_namespace()
        return pid

    def _own_pid_namespace(self) -> None:
        """Undo unshare(CLONE_NEWPID) for the server's later forks (the child keeps it)."""
        if self.setup.isolate:
            kernel.setns(self.pidns, kernel.CLONE_NEWPID)

    def meter(self, req: dict[str, Any]) -> Meter:
        limit = int(req["limits"].get("memory_mb", 2048)) * MB if self.setup.budget else None
        return Meter(self.depth, limit)

    def cleanup(self) -> None:
        """Unsafe mode only: isolated programs vanish with their namespaces and tmpfs."""
        if not self.setup.isolate:
            clean_dir(self.setup.work)

    # ---- stdio ------------------------------------------------------------------------------
    def run_stdio(self, req: dict[str, Any]) -> dict[str, Any]:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        status_r, status_w = os.pipe()
        start = time.monotonic()
        ends = (stdin_r, stdout_w, stderr_w, status_w)
        pid = self.spawn(lambda: child.stdio_main(self.setup, req, ends))
        for fd in ends:
            os.close(fd)
        fds = {"stdin": stdin_w, "stdout": stdout_r, "stderr": stderr_r, "status": status_r}
        facts = StdioRun(pid, self.meter(req), self.setup.isolate, fds).run(
            str(req.get("stdin", "")).encode("utf-8", "surrogatepass"), start,
            float(req["timeout"]), int(req["out_cap"]))
        for fd in (stdout_r, stderr_r, status_r):
            os.close(fd)
        self.cleanup()
        return facts

    # ---- call mode --------------------------------------------------------------------------
    def call_start(self, req: dict[str, Any]) -> dict[str, Any]:
        self.call_end()
        ctrl_r, ctrl_w = os.pipe()
        res_r, res_w = os.pipe()
        status_r, status_w = os.pipe()
        pid = self.spawn(lambda: child.call_main(self.setup, req, ctrl_r, res_w, status_w))
        for fd in (ctrl_r, res_w, status_w):
            os.close(fd)
        self.session = {"pid": pid, "pidfd": os.pidfd_open(pid), "ctrl": ctrl_w, "res": res_r,
                        "status": status_r, "note": "", "meter": self.meter(req),
                        "reader": FrameReader(int(req["out_cap"]))}
        return self.wait_frame(float(req["timeout"]))

    def wait_frame(self, timeout: float) -> dict[str, Any]:
        session = self.session
        if session is None:
            return {"error": "no program loaded"}
        facts = await_frame(session, session["meter"], timeout)
        if facts["frame"] is None:  # dead, late, too big or over budget: the session is over
            self.call_end()
        return facts

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        session = self.session
        if session is None:
            return {"error": "no program loaded"}
        body = json.dumps({"args": req.get("args", []), "kwargs": req.get("kwargs", {})})
        try:
            write_frame(session["ctrl"], body.encode("utf-8", "surrogatepass"))
        except OSError:
            pass  # the child is gone: await_frame sees it through the pidfd
        return self.wait_frame(float(req["timeout"]))

    def call_end(self) -> dict[str, Any]:
        session, self.session = self.session, None
        if session is None:
            return {}
        for key in ("ctrl", "res", "status"):
            if session[key] >= 0:
                os.close(session[key])
        if "exit" not in session or not self.setup.isolate:  # unsafe mode: its group too
            kill_program(session["pid"], self.setup.isolate)
        if "exit" not in session:
            os.waitpid(session["pid"], 0)
        os.close(session["pidfd"])
        self.cleanup()
        return {}

    # ---- loop -------------------------------------------------------------------------------
    def ping(self) -> dict[str, Any]:
        return {"uid_drop": self.setup.uid is not None, "isolate": self.setup.isolate,
                "seccomp": self.setup.seccomp, "budget": self.setup.budget, "pid": os.getpid()}

    def serve(self) -> None:
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "stdio": self.run_stdio, "call_start": self.call_start, "call": self.call,
            "call_end": lambda req: self.call_end(), "ping": lambda req: self.ping()}
        while True:
            req = read_json(self.req)
            if not isinstance(req, dict):
                return
            handler = handlers.get(str(req.get("op")))
            try:
                reply = handler(req) if handler else {"error": f"unknown op {req.get('op')!r}"}
            except Exception as exc:  # report to the host; the host restarts us if needed
                reply = {"error": repr(exc)[:500]}
            write_json(self.resp, reply)


def _nspid_depth() -> int:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return len(line.split()) - 1
    except OSError:
        pass
    return 1


def clean_dir(path: str) -> None:
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass


def become_namespace_init() -> None:
    """Continue as pid 1 of a private pid namespace, owned by our own user namespace, so that
    per-test namespaces can be made and left (setns back) from here; the parent only waits."""
    kernel.unshare(kernel.CLONE_NEWPID)
    pid = os.fork()
    if pid:
        os.close(0)
        os.close(1)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    kernel.prctl(kernel.PR_SET_PDEATHSIG, signal.SIGKILL)


def usable_uid(uid: int | None) -> int | None:
    """The uid programs run as, if this process may switch to it (real root outside)."""
    if uid is None:
        return None
    probe = os.fork()
    if probe == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os._exit(0)
        except OSError:
            os._exit(1)
    _, code = os.waitpid(probe, 0)
    return uid if code == 0 else None


def main() -> None:
    cfg = json.loads(sys.argv[1])
    for name in PRELOAD:
        __import__(name)
    isolate = bool(cfg.get("isolate", True))
    if isolate:
        become_namespace_init()
        kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
    setup = Setup(usable_uid(cfg.get("uid")), str(cfg.get("work", "/tmp")), isolate,
                  bool(cfg.get("budget", True)), int(cfg.get("tmpfs_mb", 64)),
                  dict(cfg.get("sites", {})))
    os.makedirs(setup.work, exist_ok=True)
    Server(setup).serve()
