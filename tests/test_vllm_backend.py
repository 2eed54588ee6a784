"""What one CPU cannot run: vLLM with tensor or data parallelism above 1 (several GPUs).

For those settings only the engine arguments built from `[vllm]` are checked (what `LLM(...)`
receives). Everything the vLLM backend does on one device runs through the real engine (the CPU
build) elsewhere: generation, resume and engine errors in tests/test_vllm_engine.py, the probes'
log-probabilities and CLR's calls in tests/test_vllm_calls.py, and vLLM's OpenAI-compatible server
in tests/test_vllm_serve.py.
"""

from __future__ import annotations

from pathlib import Path

from vt_eval.backends.vllm_engine import engine_kwargs
from vt_eval.config import load_config


def vllm_section(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "eval.toml"
    path.write_text(f"[vllm]\n{body}\n")
    return path


def test_tensor_and_data_parallel_sizes_reach_the_engine(tmp_path: Path) -> None:
    config = load_config(vllm_section(tmp_path, "tensor_parallel_size = 4\ndata_parallel_size = 2\n"
                                                "max_model_len = 4096"))
    kwargs = engine_kwargs("/models/ckpt", config.vllm, seed=5, platform="cuda")
    assert kwargs["tensor_parallel_size"] == 4 and kwargs["data_parallel_size"] == 2
    assert kwargs["model"] == "/models/ckpt" and kwargs["seed"] == 5
    assert kwargs["max_model_len"] == 4096
    # On a GPU the model's dtype and gpu_memory_utilization decide; no fixed KV cache size.
    assert kwargs["dtype"] == "auto" and kwargs["gpu_memory_utilization"] == 0.9
    assert "kv_cache_memory_bytes" not in kwargs


def test_data_parallel_of_one_is_left_to_vllm(tmp_path: Path) -> None:
    config = load_config(vllm_section(tmp_path, "tensor_parallel_size = 2"))
    kwargs = engine_kwargs("/models/ckpt", config.vllm, seed=0, platform="cuda")
    assert kwargs["tensor_parallel_size"] == 2 and "data_parallel_size" not in kwargs
