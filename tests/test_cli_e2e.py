"""The CLI end to end on the real fixture model on CPU: run, SIGKILL, resume, re-score, show."""

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

ARGS = ["run", "--benchmarks", "aime_2025", "--limit", "2", "-k", "2", "--max-tokens", "24",
        "--seed", "7"]


# Batches of 2 rows: the 4 samples finish in two waves, so a kill can land between them. A resumed
# run reproduces an uninterrupted one with the same batch settings.
EVAL_TOML = "[transformers]\nbatch_size = 2\nthreads = 1\n"


def vt_eval(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600, **kwargs)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def kill_after_first_sample(cwd: Path, samples: Path) -> None:
    (cwd / "eval.toml").write_text(EVAL_TOML)
    process = subprocess.Popen([sys.executable, "-m", "vt_eval.cli", *ARGS, "--out", "runs"],
                               cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if samples.exists() and len(lines(samples)) >= 1:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("straight")
    (cwd / "eval.toml").write_text(EVAL_TOML)
    result = vt_eval([*ARGS, "--out", "runs"], cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = cwd / "runs" / "smollm2-135m__aime_2025"
    (run_dir / "run.log").write_text(result.stdout)
    return run_dir


def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path: Path, uninterrupted: Path) -> None:
    run_dir = tmp_path / "runs" / "smollm2-135m__aime_2025"
    samples = run_dir / "samples.jsonl"
    kill_after_first_sample(tmp_path, samples)
    before = lines(samples)
    assert 1 <= len(before) < 4, "the kill should land mid-run"
    with samples.open("a") as handle:
        handle.write('{"benchmark": "aime_2025", "item_id": "2", "sam')  # a crash mid-write
    result = vt_eval([*ARGS, "--out", "runs"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resuming run" in result.stdout and "partial last line" in result.stdout
    after = lines(samples)
    keys = [(s["item_id"], s["sample_index"]) for s in after]
    assert sorted(keys) == [("1", 0), ("1", 1), ("2", 0), ("2", 1)]  # no duplicates, none lost
    assert after[: len(before)] == before  # finished samples were not regenerated
    straight = {(s["item_id"], s["sample_index"]): s["response"] for s in lines(uninterrupted / "samples.jsonl")}
    assert {(s["item_id"], s["sample_index"]): s["response"] for s in after} == straight
    results = json.loads((run_dir / "results.json").read_text())
    reference = json.loads((uninterrupted / "results.json").read_text())
    assert results["benchmarks"][0]["verdicts"] == reference["benchmarks"][0]["verdicts"]
    assert results["benchmarks"][0]["samples_done"] == 4 and results["benchmarks"][0]["complete"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["sessions"]) == 2 and manifest["sessions"][1]["already_done"] == len(before)
    assert manifest["stages"]["generate"]["counts"]["generated"] == 4 - len(before)


def test_progress_lines_and_the_plan_are_printed_when_not_a_terminal(uninterrupted: Path) -> None:
    log = (uninterrupted / "run.log").read_text()
    assert "plan aime_2025: 2 items x k=2 = 4 samples" in log
    assert "generating: 4/4 samples" in log


def test_manifest_records_provenance(uninterrupted: Path) -> None:
    manifest = json.loads((uninterrupted / "manifest.json").read_text())
    model = manifest["model"]
    assert model["weights_sha256"]["SmolLM2-135M-Instruct.Q4_1.gguf"] == \
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert len(model["chat_template_sha256"]) == 64
    data = manifest["datasets"]["aime_2025"]
    assert data["sha256"] == "15a0cdfb6ad94ccca14604702fc26126c92ec73ac4125d85e692fa16637b9359"
    assert data["source_kind"] == "snapshot" and data["revision"].startswith("c94da77e")
    assert manifest["sampling"] == {"temperature": 1.0, "top_p": 0.95, "top_k": -1,
                                    "max_tokens": 24, "seed": 7}
    assert manifest["packages"]["transformers"] and manifest["packages"]["math-verify"] == "0.9.0"
    assert "commit" in manifest["git"] and manifest["host"]["hostname"]
    assert manifest["status"] == "scored"
    assert manifest["seeds"] == {"scheme": "blake2b-31/v1", "run_seed": 7}
    assert manifest["effective_sampling"]  # what the backend actually used
    assert set(manifest["stages"]) == {"plan", "generate", "grade", "aggregate", "report"}


def test_results_table_and_reference(uninterrupted: Path) -> None:
    results = json.loads((uninterrupted / "results.json").read_text())
    bench = results["benchmarks"][0]
    assert bench["reference"]["VibeThinker-3B"] == 91.4
    assert sum(bench["verdicts"].values()) == 4
    assert bench["truncation_rate"] is not None and bench["ci95"] is not None


def test_different_config_in_the_same_dir_is_refused(uninterrupted: Path) -> None:
    cwd = uninterrupted.parent.parent
    result = vt_eval([*ARGS[:-2], "--seed", "8", "--out", "runs"], cwd)
    assert result.returncode == 2
    assert "sampling.seed: run has 7, this command has 8" in result.stdout


def test_rescore_without_a_model_and_show(uninterrupted: Path) -> None:
    scores = uninterrupted / "scores.jsonl"
    scores.unlink()
    result = vt_eval(["score", str(uninterrupted)], uninterrupted,
                     env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr
    assert len(lines(scores)) == 4 and "aime_2025" in result.stdout
    shown = vt_eval(["show", str(uninterrupted), "--problem", "1", "--sample", "0"], uninterrupted)
    assert shown.returncode == 0
    for label in ("user", "response", "extracted", "gold: '70'", "verdict", "why"):
        assert label in shown.stdout


def test_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    result = vt_eval(["run", "--model", str(tmp_path / "nope"), "--limit", "1", "-k", "1"], tmp_path)
    assert result.returncode == 2
    assert "neither an alias" in result.stdout
