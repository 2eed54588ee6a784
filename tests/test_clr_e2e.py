"""CLR end to end through the CLI on the real fixture model on CPU: `run --tts clr` is SIGKILLed
mid-verification, `vt-eval clr RUN` resumes it without repeating a recorded call, a repeated
`run --tts clr` finds everything done, and `vt-eval clr RUN --repetitions 3` re-aggregates from
the recorded calls without loading the model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# Tiny on purpose (CPU is scarce): 1 problem, 6 samples, M = 2, R = 2, at most 24 new tokens.
# batch_size 1 streams verifications one by one, so the kill lands between two of them;
# answered_only = false gives the fixture model's unanswered samples calls to make.
EVAL_TOML = """
[transformers]
batch_size = 1
threads = 1

[clr]
m = 2
repetitions = 2
extract_max_tokens = 24
verify_max_tokens = 12
answered_only = false
"""
ARGS = ["run", "--benchmarks", "aime_2025", "--limit", "1", "-k", "6", "--max-tokens", "24",
        "--seed", "7", "--tts", "clr", "--out", "runs"]
RUN = Path("runs") / "smollm2-135m__aime_2025"


def vt_eval(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=900)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.exists() else []


def kill_mid_verification(cwd: Path) -> float:
    verifications = cwd / RUN / "verifications.jsonl"
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "vt_eval.cli", *ARGS], cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 800
    while time.monotonic() < deadline and process.poll() is None:
        if len(lines(verifications)) >= 1:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return time.monotonic() - started


def test_killed_mid_verification_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    (tmp_path / "eval.toml").write_text(EVAL_TOML)
    run_dir = tmp_path / RUN
    killed_after = kill_mid_verification(tmp_path)
    samples, claims = lines(run_dir / "samples.jsonl"), lines(run_dir / "claims.jsonl")
    before = lines(run_dir / "verifications.jsonl")
    expected = sum(len(c["claims"]) for c in claims)  # type: ignore[arg-type]
    assert len(samples) == 6 and len(claims) == 6, "the kill should land after extraction"
    assert 1 <= len(before) < expected, "the kill should land mid-verification"
    with (run_dir / "verifications.jsonl").open("a") as handle:
        handle.write('{"benchmark": "aime_2025", "item_id": "1", "sam')  # a crash mid-write

    started = time.monotonic()
    resumed = vt_eval(["clr", str(RUN)], tmp_path)
    resumed_s = time.monotonic() - started
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "CLR extraction" not in resumed.stdout  # every extraction was recorded
    assert f"CLR verification: {expected - len(before)} calls" in resumed.stdout
    after = lines(run_dir / "verifications.jsonl")
    keys = [(v["sample_index"], v["claim_index"]) for v in after]
    assert len(keys) == len(set(keys)) == expected  # none repeated, none lost
    assert after[: len(before)] == before  # recorded calls kept as they were
    assert lines(run_dir / "claims.jsonl") == claims and lines(run_dir / "samples.jsonl") == samples
    report = json.loads((run_dir / "manifest.json").read_text())["stages"]["clr"]
    assert report["counts"]["verification_calls"] == expected - len(before)
    assert report["counts"]["extraction_calls"] == 0
    assert any("partial last line" in w for w in report["details"]["warnings"])

    results = json.loads((run_dir / "results.json").read_text())["benchmarks"][0]
    clr = results["extra_metrics"]["clr"]
    assert clr["k"] == 6 and clr["repetitions"] == 2
    assert clr["spent"]["verification_calls"] == expected
    assert sum(clr["parsing"]["claims"].values()) == 6
    assert sum(clr["parsing"]["verdicts"].values()) == expected
    assert any(line.startswith("CLR@6 (M=2, R=2") for line in results["summary"])
    assert "CLR@6" in resumed.stdout

    again = vt_eval(ARGS, tmp_path)  # the run command: generation, grading and CLR all done
    assert again.returncode == 0, again.stdout + again.stderr
    assert "CLR verification" not in again.stdout and "for CLR" not in again.stdout  # no calls
    assert len(lines(run_dir / "verifications.jsonl")) == expected

    more = vt_eval(["clr", str(RUN), "--repetitions", "3"], tmp_path)  # re-aggregate, no model
    assert more.returncode == 0, more.stdout + more.stderr
    assert "CLR@6 (M=2, R=3" in more.stdout and "for CLR" not in more.stdout
    assert len(lines(run_dir / "verifications.jsonl")) == expected
    print(f"\nkilled after {killed_after:.0f} s; resume ({expected - len(before)} verification "
          f"calls) took {resumed_s:.0f} s")
