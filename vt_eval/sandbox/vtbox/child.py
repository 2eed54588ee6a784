"""The forked child: isolate itself, drop every privilege, then run the untrusted program.

Order matters. While the child still runs trusted code it builds its own world (a fresh mount and
IPC namespace with a private tmpfs and /proc; the server already made it pid 1 of a fresh pid
namespace), sets rlimits, drops privileges and installs the seccomp filter. It compiles the
program and reports a compile error on a status pipe, which it closes before any candidate code
runs. From then on everything this process writes is untrusted output: stdout, or in call mode
frames of (kind byte, payload) that the host decodes and judges itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import sys
import traceback
from types import CodeType
from typing import Any

from . import kernel
from .frames import (EXCEPTION, LOAD_ERROR, READY, UNSERIALIZABLE, VALUE, read_frame,
                          write_all, write_frame)
from .kinds import from_kind, to_kind

INT_MAX_STR_DIGITS = 50000  # LiveCodeBench's testing_util raises the limit to this
MB = 1024 * 1024
ARGS_LIMIT = 1 << 30
# Trusted notes on the status pipe, written before any candidate code runs.
COMPILE_NOTE, SETUP_NOTE = b"C", b"S"


class Setup:
    """What the server knows about its sandbox (fixed for its lifetime)."""

    def __init__(self, uid: int | None, work: str, isolate: bool, budget: bool,
                 tmpfs_mb: int, sites: dict[str, str]) -> None:
        self.uid = uid  # None: the server cannot switch uid (user namespace or unsafe mode)
        self.work = work
        self.isolate = isolate  # namespaces + seccomp (False only under --unsafe-no-sandbox)
        self.budget = budget  # no cgroup: the server meters memory, memfd/shm are denied
        self.tmpfs_mb = tmpfs_mb
        self.sites = sites  # package name -> directory to put on sys.path when a card asks
        self.seccomp = isolate and kernel.seccomp_supported()
        self.make_private = isolate and kernel.any_shared_mount()
        if self.seccomp:
            kernel.seccomp_program(budget)  # assembled once, in the server


class CompileError(Exception):
    """The program does not compile (SyntaxError and friends)."""


# ---- isolation --------------------------------------------------------------------------------
def _private_world(setup: Setup) -> None:
    kernel.unshare(kernel.CLONE_NEWNS | kernel.CLONE_NEWIPC)
    if setup.make_private:
        kernel.mount("none", "/", None, kernel.MS_REC | kernel.MS_PRIVATE, None)
    kernel.mount("tmpfs", setup.work, "tmpfs", kernel.MS_NOSUID | kernel.MS_NODEV,
                 f"size={setup.tmpfs_mb}m,nr_inodes=16384,mode=1777")
    kernel.mount("proc", "/proc", "proc",
                 kernel.MS_NOSUID | kernel.MS_NODEV | kernel.MS_NOEXEC, None)


def _arrange_fds(fds: dict[int, int]) -> None:
    """Make exactly the target fds of `fds` open (copies of their sources); close all others."""
    high = {target: fcntl.fcntl(source, fcntl.F_DUPFD, 512) for target, source in fds.items()}
    for target, fd in high.items():
        os.dup2(fd, target)
    os.closerange(max(fds) + 1 if fds else 0, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _rlimits(limits: dict[str, Any], setup: Setup) -> None:
    cpu = int(float(limits.get("cpu_s", 10))) + 1
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = int(limits.get("fsize_mb", 16)) * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    nofile = int(limits.get("nofile", 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    # Same uid as the server in a user namespace: leave room for the server's own processes.
    nproc = int(limits.get("nproc", 32)) + (0 if setup.uid is not None else 4)
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if not setup.isolate:  # no cgroup, no meter: the unsafe mode keeps a per-process cap only
        mem = int(limits.get("memory_mb", 2048)) * MB
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))


def _drop_privileges(setup: Setup) -> None:
    if setup.uid is not None:  # real root outside: switching to a fresh uid clears every cap
        os.setgroups([])
        os.setresgid(setup.uid, setup.uid, setup.uid)
        os.setresuid(setup.uid, setup.uid, setup.uid)
    elif setup.isolate:  # user namespace: same uid as the server, so drop the caps explicitly
        kernel.drop_all_capabilities()


def _oom_first() -> None:
    """Be the OOM killer's first choice in the sandbox's cgroup. A program may lower it again and
    get the server killed instead: the host then sees the cgroup's OOM count and still judges
    memory_out (and restarts the sandbox)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def enter(setup: Setup, limits: dict[str, Any], fds: dict[int, int], status_fd: int) -> None:
    """In the fresh child (pid 1 of its own pid namespace): isolate, limit, drop, filter. A failure
    here is the sandbox's, reported as such on the status pipe."""
    os.setsid()
    _arrange_fds(fds)
    try:
        _isolate_and_drop(setup, limits)
    except OSError as exc:
        write_all(status_fd, SETUP_NOTE + repr(exc).encode("utf-8", "replace"))
        os._exit(71)


def _isolate_and_drop(setup: Setup, limits: dict[str, Any]) -> None:
    if setup.isolate:
        _private_world(setup)
    _oom_first()
    _rlimits(limits, setup)
    _drop_privileges(setup)
    if setup.seccomp:
        kernel.install_seccomp(deny_uncounted_memory=setup.budget)
    os.chdir(setup.work)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": setup.work, "LANG": "C.UTF-8"})
    sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)


# ---- the program --------------------------------------------------------------------------------
def compile_program(code: str, prelude: str) -> tuple[CodeType | None, CodeType]:
    """Compile without inheriting this module's __future__ flags (dont_inherit, as LCB's exec)."""
    try:
        pre = compile(prelude, "<prelude>", "exec", dont_inherit=True) if prelude else None
        main = compile(code, "<solution>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        raise CompileError(repr(exc)[:1000]) from None
    return pre, main


def _compiled_or_exit(setup: Setup, req: dict[str, Any],
                      status_fd: int) -> tuple[CodeType | None, CodeType]:
    """Trusted step: a compile error goes to the status pipe, which is closed before running.
    Extra packages (sortedcontainers) become importable only when the request names them."""
    for name in req.get("packages", []):
        if name in setup.sites:
            sys.path.insert(0, setup.sites[name])
    try:
        compiled = compile_program(str(req["code"]), str(req.get("prelude", "")))
    except CompileError as exc:
        write_all(status_fd, COMPILE_NOTE + str(exc).encode("utf-8", "replace"))
        os._exit(3)
    os.close(status_fd)
    return compiled


def _execute(pre: CodeType | None, main: CodeType) -> dict[str, Any]:
    glb: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    if pre is not None:
        exec(pre, glb)
    exec(main, glb)
    return glb


def _flush() -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def stdio_main(setup: Setup, req: dict[str, Any], fds: tuple[int, int, int, int]) -> None:
    stdin_r, stdout_w, stderr_w, status_w = fds
    enter(setup, req["limits"], {0: stdin_r, 1: stdout_w, 2: stderr_w, 3: status_w}, 3)
    pre, main = _compiled_or_exit(setup, req, 3)
    code = 0
    try:
        _execute(pre, main)
    except SystemExit:  # LiveCodeBench swallows SystemExit: the output is still judged
        code = 0
    except BaseException:  # noqa: BLE001 - the program's own error: its traceback is its output
        traceback.print_exc(limit=5)
        code = 1
    _flush()
    os._exit(code)


def _entry_point(glb: dict[str, Any], code: str, name: str) -> Any:
    target = glb.get("Solution")
    obj = target() if "class Solution" in code and callable(target) else None
    method = getattr(obj, name, None) if obj is not None else glb.get(name)
    if not callable(method):
        raise LookupError(f"entry point {name!r} not found")
    return method


def _answer(method: Any, glb: dict[str, Any], call: dict[str, Any], kinds: list[str],
            ret_kind: str) -> bytes:
    args = [to_kind(glb, kinds[i] if i < len(kinds) else "plain", a)
            for i, a in enumerate(call.get("args", []))]
    value = method(*args, **call.get("kwargs", {}))
    try:
        return VALUE + json.dumps(from_kind(value, ret_kind)).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, OverflowError, RecursionError):
        return UNSERIALIZABLE + repr(value)[:1000].encode("utf-8", "replace")


def call_main(setup: Setup, req: dict[str, Any], ctrl_r: int, res_w: int, status_w: int) -> None:
    null = os.open("/dev/null", os.O_RDWR)
    enter(setup, req["limits"], {0: null, 1: null, 2: null, 3: ctrl_r, 4: res_w, 5: status_w}, 5)
    pre, main = _compiled_or_exit(setup, req, 5)
    try:
        glb = _execute(pre, main)
        method = _entry_point(glb, str(req["code"]), str(req["func_name"]))
    except BaseException as exc:  # noqa: BLE001 - the program's own error at import time
        write_frame(4, LOAD_ERROR + repr(exc)[:500].encode("utf-8", "replace"))
        os._exit(1)
    write_frame(4, READY)
    kinds = list(req.get("param_kinds") or [])
    ret_kind = str(req.get("return_kind", "plain"))
    while True:
        body = read_frame(3, ARGS_LIMIT)
        if body is None:
            os._exit(0)
        try:
            reply = _answer(method, glb, json.loads(body), kinds, ret_kind)
        except BaseException as exc:  # noqa: BLE001 - the program's own error on this test
            reply = EXCEPTION + repr(exc)[:500].encode("utf-8", "replace")
        write_frame(4, reply)
