"""Sandbox throughput and per-program overhead (issue 5 and 9 targets: <= 5 ms overhead over the
same fork-server without bwrap, >= 150 trivial programs/s on 2 cores). Prints a table and writes
bench/results/sandbox.json (with the load average: other work on the machine skews it).

Usage: python bench/sandbox.py [--n 400]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vt_eval.sandbox import Sandbox, SandboxConfig
from vt_eval.sandbox.launcher import SYSTEM_PYTHON, bwrap_command, find_bwrap

PROGRAM = "a, b = map(int, input().split())\nprint(a + b)\n"
STDIN = "2 3\n"
OUT = Path(__file__).resolve().parent / "results" / "sandbox.json"


def per_program(fn, n: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def bare() -> None:
    out = subprocess.run([SYSTEM_PYTHON, "-I", "-S", "-c", PROGRAM], input=STDIN.encode(),
                         capture_output=True, check=True).stdout
    assert out == b"5\n"


def fresh_bwrap_factory() -> callable:
    cmd = bwrap_command(find_bwrap() or "bwrap", 65534, SandboxConfig())
    cmd = cmd[:cmd.index(SYSTEM_PYTHON)] + [SYSTEM_PYTHON, "-I", "-S", "-c", PROGRAM]

    def run() -> None:
        out = subprocess.run(cmd, input=STDIN.encode(), capture_output=True, check=True).stdout
        assert out == b"5\n"
    return run


def server_run(box: Sandbox) -> callable:
    def run() -> None:
        reply = box.run_stdio(PROGRAM, STDIN, timeout=5.0)
        assert reply["stdout"] == "5\n", reply
    return run


def throughput(config: SandboxConfig, n: int, workers: int = 2) -> float:
    boxes = [Sandbox(config) for _ in range(workers)]
    try:
        runs = [server_run(b) for b in boxes]
        for r in runs:
            r()
        start = time.perf_counter()
        def worker(w: int) -> None:  # each thread drives its own sandbox
            for _ in range(n // workers):
                runs[w]()

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(worker, range(workers)))
        return (n // workers) * workers / (time.perf_counter() - start)
    finally:
        for b in boxes:
            b.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    n = parser.parse_args().n
    rows: list[dict[str, object]] = []
    bare_ms = per_program(bare, max(50, n // 4))
    bare_rate = (os.cpu_count() or 2) * 1000 / bare_ms
    rows.append({"setup": "bare subprocess (python3 -c, no isolation)", "ms_per_program": bare_ms,
                 "programs_per_s_2_workers": None})
    fresh_ms = per_program(fresh_bwrap_factory(), max(50, n // 4))
    rows.append({"setup": "fresh bwrap + python3 per program", "ms_per_program": fresh_ms,
                 "programs_per_s_2_workers": None})
    with Sandbox(SandboxConfig(unsafe_no_sandbox=True)) as box:
        unsafe_ms = per_program(server_run(box), n)
    rows.append({"setup": "fork-server, no sandbox (--unsafe-no-sandbox)", "ms_per_program": unsafe_ms,
                 "programs_per_s_2_workers": throughput(SandboxConfig(unsafe_no_sandbox=True), n)})
    with Sandbox() as box:
        sandbox_ms = per_program(server_run(box), n)
        uid_drop = box.uid_drop
        mode = box.description
    rate = throughput(SandboxConfig(), n)
    rows.append({"setup": "vt-eval sandbox: bwrap + fork-server, per-test namespaces",
                 "ms_per_program": sandbox_ms, "programs_per_s_2_workers": rate})
    result = {
        "program": PROGRAM, "n": n, "cpus": os.cpu_count(), "python": platform.python_version(),
        "kernel": platform.release(), "uid_drop": uid_drop, "sandbox_mode": mode,
        "load_average_at_end": os.getloadavg(), "rows": rows,
        "overhead_ms_vs_bare_subprocess": sandbox_ms - bare_ms,
        "overhead_ms_vs_unsandboxed_fork_server": sandbox_ms - unsafe_ms,
        "bare_subprocess_programs_per_s_estimate": bare_rate,
        "targets": {"overhead_ms_max": 5.0, "programs_per_s_min": 150},
        "meets_targets": (sandbox_ms - unsafe_ms) <= 5.0 and rate >= 150,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'setup':<66} {'ms/program':>10} {'programs/s (2 workers)':>23}\n")
    for row in rows:
        r = row["programs_per_s_2_workers"]
        shown = "-" if r is None else str(round(r))  # type: ignore[arg-type]
        print(f"{row['setup']:<66} {row['ms_per_program']:>10.2f} {shown:>23}")
    print(f"overhead vs bare subprocess: {result['overhead_ms_vs_bare_subprocess']:+.2f} ms; "
          f"vs the same fork-server without bwrap: {result['overhead_ms_vs_unsandboxed_fork_server']:+.2f} ms")
    print(f"targets (<= 5 ms overhead, >= 150 programs/s): "
          f"{'met' if result['meets_targets'] else 'NOT met'}; wrote {OUT}")


if __name__ == "__main__":
    main()
