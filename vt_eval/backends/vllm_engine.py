"""Starting vLLM's engine from `[vllm]`: its arguments, its platform, and its failures in words a
user can act on (the setting to change)."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from vt_eval.config import VLLMConfig
from vt_eval.errors import BackendError, ConfigError, VtEvalError
from vt_eval.models import ModelRef

CPU_KV_CACHE_GIB = 2.0  # the CPU build's default: a share of host memory fails on a busy machine
GIB = 1024 ** 3


def quiet_logs() -> None:
    """vLLM logs every engine step at INFO; ours is the progress line. Set before vLLM is imported
    (its logger reads this once); a user's own VLLM_LOGGING_LEVEL wins."""
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")


def platform_name() -> str | None:
    """vLLM's device platform ("cuda", "cpu", …), or None when vLLM is missing or has no device."""
    quiet_logs()
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return None
    except (RuntimeError, OSError):  # a build for another device (e.g. CUDA libraries missing)
        return None
    name = getattr(current_platform, "device_type", "") or ""
    return name if name and name != "unspecified" else None


def engine_kwargs(model_path: str, config: VLLMConfig, seed: int, platform: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model_path, "seed": seed,
        "tensor_parallel_size": config.tensor_parallel_size,
        "gpu_memory_utilization": config.gpu_memory_utilization,
        "enforce_eager": config.enforce_eager,
    }
    on_cpu = platform == "cpu"
    dtype = "bfloat16" if config.dtype == "auto" and on_cpu else config.dtype
    kwargs["dtype"] = dtype
    kv_gib = config.kv_cache_gib or (CPU_KV_CACHE_GIB if on_cpu else 0.0)
    if kv_gib:
        kwargs["kv_cache_memory_bytes"] = int(kv_gib * GIB)
    if config.data_parallel_size > 1:
        kwargs["data_parallel_size"] = config.data_parallel_size
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    return kwargs


def check_host_memory(kwargs: dict[str, Any], platform: str | None) -> None:
    """On the CPU build the KV cache is host memory: refuse before a minute-long engine start."""
    wanted = kwargs.get("kv_cache_memory_bytes")
    available = _available_host_bytes()
    if platform != "cpu" or not wanted or available is None or wanted < available:
        return
    raise BackendError(
        f"[vllm] kv_cache_gib asks for {wanted / GIB:.1f} GiB of KV cache but this machine has "
        f"{available / GIB:.1f} GiB of memory available: lower kv_cache_gib in eval.toml (the "
        "CPU build's default is 2) or max_model_len, or free memory")


def _available_host_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


_MEMORY = re.compile(r"memory|KV cache|kv_cache|cache blocks|OutOfMemory|out of memory", re.I)
_LOAD = re.compile(r"config\.json|architecture|not supported|safetensors|Unrecognized model|"
                   r"No such file|does not appear to have|tokenizer", re.I)


def explain_engine_failure(exc: BaseException, ref: ModelRef, config: VLLMConfig) -> VtEvalError:
    """The engine did not start: say which setting to change. The engine's own log (printed above
    by vLLM) holds the root cause; the chain's messages are searched for the usual ones."""
    text = " | ".join(_chain(exc))
    if _MEMORY.search(text):
        return BackendError(
            f"vLLM could not reserve memory for the model and its KV cache ({_short(text)}). "
            f"Change [vllm] in eval.toml: kv_cache_gib (now {config.kv_cache_gib or 'default'}), "
            f"max_model_len (now {config.max_model_len or 'the model maximum'}), "
            f"gpu_memory_utilization (now {config.gpu_memory_utilization}); or stop other "
            "processes using that memory")
    if _LOAD.search(text):
        return ConfigError(
            f"vLLM cannot load the model at {ref.path} ({_short(text)}). Pass a Hugging Face "
            "checkpoint directory of an architecture vLLM supports with --model, or use "
            "--backend transformers")
    return BackendError(
        f"the vLLM engine did not start ({_short(text)}); its log above has the cause. Settings "
        "that usually matter: [vllm] kv_cache_gib, max_model_len, gpu_memory_utilization, dtype, "
        "enforce_eager")


def _chain(exc: BaseException | None) -> list[str]:
    seen: list[str] = []
    while exc is not None and len(seen) < 8:
        seen.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return seen


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


class DeathWatch:
    """Turns a dead engine core into an error instead of a hang.

    vLLM 0.32's offline client notices when its engine core process dies (it sets
    `resources.engine_dead` and shuts down) but leaves `LLMEngine.step()` waiting on its output
    queue forever (seen here: the core SIGKILLed mid-run, the driver blocked in
    `SyncMPClient.get_output`). This thread puts an error in that queue once the flag is set, which
    `step()` then raises as vLLM's own EngineDeadError. Where the client has no such attributes
    (another vLLM version, in-process engine), it does nothing.
    """

    def __init__(self, llm: Any, poll_s: float = 1.0) -> None:
        client = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        self.resources = getattr(client, "resources", None)
        self.queue = getattr(client, "outputs_queue", None)
        self.poll_s = poll_s
        self.stopped = threading.Event()
        self.active = self.resources is not None and hasattr(self.queue, "put")
        if self.active:
            threading.Thread(target=self._watch, name="vt-eval-vllm-deathwatch", daemon=True).start()

    def _watch(self) -> None:
        while not self.stopped.wait(self.poll_s):
            if getattr(self.resources, "engine_dead", False):
                self.queue.put(RuntimeError("the vLLM engine core process died"))  # type: ignore[union-attr]
                return

    def stop(self) -> None:
        self.stopped.set()
