"""Shared fixtures: the real fixture model (SmolLM2-135M-Instruct) as a checkpoint directory and
behind a real OpenAI-compatible server (`transformers serve`) on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from vt_eval.models import resolve_model


def save_checkpoint(target: Path) -> Path:
    """GGUF -> a normal bf16 HF checkpoint dir (de-quantised, saved with its tokenizer)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = resolve_model("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(ref.path, gguf_file=ref.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(ref.path, gguf_file=ref.gguf_file)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(torch.bfloat16)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    # transformers serve ignores temperature unless sampling is on in the generation config.
    config_path = target / "generation_config.json"
    generation = json.loads(config_path.read_text()) if config_path.exists() else {}
    generation["do_sample"] = True
    config_path.write_text(json.dumps(generation, indent=2))
    return target


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "smollm2-135m-ckpt")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base_url: str
    model: str
    process: subprocess.Popen[bytes]


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not healthy within {timeout_s} s")


@pytest.fixture(scope="session")
def openai_server(checkpoint_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`transformers serve` on loopback serving the fixture checkpoint."""
    cache = tmp_path_factory.mktemp("hf-cache")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache),
           "OMP_NUM_THREADS": "1"}
    binary = shutil.which("transformers") or str(Path(sys.executable).parent / "transformers")
    log = (tmp_path_factory.mktemp("server-log") / "serve.log").open("wb")
    process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port),
                                str(checkpoint_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, 120)
        yield Server(f"http://127.0.0.1:{port}/v1", str(checkpoint_dir), process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
