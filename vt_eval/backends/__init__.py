"""The backend registry: each backend paired with the config section it reads.

Adding a backend is one module with a class implementing `Backend` plus one entry in BACKENDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vt_eval.backends.base import Backend
from vt_eval.config import EvalConfig
from vt_eval.errors import BackendError, ConfigError
from vt_eval.models import resolve_model


def _transformers(config: EvalConfig) -> Backend:
    from vt_eval.backends.transformers_backend import TransformersBackend
    ref = resolve_model(config.model.name)
    try:
        return TransformersBackend(ref, config.transformers)
    except BackendError as exc:  # a checkpoint that cannot load is a usage error, not a retry
        raise ConfigError(f"cannot load model {config.model.name}: {exc}") from exc


def _openai(config: EvalConfig) -> Backend:
    from vt_eval.backends.openai_backend import OpenAIBackend
    return OpenAIBackend(config.model.base_url, config.model.name, config.openai)


def _vllm(config: EvalConfig) -> Backend:
    from vt_eval.backends.vllm_backend import VLLMBackend, require_vllm
    require_vllm()
    return VLLMBackend(resolve_model(config.model.name), config.vllm, config.sampling.seed)


@dataclass(frozen=True)
class BackendSpec:
    name: str
    section: str  # the EvalConfig section holding this backend's settings
    build: Callable[[EvalConfig], Backend]


BACKENDS: dict[str, BackendSpec] = {
    "transformers": BackendSpec("transformers", "transformers", _transformers),
    "openai": BackendSpec("openai", "openai", _openai),
    "vllm": BackendSpec("vllm", "vllm", _vllm),
}


def resolve_backend_name(config: EvalConfig) -> str:
    """`auto` means: openai when a base URL is set, vLLM on a GPU, else transformers.

    On the CPU build, vLLM decodes ~1.3x faster than our transformers backend but its engine
    takes 26-160 s to start vs ~5 s (docs/vllm.md), so auto keeps transformers on CPU; pass
    `--backend vllm` to use vLLM's CPU build."""
    if config.model.backend != "auto":
        return config.model.backend
    if config.model.base_url:
        return "openai"
    import torch
    if not torch.cuda.is_available():  # decided without importing vLLM (seconds)
        return "transformers"
    from vt_eval.backends.vllm_engine import platform_name
    return "vllm" if platform_name() in ("cuda", "rocm") else "transformers"


def make_backend(config: EvalConfig, backend_name: str) -> Backend:
    if backend_name not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend_name}'; known: {', '.join(BACKENDS)}")
    return BACKENDS[backend_name].build(config)
