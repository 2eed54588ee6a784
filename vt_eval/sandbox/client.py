"""Host side of one sandbox: start the fork-server, send requests, judge what comes back.

One `Sandbox` per grading worker: requests are serialised by a lock, so give each thread its own
for parallelism. The trust boundary is here: the server reports facts observed from outside the
program (exit status, wall time, output sizes, memory budget) and the program's own bytes; this
module alone turns them into a status, and decodes a returned value itself under a size limit.
Nothing a program writes is ever read as a status, a pass flag or a test count.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from vt_eval.sandbox.cgroups import CgroupBox
from vt_eval.sandbox.launcher import SandboxConfig, bwrap_command, check_available, unsafe_command

GRACE_S = 5.0  # how much longer than a request's own timeout the host waits before restarting
STACK_BYTES = 256 * 1024 * 1024  # deep recursion (LCB sets recursionlimit 50000) needs a big stack
MB = 1024 * 1024
CGROUP_SLACK_MB = 16  # kernel objects of each test's namespaces, on top of the idle server
SERVER_PROCESSES = 4  # bwrap's init, the launcher, the server, a test's first process
MAX_REPLY = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Per-program limits. memory_mb is the total of the program and everything it forks
    (cgroup, or the server's meter); the rest are rlimits of each of its processes."""

    memory_mb: int = 2048
    cpu_s: float = 10.0  # CPU seconds for the whole program (all its tests in call mode)
    nproc: int = 32  # processes and threads (pids cgroup and RLIMIT_NPROC)
    fsize_mb: int = 16  # largest file it may write
    nofile: int = 64  # open files


class SandboxDied(RuntimeError):
    """The fork-server stopped answering; it has been restarted (the request is lost). `oom`:
    the kernel's OOM killer acted in the sandbox's cgroup meanwhile (the program's doing)."""

    def __init__(self, message: str, oom: bool = False) -> None:
        super().__init__(message)
        self.oom = oom


def _raise_stack() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    want = STACK_BYTES if hard == resource.RLIM_INFINITY else min(STACK_BYTES, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))


def _preexec(cgroup: CgroupBox | None) -> Callable[[], None]:
    def run() -> None:  # in the forked child, before exec of bwrap
        _raise_stack()
        if cgroup is not None:
            cgroup.attach(os.getpid())
    return run


def classify(facts: dict[str, Any], oom_killed: bool) -> str:
    """The status of one run or call, from facts only (never from the program's bytes)."""
    note = facts.get("note") or ""
    if facts.get("error") or note.startswith("S"):
        return "sandbox_error"
    if note.startswith("C"):
        return "compile_error"
    if facts.get("output_limit"):
        return "output_limit"
    if facts.get("over_budget") or oom_killed:
        return "memory_out"
    if facts.get("timed_out"):
        return "timeout"
    status = facts.get("exit")
    if status is None:
        return "ok"
    if os.WIFSIGNALED(status):
        return "timeout" if os.WTERMSIG(status) == signal.SIGXCPU else "runtime_error"
    return "ok" if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "runtime_error"


def decode_value(data: str, cap: int) -> tuple[bool, Any]:
    """A returned value from the program's untrusted JSON text: (decoded, value or the text)."""
    if len(data) > cap:
        return False, data[:1000]
    try:
        return True, json.loads(data)
    except (ValueError, RecursionError):
        return False, data[:1000]


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.bwrap = check_available(self.config)
        self.uid = 1_000_000 + secrets.randbelow(1_000_000_000)
        self.restarts = 0
        self.uid_drop = False
        self.info: dict[str, Any] = {}
        self.cgroup: CgroupBox | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: str | None = None
        self._lock = threading.RLock()
        self._oom_seen = 0
        self._baseline = 0
        self._pids: int | None = None
        self._out_cap = 1 << 24
        self.start()

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.config.unsafe_no_sandbox:
            self._workdir = tempfile.mkdtemp(prefix="vt-eval-unsafe-")
            cmd = unsafe_command(self.config, self._workdir)
        else:
            self.cgroup = CgroupBox.create()
            cmd = bwrap_command(self.bwrap, self.uid, self.config, budget=self.cgroup is None)
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL,
                                          preexec_fn=_preexec(self.cgroup), close_fds=True)
        except (OSError, subprocess.SubprocessError):
            self.close()
            raise
        self.info = self._exchange({"op": "ping"}, 30.0)
        self.uid_drop = bool(self.info.get("uid_drop"))
        if self.cgroup is not None:
            self._baseline = self.cgroup.usage()
            self._oom_seen = self.cgroup.oom_kills()
            self._pids = None

    @property
    def description(self) -> str:
        """How this sandbox isolates and limits programs (for Score details and the manifest)."""
        if self.config.unsafe_no_sandbox:
            return "none (--unsafe-no-sandbox): rlimits only"
        parts = ["bwrap", "per-test pid/mount/ipc namespaces and tmpfs",
                 self.cgroup.description if self.cgroup else
                 "memory budget metered by the server (no cgroup)",
                 "seccomp" if self.info.get("seccomp") else "no seccomp",
                 "uid drop" if self.uid_drop else "user namespace (no uid drop)"]
        return "; ".join(parts)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        if self.cgroup is not None:
            self._remove_cgroup(self.cgroup)
            self.cgroup = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @staticmethod
    def _remove_cgroup(cgroup: CgroupBox) -> None:
        """bwrap is gone; its pid namespace empties a moment later: retry briefly."""
        for _ in range(50):
            cgroup.remove()
            if not any(path.exists() for path in cgroup.dirs.values()):
                return
            time.sleep(0.02)

    def restart(self) -> None:
        self.close()
        self.restarts += 1
        self.start()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server_pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # ---- protocol ----------------------------------------------------------------------------
    def _exchange(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise SandboxDied("sandbox is not running")
        body = json.dumps(req).encode("utf-8", "surrogatepass")
        try:
            proc.stdin.write(struct.pack(">I", len(body)) + body)
            proc.stdin.flush()
            head = self._read(proc, 4, time.monotonic() + timeout)
            (size,) = struct.unpack(">I", head)
            if size > MAX_REPLY:
                raise SandboxDied("oversized reply")
            reply = json.loads(self._read(proc, size, time.monotonic() + timeout))
        except (OSError, ValueError, SandboxDied) as exc:
            oom = self._oom_killed()
            self.close()
            raise SandboxDied(f"sandbox died or hung during '{req.get('op')}': {exc}",
                              oom) from exc
        if not isinstance(reply, dict):
            self.close()
            raise SandboxDied("sandbox sent a malformed reply")
        return reply

    @staticmethod
    def _read(proc: subprocess.Popen[bytes], n: int, deadline: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise SandboxDied("no answer in time")
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise SandboxDied("connection closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; if the server is dead, restart it first and try once more."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.restart()
            return self._exchange(req, timeout + GRACE_S)

    def _apply_limits(self, limits: Limits) -> None:
        if self.cgroup is None:
            return
        self.cgroup.set_memory(self._baseline + (limits.memory_mb + CGROUP_SLACK_MB) * MB)
        if self._pids != limits.nproc:
            self.cgroup.set_pids(limits.nproc + SERVER_PROCESSES)
            self._pids = limits.nproc

    def _oom_killed(self) -> bool:
        """Did the kernel's OOM killer act in this sandbox's cgroup since the last look?"""
        if self.cgroup is None:
            return False
        seen, self._oom_seen = self._oom_seen, self.cgroup.oom_kills()
        return self._oom_seen > seen

    def _run(self, req: dict[str, Any], limits: Limits, timeout: float) -> dict[str, Any]:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.restart()
            self._apply_limits(limits)
            try:
                return self.request({**req, "limits": asdict(limits)}, timeout)
            except SandboxDied as exc:
                if exc.oom:  # the OOM killer took the server too: still the program's verdict
                    return {"over_budget": True}
                raise

    # ---- operations --------------------------------------------------------------------------
    def run_stdio(self, code: str, stdin: str, *, timeout: float, out_cap: int = 1 << 24,
                  limits: Limits | None = None, prelude: str = "",
                  packages: tuple[str, ...] = ()) -> dict[str, Any]:
        """Run `code` as a program reading `stdin`; returns status, stdout, stderr, time."""
        facts = self._run({"op": "stdio", "code": code, "stdin": stdin, "prelude": prelude,
                           "timeout": timeout, "out_cap": out_cap, "packages": list(packages)},
                          limits or Limits(cpu_s=timeout), timeout)
        status = classify(facts, self._oom_killed())
        detail = (facts.get("note") or "")[1:] or facts.get("error") or ""
        return {"status": status, "stdout": facts.get("stdout", ""),
                "stderr": facts.get("stderr", ""), "detail": detail,
                "time": facts.get("time"), "exit": facts.get("exit")}

    def call_start(self, code: str, func_name: str, *, timeout: float, limits: Limits,
                   prelude: str = "", out_cap: int = 1 << 24, param_kinds: list[str] | None = None,
                   return_kind: str = "plain", packages: tuple[str, ...] = ()) -> dict[str, Any]:
        """Load a LeetCode-style program; the reply's status is 'ready' or the load failure."""
        self._out_cap = out_cap
        facts = self._run({"op": "call_start", "code": code, "func_name": func_name,
                           "prelude": prelude, "timeout": timeout, "out_cap": out_cap,
                           "param_kinds": param_kinds or [], "return_kind": return_kind,
                           "packages": list(packages)}, limits, timeout)
        reply = self._call_reply(facts)
        if reply["status"] == "ok":  # a value before any call: not a ready program
            reply = {"status": "runtime_error", "error": "answered before being called"}
        return reply

    def call(self, args: list[Any], *, timeout: float,
             kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the loaded entry point; status 'ok' with the decoded `value` (or `unjsonable`)."""
        try:
            facts = self.request({"op": "call", "args": args, "kwargs": kwargs or {},
                                  "timeout": timeout}, timeout)
        except SandboxDied as exc:
            if not exc.oom:
                raise
            facts = {"over_budget": True}
        reply = self._call_reply(facts)
        if reply["status"] == "ready":
            reply = {"status": "runtime_error", "error": "not an answer"}
        return reply

    def _call_reply(self, facts: dict[str, Any]) -> dict[str, Any]:
        """Frames are the program's bytes: only R (ready) and V/U (a value) can lead anywhere
        good, and a value is still only compared by the host with the expected output."""
        frame, data = facts.get("frame"), str(facts.get("data", ""))
        out: dict[str, Any] = {"wall": facts.get("wall")}
        if frame is None:
            status = classify(facts, self._oom_killed())
            if status == "ok":  # the program ended without answering
                status = "runtime_error"
            detail = (facts.get("note") or "")[1:] or facts.get("error") or ""
            return {**out, "status": status, "error": detail}
        if frame == "R":
            return {**out, "status": "ready"}
        if frame == "V":
            decoded, value = decode_value(data, self._out_cap)
            return {**out, "status": "ok", **({"value": value} if decoded
                                               else {"unjsonable": value})}
        if frame == "U":
            return {**out, "status": "ok", "unjsonable": data[:1000]}
        return {**out, "status": "runtime_error", "error": data[:500]}

    def call_end(self) -> None:
        self.request({"op": "call_end"}, 10.0)
