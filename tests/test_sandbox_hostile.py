"""Hostile programs, each run through the real bubblewrap sandbox: blocked, right verdict, host unharmed."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vt_eval.code.judge import CodeProblem, CodeRunSettings, TestCase, judge
from vt_eval.sandbox import Limits, Sandbox

PROJECT = Path(__file__).resolve().parents[1]


def open_sandbox() -> Iterator[Sandbox]:
    """One real sandbox per test module (the other test_sandbox_* modules reuse this)."""
    box = Sandbox()
    yield box
    box.close()


sb = pytest.fixture(scope="module", name="sb")(open_sandbox)


def run(sb: Sandbox, code: str, timeout: float = 3.0, **kw: object) -> dict:
    return sb.run_stdio(code, "", timeout=timeout, **kw)  # type: ignore[arg-type]


def test_isolation_basics(sb: Sandbox) -> None:
    r = run(sb, "import os\nprint(os.getuid(), os.getpid())\n"
                "print(open('/proc/self/status').read().split('NoNewPrivs:')[1].split()[0])\n"
                "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])")
    uid, pid, nnp, caps = r["stdout"].split()
    assert r["status"] == "ok" and sb.uid_drop
    assert int(uid) == sb.uid and int(uid) != 0
    assert int(pid) < 100  # its own pid namespace
    assert nnp == "1" and int(caps, 16) == 0


def test_fork_bomb_is_contained(sb: Sandbox) -> None:
    code = ("import os\nn=0\nwhile True:\n  try:\n    if os.fork()==0:\n      while True: pass\n"
            "    n+=1\n  except OSError:\n    print('blocked', n, flush=True)\n    break\n"
            "while True: pass")
    start = time.monotonic()
    r = run(sb, code, timeout=2.0)
    assert r["status"] == "timeout" and "blocked" in r["stdout"]
    assert int(r["stdout"].split()[1]) < 64  # RLIMIT_NPROC stopped it
    assert time.monotonic() - start < 6
    assert run(sb, "print('alive')")["stdout"] == "alive\n"  # all children were reaped


def test_infinite_loops_time_out(sb: Sandbox) -> None:
    assert run(sb, "while True: pass", timeout=1.0)["status"] == "timeout"
    # a C-level loop that never returns to the interpreter: ctypes calling libc pause()
    r = run(sb, "import ctypes\nctypes.CDLL(None).pause()", timeout=1.0)
    assert r["status"] == "timeout"
    r = run(sb, "import ctypes\nlibc=ctypes.CDLL(None)\nwhile True: libc.getpid()", timeout=1.0)
    assert r["status"] == "timeout"


def test_ten_gigabytes_is_memory_out(sb: Sandbox) -> None:
    r = run(sb, "x = b'x' * (10 * 1024**3)\nprint(len(x))", timeout=10.0,
            limits=Limits(memory_mb=512, cpu_s=10))
    assert r["status"] == "memory_out"
    assert run(sb, "print(len(b'x' * 10**8))", limits=Limits(memory_mb=512))["stdout"] == \
        "100000000\n"


def test_filesystem_is_read_only_and_private(sb: Sandbox) -> None:
    code = """
import os
for path in ['/usr/evil', '/etc/evil', '/evil', '/vt_sandbox/evil', '/proc/evil', '/dev/evil',
             '/dev/shm/evil', '/vt_site/evil']:
    try:
        open(path, 'w').write('x'); print('WROTE', path)
    except OSError as e:
        print('denied', path)
for path in ['/usr/bin/python3', '/vt_sandbox/vtbox/server.py']:
    try:
        os.remove(path); print('DELETED', path)
    except OSError:
        print('denied', path)
for path in ['/etc/shadow', '/etc/passwd', '/root', %r, %r]:
    try:
        print('READ', path, len(open(path).read()) if os.path.isfile(path) else os.listdir(path))
    except OSError:
        print('denied', path)
""" % (str(PROJECT / "pyproject.toml"), str(PROJECT))
    out = run(sb, code)["stdout"]
    assert "WROTE" not in out and "DELETED" not in out and "READ" not in out, out
    assert os.path.exists("/usr/bin/python3") and (PROJECT / "pyproject.toml").exists()


def test_network_is_unreachable(sb: Sandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    listener.settimeout(3)
    thread = threading.Thread(target=lambda: accepted.append(_accept(listener)))
    thread.start()
    code = f"""
import socket
for host in ['127.0.0.1', '10.0.0.1']:
    try:
        s = socket.create_connection((host, {port}), timeout=1); print('CONNECTED', host)
    except OSError as e:
        print('blocked', host)
"""
    out = run(sb, code)["stdout"]
    thread.join()
    listener.close()
    assert "CONNECTED" not in out and accepted == [None]


def _accept(listener: socket.socket) -> object:
    try:
        return listener.accept()
    except OSError:
        return None


def test_cannot_kill_parent_or_others(sb: Sandbox) -> None:
    """The program is pid 1 of its own pid namespace: the server, bwrap and other tests are not
    in it, so no pid names them; kill(-1) only reaches the program's own processes."""
    server = sb.info["pid"]
    code = """
import os, signal
seen = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
print('pids', seen, 'ppid', os.getppid())
for pid in range(2, 400):
    try:
        os.kill(pid, signal.SIGKILL); print('KILLED', pid)
    except (PermissionError, ProcessLookupError):
        pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
print('still here')
"""
    out = run(sb, code)["stdout"]
    assert "KILLED" not in out and "pids [1] ppid 0" in out, out
    assert run(sb, "print('ok')")["stdout"] == "ok\n"  # the server lived
    assert sb.restarts == 0 and sb.info["pid"] == server


def test_stdout_flood_is_capped(sb: Sandbox) -> None:
    start = time.monotonic()
    r = run(sb, "import sys\nwhile True: sys.stdout.write('x' * 65536)", timeout=5.0,
            out_cap=1 << 20)
    assert r["status"] == "output_limit" and len(r["stdout"]) <= 1 << 20
    assert time.monotonic() - start < 5


def test_filling_the_tmpfs_is_bounded(sb: Sandbox) -> None:
    code = """
import os
total = 0
try:
    for i in range(1000):
        with open(f'f{i}', 'wb') as f:
            f.write(b'x' * (8 << 20)); total += 8
except OSError as e:
    print('full at', total, 'MB', type(e).__name__)
"""
    r = run(sb, code, timeout=5.0)
    assert "full at" in r["stdout"] or r["status"] == "runtime_error"
    # the next program starts with an empty tmpfs
    assert run(sb, "import os\nprint(os.listdir('.'))")["stdout"] == "[]\n"


def test_setuid_root_is_refused(sb: Sandbox) -> None:
    r = run(sb, "import os\ntry:\n  os.setuid(0); print('ROOT')\nexcept PermissionError:\n  print('denied')")
    assert r["stdout"] == "denied\n"


def sandbox_processes(sb: Sandbox) -> list[int]:
    """Host view: every process under this sandbox's bwrap (bwrap's init, launcher, server...)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], [sb.server_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def test_leftover_background_processes_are_killed(sb: Sandbox) -> None:
    baseline = len(sandbox_processes(sb))
    code = ("import os, time\nif os.fork() == 0:\n  os.setsid()\n  if os.fork() == 0:\n"
            "    time.sleep(0.3)\n    open('/tmp/late', 'w').write('x')\n    time.sleep(60)\n"
            "  os._exit(0)\nprint('parent done')")
    assert run(sb, code)["stdout"] == "parent done\n"
    assert len(sandbox_processes(sb)) == baseline  # the double-forked daemon died with the test
    time.sleep(0.5)
    r = run(sb, "import os\nprint(os.path.exists('/tmp/late'), len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert r["stdout"].split() == ["False", "1"]  # only itself in its pid namespace


def test_sandbox_restarts_when_it_dies(sb: Sandbox) -> None:
    assert sb.server_pid is not None
    os.kill(sb.server_pid, 9)
    problem = CodeProblem("p", "stdin", (TestCase("2\n", "4\n"),))
    result = judge(sb, problem, "print(int(input())*2)", CodeRunSettings())
    assert result.outcome == "passed" and sb.restarts >= 1


def test_hostile_functional_programs(sb: Sandbox) -> None:
    tests = (TestCase("[1, 2]", "3"),)
    problem = CodeProblem("f", "functional", tests, func_name="add")
    verdicts = {
        "class Solution:\n  def add(self, a): return sum(a)": "passed",
        "class Solution:\n  def add(self, a):\n    while True: pass": "timeout",
        "class Solution:\n  def add(self, a): return b'x' * 10**10": "memory_out",
        "import os\nos._exit(0)": "runtime_error",
        "class Solution:\n  def add(self, a):\n    import os; os.write(4, b'\\0\\0\\0\\3abc'); return 3":
            "runtime_error",  # a forged, malformed result frame
        "class Solution:\n  def add(self, a):\n    import os; os.write(4, b'garbage'); return 3":
            "output_limit",  # a frame claiming ~1.7 GB
        "class Solution:\n  def add(self, a) return 3": "compile_error",
    }
    settings = CodeRunSettings(test_timeout_s=2.0, limits=Limits(memory_mb=128))
    for code, want in verdicts.items():
        assert judge(sb, problem, code, settings).outcome == want, code
