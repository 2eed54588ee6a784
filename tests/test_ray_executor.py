"""`vt-eval run --ray ADDRESS` on a real Ray cluster on loopback (`ray start --head`, 2 CPUs, two
worker actors = two worker processes) with the real transformers backend on the fixture model:
the run equals the single-process run of the same command, survives a SIGKILLed worker, and a
SIGKILLed driver resumes; every planned sample exactly once.

Batch 1 and one torch thread in both modes: every sample is then exactly what
`torch.manual_seed(seed); generate` gives, wherever it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_processes import kill_all, processes_of

pytestmark = pytest.mark.slow

ARGS = ["run", "--backend", "transformers", "--benchmarks", "aime_2025", "--limit", "1", "-k",
        "4", "--max-tokens", "32", "--seed", "11", "--out", "runs"]
RUN = Path("runs") / "smollm2-135m__aime_2025"
EVAL_TOML = ("[transformers]\nbatch_size = 1\nthreads = 1\n"
             "[ray]\nworkers = 2\nunit_size = 1\nstart_timeout_s = 900.0\n")
KEYS = [("1", i) for i in range(4)]
TIMEOUT_S = 900  # generous: the CPU is shared


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def responses(run_dir: Path) -> dict[tuple[str, int], str]:
    return {(str(s["item_id"]), int(s["sample_index"])): str(s["response"])  # type: ignore[call-overload]
            for s in lines(run_dir / "samples.jsonl")}


def keys(run_dir: Path) -> list[tuple[str, int]]:
    return sorted((str(s["item_id"]), int(s["sample_index"]))  # type: ignore[call-overload]
                  for s in lines(run_dir / "samples.jsonl"))


def manifest(run_dir: Path) -> dict[str, object]:
    return json.loads((run_dir / "manifest.json").read_text())


# Ray's token authentication, with this module's own token (not the user's ~/.ray/auth_token).
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def vt_eval(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=TIMEOUT_S, env={**os.environ, **AUTH})


def start_driver(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, **AUTH})


def wait_for(condition: object, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        if process.poll() is not None:
            raise AssertionError(f"the run exited ({process.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A Ray head on loopback with 2 CPUs and a small object store; every process it started is
    killed afterwards (by pid: found through this cluster's own temp dir)."""
    temp = Path(tempfile.mkdtemp(prefix="vtray", dir="/tmp"))  # short: socket paths <= 107 bytes
    port = free_port()
    ray = Path(sys.executable).parent / "ray"
    command = [str(ray), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
               "--num-cpus=2", "--num-gpus=0", "--object-store-memory=100000000",
               "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
               f"--dashboard-agent-listen-port={free_port()}",
               f"--dashboard-agent-grpc-port={free_port()}", f"--metrics-export-port={free_port()}",
               f"--runtime-env-agent-port={free_port()}"]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S,
                       env={**os.environ, **AUTH})
        yield f"127.0.0.1:{port}"
    finally:
        kill_all(processes_of(str(temp)))
        shutil.rmtree(temp, ignore_errors=True)
    assert not processes_of(str(temp)), "Ray processes outlived the test"


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same command in one process (no Ray)."""
    cwd = tmp_path_factory.mktemp("single")
    (cwd / "eval.toml").write_text(EVAL_TOML)
    result = vt_eval(ARGS, cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return cwd / RUN


def ray_cwd(tmp_path: Path) -> Path:
    (tmp_path / "eval.toml").write_text(EVAL_TOML)
    return tmp_path


@pytest.fixture(scope="module")
def killed_worker(tmp_path_factory: pytest.TempPathFactory, ray_address: str) -> tuple[Path, int]:
    """A Ray run whose worker 0 is SIGKILLed once the first sample is written: (run dir, pid)."""
    cwd = ray_cwd(tmp_path_factory.mktemp("ray"))
    run_dir = cwd / RUN
    driver = start_driver([*ARGS, "--ray", ray_address], cwd)
    try:
        wait_for(lambda: len(lines(run_dir / "samples.jsonl")) >= 1, driver, "a first sample")
        victim = manifest(run_dir)["cluster"]["workers"][0]["pid"]  # type: ignore[index]
        os.kill(victim, signal.SIGKILL)
        assert driver.wait(timeout=TIMEOUT_S) == 0
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    return run_dir, victim


def test_a_ray_run_equals_the_single_process_run(killed_worker: tuple[Path, int],
                                                  single: Path) -> None:
    run_dir, _ = killed_worker
    assert keys(run_dir) == KEYS  # every planned sample exactly once, despite the dead worker
    assert responses(run_dir) == responses(single)
    ray_manifest, local = manifest(run_dir), manifest(single)
    assert ray_manifest["model"] == local["model"]  # same provenance ...
    assert ray_manifest["effective_sampling"] == local["effective_sampling"]
    assert ray_manifest["seeds"] == local["seeds"] and ray_manifest["resume"] == local["resume"]
    assert local["cluster"] is None  # ... plus the cluster (below)
    assert json.loads((run_dir / "results.json").read_text())["benchmarks"] == \
        json.loads((single / "results.json").read_text())["benchmarks"]
    for command in (["score", str(run_dir)], ["report", str(run_dir)]):  # unchanged on a Ray run
        done = vt_eval(command, run_dir.parent.parent)
        assert done.returncode == 0, done.stdout + done.stderr
    assert responses(run_dir) == responses(single)


def test_the_cluster_and_the_restart_are_in_the_manifest(killed_worker: tuple[Path, int]) -> None:
    run_dir, victim = killed_worker
    recorded = manifest(run_dir)
    cluster = recorded["cluster"]
    assert isinstance(cluster, dict) and cluster["engine"] == "ray"
    assert len(cluster["nodes"]) == 1 and cluster["nodes"][0]["cpus"] == 2
    workers = cluster["workers"]
    assert len({w["pid"] for w in workers}) == 2 and victim == workers[0]["pid"]
    assert all(w["engine"]["backend"] == "transformers" and w["engine"]["torch_threads"] == 1
               for w in workers)
    assert cluster["restarts"] == 1  # Ray restarted the killed worker once
    assert cluster["units_retried"] <= 1  # the unit it was running, if any, ran again
    assert len(recorded["sessions"]) == 1  # type: ignore[arg-type]
    assert not Path(f"/proc/{victim}").exists()


def test_a_sigkilled_driver_resumes_with_the_same_command(tmp_path: Path, ray_address: str,
                                                          single: Path) -> None:
    cwd = ray_cwd(tmp_path)
    run_dir = cwd / RUN
    driver = start_driver([*ARGS, "--ray", ray_address], cwd)
    try:
        wait_for(lambda: len(lines(run_dir / "samples.jsonl")) >= 1, driver, "a first sample")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    before = lines(run_dir / "samples.jsonl")
    assert 1 <= len(before) < 4, "the kill should land mid-run"
    result = vt_eval([*ARGS, "--ray", ray_address], cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resuming run" in result.stdout
    assert keys(run_dir) == KEYS
    assert lines(run_dir / "samples.jsonl")[: len(before)] == before  # kept, not regenerated
    assert responses(run_dir) == responses(single)
    sessions = manifest(run_dir)["sessions"]
    assert len(sessions) == 2 and sessions[1]["already_done"] == len(before)  # type: ignore[index,arg-type]
