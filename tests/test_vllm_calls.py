"""The vLLM backend's own calls through the real engine (the CPU build), from the CLI: the probes
(prompt log-probabilities for the likelihood probe, greedy raw-text continuations for the
completion probe) and CLR's extraction and verification calls.

Each test starts one engine (tens of seconds): tiny inputs, `[vllm] enforce_eager`, a 1 GiB KV
cache. Prompt log-probabilities are checked against transformers' own forward pass over the same
converted checkpoint: two implementations, one set of weights.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vt_eval.backends.gguf_checkpoint import as_checkpoint
from vt_eval.clr.parsing import CLAIM_STATUSES, VERDICT_STATUSES
from vt_eval.models import resolve_model
from vt_eval.probes.likelihood import lowest_mean
from vt_eval.probes.settings import ProbeSettings

pytestmark = pytest.mark.slow

EVAL_TOML = """
[vllm]
enforce_eager = true
max_model_len = 1024
kv_cache_gib = 1

[transformers]
threads = 1

# K = 8 samples, each gets an extraction call (answered_only = false: the fixture model rarely
# answers); claims that parse get one verification call each.
[clr]
k = 8
m = 2
repetitions = 2
extract_max_tokens = 48
verify_max_tokens = 12
answered_only = false
"""


def vt_eval(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], cwd=cwd, text=True,
                            capture_output=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    ref, _ = as_checkpoint(resolve_model("smollm2-135m"), print)  # what --backend vllm loads
    assert ref.path is not None
    return ref.path


def reference_logprobs(checkpoint: Path, texts: list[str]) -> list[list[float]]:
    """log p of each token after the first, from transformers (float32) on the same weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    out = []
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            logprobs = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
            out.append(logprobs.gather(1, ids[0, 1:, None])[:, 0].tolist())
    return out


def assert_vllm_provenance(provenance: dict[str, Any], checkpoint: Path) -> None:
    assert provenance["backend"] == "vllm" and provenance["vllm_platform"] == "cpu"
    assert provenance["vllm_version"] and provenance["model_path"] == str(checkpoint)
    assert provenance["converted_from"]["checkpoint"] == str(checkpoint)
    engine = provenance["engine_config"]["engine_kwargs"]  # what LLM(...) was given
    assert engine["enforce_eager"] is True and engine["max_model_len"] == 1024
    assert engine["kv_cache_memory_bytes"] == 1024 ** 3 and engine["dtype"] == "bfloat16"


def test_probes_through_vllm_engine(tmp_path: Path, checkpoint: Path) -> None:
    (tmp_path / "eval.toml").write_text(EVAL_TOML)
    vt_eval(["probe", "--backend", "vllm", "--benchmarks", "aime_2025,aime_2026", "--cutoff",
             "2025-06-01", "--limit", "1", "--out", "probes", "--run-id", "vllm"], tmp_path)
    out = tmp_path / "probes" / "vllm"
    records = lines(out / "items.jsonl")
    assert [r["benchmark"] for r in records] == ["aime_2025", "aime_2026"]
    texts = [text for r in records for text in [r] + r["perturbed"]]
    assert len(texts) > len(records)  # perturbed copies were scored too
    reference = reference_logprobs(checkpoint, [t["text"] for t in texts])
    k = ProbeSettings().min_k
    for text, expected in zip(texts, reference, strict=True):
        # One prompt log-probability per token after the first (`tokens` counts the first too).
        assert text["tokens"] == len(expected) + 1
        assert math.isfinite(text["mean_logprob"]) and math.isfinite(text["min_k"])
        # vLLM computes in bfloat16, the reference in float32: close, not equal.
        assert text["mean_logprob"] == pytest.approx(sum(expected) / len(expected), abs=0.03)
        assert text["min_k"] == pytest.approx(lowest_mean(expected, k), abs=0.06)
        assert text["min_k_pp"] is None  # vLLM returns no full-vocabulary moments
    for record in records:  # the completion probe: greedy raw-text continuations, scored
        assert [c["cut"] for c in record["cuts"]] == list(ProbeSettings().cuts)
        for cut in record["cuts"]:
            assert cut["generated"].strip()  # the engine continued the text
            assert 0.0 <= cut["rouge_l"] <= 1.0 and 0.0 <= cut["prefix_match"] <= 1.0
    assert_vllm_provenance(json.loads((out / "benchmarks.json").read_text())["backend"], checkpoint)


def test_clr_calls_through_vllm_engine(tmp_path: Path, checkpoint: Path) -> None:
    """CLR's two steps on the vLLM backend, over a run generated (cheaply) by transformers."""
    (tmp_path / "eval.toml").write_text(EVAL_TOML)
    vt_eval(["run", "--backend", "transformers", "--benchmarks", "aime_2025", "--limit", "1",
             "-k", "8", "--max-tokens", "24", "--seed", "7", "--out", "runs", "--run-id", "clr"],
            tmp_path)
    run = tmp_path / "runs" / "clr"
    vt_eval(["clr", str(run), "--backend", "vllm"], tmp_path)

    claims = lines(run / "claims.jsonl")
    assert sorted(c["sample_index"] for c in claims) == list(range(8))  # one extraction each
    for record in claims:
        assert record["prompt_version"] == "clr-extract/v1" and record["status"] in CLAIM_STATUSES
        assert record["prompt_tokens"] > 0 and 0 < record["completion_tokens"] <= 48
    wanted = {(c["sample_index"], i) for c in claims for i in range(len(c["claims"]))}
    assert wanted, "no extraction reply held a claim: nothing reached the verification step"
    verifications = lines(run / "verifications.jsonl")
    assert {(v["sample_index"], v["claim_index"]) for v in verifications} == wanted
    assert len(verifications) == len(wanted)  # one call per claim, none repeated
    for record in verifications:
        assert record["status"] in VERDICT_STATUSES and 0 < record["completion_tokens"] <= 12

    clr = json.loads((run / "clr.json").read_text())
    assert list(clr["benchmarks"]) == ["aime_2025"]
    results = json.loads((run / "results.json").read_text())["benchmarks"][0]
    assert results["extra_metrics"]["clr"]["spent"]["verification_calls"] == len(wanted)
    manifest = json.loads((run / "manifest.json").read_text())
    stage = manifest["stages"]["clr"]
    assert stage["counts"]["extraction_calls"] == 8
    assert stage["counts"]["verification_calls"] == len(wanted)
    assert_vllm_provenance(stage["details"]["model"], checkpoint)
    # Generation (transformers, GGUF) and CLR (vLLM, converted checkpoint) used one chat template.
    assert stage["details"]["model"]["chat_template_sha256"] == manifest["model"]["chat_template_sha256"]
