"""vLLM offline engine (GPU). Kept thin: prompts, seeds and chat templates come from shared code.

All requests of a chunk go to one `LLM.generate` call. Each sample is its own request with its own
seed (n=1), so a resumed run regenerates exactly the missing samples with their original seeds;
vLLM's prefix cache makes k requests sharing a prompt cost about what one n=k request costs.

Chat prompts are rendered with the model's template and passed as token ids (tokenized without
added special tokens: the template has them; a string would get a second BOS from vLLM). Raw
`text` prompts are passed as text, which vLLM tokenizes with the tokenizer's special tokens, as
the transformers backend does. Log-probabilities pass straight through: SamplingParams
`logprobs=0` / `prompt_logprobs=0` (the chosen token's log-probability only, raw distribution);
vLLM returns no full-vocabulary statistics, so `prompt_logprob_moments` is None.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from vt_eval.backends.base import (Capability, Completion, Request, SamplingParams, render_chat,
                                   tokenizer_provenance)
from vt_eval.config import VLLMConfig
from vt_eval.errors import BackendError
from vt_eval.models import ModelRef, weights_fingerprint

CHUNK_REQUESTS = 4096  # samples per generate() call; a killed run loses at most one chunk


def vllm_available() -> bool:
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class VLLMBackend:
    name: ClassVar[str] = "vllm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"chat", "raw_text", "logprobs", "prompt_logprobs"})

    def __init__(self, ref: ModelRef, config: VLLMConfig, seed: int) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError('the vllm backend needs: pip install -e ".[vllm]" (and a GPU)') from exc
        if ref.path is None:
            raise BackendError("the vllm backend needs a local checkpoint directory")
        self.ref = ref
        self.config = config
        kwargs: dict[str, Any] = {
            "model": str(ref.path / ref.gguf_file) if ref.gguf_file else str(ref.path),
            "tensor_parallel_size": config.tensor_parallel_size,
            "gpu_memory_utilization": config.gpu_memory_utilization,
            "seed": seed,
        }
        if config.data_parallel_size > 1:
            kwargs["data_parallel_size"] = config.data_parallel_size
        if config.max_model_len:
            kwargs["max_model_len"] = config.max_model_len
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        for start in range(0, len(requests), CHUNK_REQUESTS):
            chunk = requests[start:start + CHUNK_REQUESTS]
            prompts = [self._prompt(r) for r in chunk]
            sampling = [self._sampling(r, params) for r in chunk]
            started = time.perf_counter()
            outputs = self.llm.generate(prompts, sampling)
            per_request = (time.perf_counter() - started) / max(1, len(chunk))
            for request, output in zip(chunk, outputs, strict=True):
                yield self._completion(request, output, per_request)

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
                "logprobs": "0 when the request asks", "prompt_logprobs": "0 when the request asks"}

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
            "backend": self.name, "model": self.ref.name, "model_path": str(self.ref.path),
            "weights_sha256": weights_fingerprint(self.ref), "vllm_version": vllm.__version__,
            "engine_config": self.config.model_dump(), **tokenizer_provenance(self.tokenizer),
        }

    def close(self) -> None:
        del self.llm


def chosen(per_position: Any, token_ids: Sequence[int], field: Capability,
           skip: int = 0) -> tuple[float, ...]:
    """The log-probability of each chosen token from vLLM's per-position {token id: Logprob}."""
    if per_position is None or len(per_position) != len(token_ids):
        raise BackendError(f"vLLM returned no {field} for a request that asked for them")
    return tuple(float(per_position[i][token_id].logprob)
                 for i, token_id in enumerate(token_ids) if i >= skip)


def require_vllm() -> None:
    if not vllm_available():
        raise BackendError("--backend vllm needs vLLM and a CUDA GPU; neither is usable here "
                           "(use --backend transformers or openai)")
