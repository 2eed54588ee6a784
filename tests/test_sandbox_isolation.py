"""Issue 9, isolation and totals (real sandbox, root mode: uid drop + cgroup): every hostile program
is followed by an honest control in the same sandbox, which must pass unharmed."""

from __future__ import annotations

import time

import pytest
from test_sandbox_hostile import open_sandbox, run

from vt_eval.code.judge import CodeProblem, CodeRunSettings, TestCase, judge
from vt_eval.grading.code import code_metrics
from vt_eval.records import Score
from vt_eval.sandbox import Limits, Sandbox

sb = pytest.fixture(scope="module", name="sb")(open_sandbox)

LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
CONTROL = "import sys\nprint(sum(map(int, sys.stdin.read().split())))"


def control(sb: Sandbox, limits: Limits | None = None) -> None:
    reply = sb.run_stdio(CONTROL, "1 2 3\n", timeout=5.0, limits=limits)
    assert (reply["status"], reply["stdout"]) == ("ok", "6\n"), reply


def test_mode_is_reported(sb: Sandbox) -> None:
    assert sb.cgroup is not None and sb.info["seccomp"] and sb.uid_drop
    assert "cgroup-v1 memory+pids" in sb.description or "cgroup-v2" in sb.description
    score = Score(benchmark="b", item_id="1", sample_index=0, verdict="correct", extracted="",
                  gold="", explanation="", grader="code",
                  details={"outcome": "passed", "sandbox_mode": sb.description})
    assert code_metrics([score, score]).sandbox_modes == {sb.description: 2}  # results.json


def test_tmp_is_fresh_for_every_test_and_problem(sb: Sandbox) -> None:
    plant = """
import os
os.makedirs('/tmp/a/' + '/'.join(['d'] * 200), exist_ok=True)
open('/tmp/secret', 'w').write('answer')
for depth in range(200, 0, -1):
    os.chmod('/tmp/a/' + '/'.join(['d'] * depth), 0o000)
for i in range(4):
    open(f'/tmp/big{i}', 'wb').write(b'x' * (15 << 20))
print('planted')
"""
    assert "planted" in run(sb, plant)["stdout"]
    problem = CodeProblem("p", "stdin", (TestCase("", "[] 60"),))
    # another problem: empty /tmp, and the full 64 MB tmpfs is writable again
    code = ("import os\nfor i in range(4): open(f'/tmp/b{i}', 'wb').write(b'x' * (15 << 20))\n"
            "print(sorted(os.listdir('/tmp')) if False else [], 60)")
    assert judge(sb, problem, code).outcome == "passed"
    assert run(sb, "import os\nprint(os.listdir('/tmp'))")["stdout"] == "[]\n"
    control(sb)


def test_racing_writer_cannot_leak_files(sb: Sandbox) -> None:
    """A background process that keeps writing while the test ends: its tmpfs dies with it."""
    code = ("import os, time\nif os.fork() == 0:\n  i = 0\n  while True:\n"
            "    open(f'/tmp/f{i % 50}', 'w').write('x'); i += 1\nprint('bye')\ntime.sleep(0.2)")
    for _ in range(3):
        assert run(sb, code)["stdout"] == "bye\n"
        assert run(sb, "import os\nprint(os.listdir('/tmp'))")["stdout"] == "[]\n"
    control(sb)


def test_kill_minus_one_races(sb: Sandbox) -> None:
    """Children spamming kill(-1) and setsid daemons cannot reach the server or the next test."""
    server = sb.info["pid"]
    code = ("import os, signal\nfor _ in range(4):\n  if os.fork() == 0:\n    os.setsid()\n"
            "    while True:\n      try: os.kill(-1, signal.SIGKILL)\n      except OSError: pass\n"
            "import time; time.sleep(0.3); print('done')")
    for _ in range(3):
        run(sb, code, timeout=1.0)
        control(sb)
    assert sb.restarts == 0 and sb.info["pid"] == server


def test_total_memory_over_several_forks_is_memory_out(sb: Sandbox) -> None:
    limits = Limits(memory_mb=512)
    code = ("import os, time\nfor i in range(6):\n  if os.fork() == 0:\n"
            "    x = b'x' * (250 << 20)\n    time.sleep(10)\n    os._exit(0)\ntime.sleep(10)")
    assert run(sb, code, timeout=8.0, limits=limits)["status"] == "memory_out"
    control(sb, limits)


def test_memfd_counts_towards_memory(sb: Sandbox) -> None:
    """Files are capped at 16 MB each (RLIMIT_FSIZE), so use many memfds: 900 MB in total."""
    limits = Limits(memory_mb=256)
    memfd = ("import os\nfds = [os.memfd_create('m') for i in range(60)]\nfor fd in fds:\n"
             "  os.write(fd, b'x' * (15 << 20))\nprint('wrote 900 MB')")
    assert run(sb, memfd, limits=limits)["status"] == "memory_out"
    control(sb, limits)


def test_sixteen_threads_pass(sb: Sandbox) -> None:
    """Honest threads: no address-space limit multiplied by 256 MB thread stacks."""
    code = ("import threading\nout = []\ndef work(i):\n  data = bytearray(20 << 20)\n"
            "  out.append(len(data) + i)\nts = [threading.Thread(target=work, args=(i,)) "
            "for i in range(16)]\nfor t in ts: t.start()\nfor t in ts: t.join()\nprint(len(out))")
    assert run(sb, code, limits=Limits(memory_mb=512))["stdout"] == "16\n"


def test_fork_bomb_hits_the_pids_limit(sb: Sandbox) -> None:
    code = ("import os, time\nn = 0\ntry:\n  while True:\n    if os.fork() == 0:\n"
            "      time.sleep(30)\n    n += 1\nexcept OSError:\n  print('blocked', n)")
    r = run(sb, code, timeout=3.0)
    assert "blocked" in r["stdout"] and int(r["stdout"].split()[1]) <= Limits().nproc
    control(sb)


def test_user_namespaces_and_mounts_are_denied(sb: Sandbox) -> None:
    code = LIBC + """
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x20000
print('unshare-user', libc.unshare(CLONE_NEWUSER), ctypes.get_errno())
print('unshare-ns', libc.unshare(CLONE_NEWNS), ctypes.get_errno())
print('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, b'size=1g'), ctypes.get_errno())
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print('fork ok')
"""
    out = run(sb, code)["stdout"].split("\n")
    assert out[:4] == ["unshare-user -1 1", "unshare-ns -1 1", "mount -1 1", "fork ok"], out
    control(sb)


def test_seccomp_denies_what_algorithms_never_need(sb: Sandbox) -> None:
    calls = {"ptrace": "libc.ptrace(16, 1, 0, 0)", "bpf": "libc.syscall(321, 0, 0, 0)",
             "keyctl": "libc.syscall(250, 0, 0, 0)", "perf_event_open": "libc.syscall(298, 0, 0, 0, 0, 0)",
             "setns": "libc.syscall(308, 0, 0)", "userfaultfd": "libc.syscall(323, 0)",
             "io_uring_setup": "libc.syscall(425, 1, 0)", "clone3": "libc.syscall(435, 0, 0)"}
    code = LIBC + "".join(f"print('{name}', {call}, ctypes.get_errno())\n"
                          for name, call in calls.items())
    out = dict(line.split(" ", 1) for line in run(sb, code)["stdout"].strip().split("\n"))
    assert set(out) == set(calls)
    assert all(v == "-1 1" for k, v in out.items() if k != "clone3"), out
    assert out["clone3"] == "-1 38"  # ENOSYS: libc falls back to clone, whose flags are checked
    control(sb)


def test_functional_session_is_one_process_tests_are_fresh(sb: Sandbox) -> None:
    """Call mode: one process per sample (as LCB), and the next sample starts clean."""
    tests = tuple(TestCase(str(i), str(i)) for i in range(3))
    problem = CodeProblem("f", "functional", tests, func_name="f")
    spy = ("import os\nclass Solution:\n  def f(self, x):\n"
           "    return x if not os.listdir('/tmp') else -1\n")
    litter = ("import os, time\nclass Solution:\n  def f(self, x):\n"
              "    open(f'/tmp/{x}', 'w').write('x')\n    if os.fork() == 0:\n"
              "      time.sleep(60)\n    return x\n")
    assert judge(sb, problem, litter, CodeRunSettings(test_timeout_s=2.0)).outcome == "passed"
    assert judge(sb, problem, spy, CodeRunSettings(test_timeout_s=2.0)).outcome == "passed"
    start = time.monotonic()
    assert run(sb, "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))"
               )["stdout"] == "1\n"
    assert time.monotonic() - start < 5
