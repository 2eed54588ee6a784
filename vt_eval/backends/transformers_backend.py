"""Generation with Hugging Face transformers: CPU (tests, demo) or a GPU when vLLM is absent.

Requests are generated in batches (`[transformers] batch_size`; 0 = 8 on CPU, 32 on CUDA) by our
own KV-cache loop (vt_eval/backends/batching.py): requests are sorted by prompt length, then
prompt, so the k samples of a prompt share one prefill and padding stays small; prompts are left
padded; a finished row leaves the batch at once and a pending row takes its place (refilling; why
is in batching.py). Completions are yielded as rows finish.

Seeds survive batching: each row draws from its own torch.Generator seeded with Request.seed, with
HF's own temperature/top-k/top-p warpers (sampling.py). At batch 1 a sample is what
`torch.manual_seed(seed); model.generate(...)` gives, token for token (only temperature, top_p
and top_k apply: a checkpoint's generation_config extras such as repetition_penalty do not,
as the SPEC protocol has none). In a batch, a row's logits
differ from batch 1 only by float rounding (left padding and matmul shapes change the summation
order), which flips a sampled token rarely: measured on the fixture model (bench/generate.py,
8 prompts x 4, SPEC sampling), 0 of 32 samples differ between batch 1 and batch 8 at 32 new
tokens and 0 of 32 at 96 (about 3,800 sampled tokens, none flipped). Runs are
deterministic for fixed batch settings and thread count; a resumed run batches only the missing
samples, so it matches an uninterrupted one up to that same rare flip.

Chat requests use the model's chat template (its special tokens are in the template, so the
tokenizer adds none); raw `text` requests are tokenized with add_special_tokens=True, i.e. as the
tokenizer does for plain text (a BOS for Llama-style tokenizers; nothing for SmolLM2).

Torch's intra-op threads are set from `[transformers] threads` (0 = the cores this process may
use, os.sched_getaffinity): under contention more threads than free cores runs many times slower.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from vt_eval.backends.base import (Capability, Completion, Request, SamplingParams, render_chat,
                                   tokenizer_provenance)
from vt_eval.backends.batching import BatchedGenerator, Row
from vt_eval.backends.sampling import RowSampler, effective_sampling, make_generator
from vt_eval.config import TransformersConfig
from vt_eval.errors import BackendError
from vt_eval.models import ModelRef, weights_fingerprint

CPU_BATCH, CUDA_BATCH = 8, 32


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class TransformersBackend:
    name: ClassVar[str] = "transformers"
    batch_invariant: ClassVar[bool | None] = True  # one seeded generator per row (tested)
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"chat", "raw_text", "logprobs", "prompt_logprobs"})

    def __init__(self, ref: ModelRef, config: TransformersConfig | None = None) -> None:
        os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF de-quantisation bars clutter the run's progress
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        if ref.path is None:
            raise BackendError(f"the transformers backend needs a local model, got '{ref.name}'")
        config = config or TransformersConfig()
        self.threads = config.threads or default_threads()
        torch.set_num_threads(self.threads)
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.batch_size = config.batch_size or (CUDA_BATCH if self.device == "cuda" else CPU_BATCH)
        self.ref = ref
        kwargs: dict[str, Any] = {"gguf_file": ref.gguf_file} if ref.gguf_file else {}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(ref.path, **kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(ref.path, dtype="auto", **kwargs)
        except (OSError, ValueError) as exc:
            raise BackendError(f"could not load model {ref.name}: {exc}") from exc
        self.model.to(self.device).eval()

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        rows = sorted((self._row(r, params) for r in requests),
                      key=lambda row: (len(row.prompt_ids), row.prompt_ids))
        loop = BatchedGenerator(self.model, RowSampler(params), self._eos_ids(), self.batch_size,
                                params.max_tokens)
        for row in loop.run(rows):
            yield self._completion(row)

    def _row(self, request: Request, params: SamplingParams) -> Row:
        if request.text is not None:
            ids = self.tokenizer(request.text, add_special_tokens=True)["input_ids"]
        else:
            prompt = render_chat(self.tokenizer, request.messages)
            ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if not ids:
            raise BackendError(f"request {request.key} has an empty prompt")
        generator = make_generator(request.seed, self.device) if params.temperature > 0 else None
        return Row(request, list(ids), generator)

    def _completion(self, row: Row) -> Completion:
        stats = row.prompt
        ids = row.prompt_ids
        return Completion(
            key=row.request.key,
            text=self.tokenizer.decode(row.tokens, skip_special_tokens=True),
            finish_reason="stop" if row.finish_reason == "stop" else "length",
            prompt_tokens=len(ids),
            completion_tokens=len(row.tokens),
            latency_s=time.perf_counter() - row.started,
            token_logprobs=tuple(row.logprobs) if row.request.logprobs else None,
            prompt_logprobs=stats.logprobs if stats else None,
            prompt_token_strings=tuple(self.tokenizer.decode([i]) for i in ids) if stats else None,
            prompt_logprob_moments=stats.moments if stats else None,
        )

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        return {**effective_sampling(params), "batch_size": self.batch_size,
                "torch_threads": self.threads, "logprobs": "raw model distribution"}

    def provenance(self) -> dict[str, Any]:
        import torch
        return {
            "backend": self.name,
            "model": self.ref.name,
            "model_path": str(self.ref.path),
            "gguf_file": self.ref.gguf_file,
            "weights_sha256": weights_fingerprint(self.ref),
            "dtype": str(self.model.dtype),
            "device": self.device,
            "torch_threads": torch.get_num_threads(),
            "batch_size": self.batch_size,
            "generation_config": self.model.generation_config.to_diff_dict(),
            **tokenizer_provenance(self.tokenizer),
        }

    def close(self) -> None:
        del self.model
