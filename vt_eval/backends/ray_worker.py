"""The Ray actor that generates: one backend per worker, built on the worker from the run's config.

A unit runs as a Ray generator task: completions stream back to the driver as they finish,
framed by a `UnitStart` and a `UnitEnd`. The frame is what makes a retried unit safe. When a
worker dies mid-unit, Ray restarts the actor (`max_restarts`) and runs the unit again
(`max_task_retries`); the driver then receives the retry's items only from the position it had
reached, so a retry that finishes its requests in another order would hide some completions and
repeat others. `UnitEnd` (always the last position) carries every completion of the unit from
the attempt that finished, so the driver can fill what the stream hid and drop what it repeated;
its `incarnation` differs from the `UnitStart`'s (always the first position) exactly when the
unit was begun by a worker that died.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ray

from vt_eval.backends import make_backend
from vt_eval.backends.base import Completion, SamplingParams
from vt_eval.backends.units import WorkUnit
from vt_eval.config import EvalConfig, validate_config

# Provenance keys that must be equal on every worker: the same model, template and engine.
SAME_ON_EVERY_WORKER = ("backend", "model", "weights_sha256", "chat_template_sha256", "dtype",
                        "gguf_file", "vllm_version", "tokenizer_class", "vocab_size")
# Facts about the engine shown per worker in manifest.cluster (the rest is in manifest.model).
ENGINE_KEYS = ("backend", "device", "dtype", "torch_threads", "batch_size", "vllm_version",
               "vllm_platform")


@dataclass(frozen=True)
class UnitStart:
    unit: int
    incarnation: str


@dataclass(frozen=True)
class UnitEnd:
    unit: int
    incarnation: str
    completions: tuple[Completion, ...]


def worker_config(config: EvalConfig) -> EvalConfig:
    """Torch threads default to the CPUs Ray gave the worker, not every core of its node."""
    if config.transformers.threads:
        return config
    return config.with_overrides({"transformers.threads": max(1, int(config.ray.cpus_per_worker))})


class GenerateWorker:
    """Made a Ray actor by `ray.remote(GenerateWorker).options(...)` in ray_executor.py."""

    def __init__(self, config_data: dict[str, Any], backend_name: str, driver_cwd: str) -> None:
        if os.path.isdir(driver_cwd):  # relative model paths mean the same as on the driver
            os.chdir(driver_cwd)
        context = ray.get_runtime_context()
        self.incarnation_id = uuid.uuid4().hex[:12]
        self.restarted = context.was_current_actor_reconstructed
        self.node_id = context.get_node_id()
        config = worker_config(validate_config(config_data, "[ray] worker"))
        self.backend = make_backend(config, backend_name)

    def describe(self) -> dict[str, Any]:
        provenance = self.backend.provenance()
        return {
            "pid": os.getpid(), "host": socket.gethostname(), "node_id": self.node_id,
            "node_ip": ray.util.get_node_ip_address(), "incarnation": self.incarnation_id,
            "restarted": self.restarted, "batch_invariant": self.backend.batch_invariant,
            "fixed_batch": getattr(self.backend, "fixed_batch", None),
            "same": {k: provenance.get(k) for k in SAME_ON_EVERY_WORKER},
            "engine": {k: provenance[k] for k in ENGINE_KEYS if k in provenance},
            "provenance": provenance,
        }

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        return self.backend.effective_params(params)

    def run_unit(self, unit: WorkUnit, params: SamplingParams) -> Iterator[Any]:
        yield UnitStart(unit.index, self.incarnation_id)
        completions = []
        for completion in self.backend.generate(unit.requests, params):
            completions.append(completion)
            yield completion
        yield UnitEnd(unit.index, self.incarnation_id, tuple(completions))
