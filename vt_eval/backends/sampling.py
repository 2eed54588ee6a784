"""Token choice and log-probability statistics for the transformers backend.

Sampling uses Hugging Face's own warpers in `generate`'s order (temperature, top-k, top-p), so
`temperature`/`top_p`/`top_k` mean exactly what they mean in `model.generate`; only the draw is
ours: each row draws with `torch.multinomial` from its own `torch.Generator`, seeded from the
request's seed, so a row's randomness does not depend on the other rows of its batch. At batch 1 a
sample is token-for-token what `torch.manual_seed(seed); model.generate(...)` produced before.

Log-probabilities (`logprobs`, `prompt_logprobs`) are of the model's raw next-token distribution
(before temperature/top-k/top-p), as vLLM and OpenAI-style servers report them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vt_eval.config import SamplingParams

PROMPT_STATS_CHUNK = 256  # prompt positions per log-softmax over the vocabulary (bounds memory)


def hf_top_k(params: SamplingParams) -> int:
    """SPEC's top_k -1 (disabled) is HF's top_k 0."""
    return params.top_k if params.top_k > 0 else 0


def effective_sampling(params: SamplingParams) -> dict[str, Any]:
    """The `generate` arguments these params amount to (recorded in the manifest)."""
    sample = params.temperature > 0
    return {
        "do_sample": sample,
        "temperature": params.temperature if sample else None,
        "top_p": params.top_p if sample else None,
        "top_k": hf_top_k(params) if sample else None,
        "max_new_tokens": params.max_tokens,
    }


class RowSampler:
    """Chooses one next token per row: argmax at temperature 0, else a per-row seeded draw."""

    def __init__(self, params: SamplingParams) -> None:
        from transformers.generation.logits_process import (TemperatureLogitsWarper,
                                                            TopKLogitsWarper, TopPLogitsWarper)

        self.greedy = params.temperature == 0
        self.warpers: list[Any] = []
        if self.greedy:
            return
        if params.temperature != 1.0:
            self.warpers.append(TemperatureLogitsWarper(params.temperature))
        if hf_top_k(params):
            self.warpers.append(TopKLogitsWarper(top_k=hf_top_k(params)))
        if params.top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p=params.top_p))

    def choose(self, logits: torch.Tensor, generators: list[torch.Generator | None]) -> list[int]:
        """`logits`: (rows, vocab) float32 raw next-token logits."""
        if self.greedy:
            return logits.argmax(dim=-1).tolist()
        scores = logits
        no_ids = torch.empty((logits.shape[0], 0), dtype=torch.long, device=logits.device)
        for warper in self.warpers:  # these warpers read only the scores
            scores = warper(no_ids, scores)
        probs = torch.softmax(scores, dim=-1)
        return [int(torch.multinomial(probs[i:i + 1], num_samples=1, generator=g).item())
                for i, g in enumerate(generators)]


def make_generator(seed: int, device: str) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def chosen_logprobs(logits: torch.Tensor, tokens: list[int]) -> list[float]:
    """log p(token) per row under the raw distribution of `logits` (rows, vocab)."""
    index = torch.tensor(tokens, device=logits.device)[:, None]
    return torch.log_softmax(logits.float(), dim=-1).gather(1, index)[:, 0].tolist()


@dataclass(frozen=True)
class PromptStats:
    """Per prompt token: log p(token | earlier tokens) and the (mean, std) of log p over the
    vocabulary at that position; the first token has neither (nothing precedes it)."""

    logprobs: tuple[float | None, ...]
    moments: tuple[tuple[float, float] | None, ...]


def prompt_stats(logits: torch.Tensor, ids: list[int]) -> PromptStats:
    """`logits`: (len(ids), vocab), position t predicting token t+1.

    The moments are Min-K%++'s: mean and std of log p(z) for z drawn from the model's own
    next-token distribution (mu = sum_z p(z) log p(z); sigma^2 = sum_z p(z) (log p(z) - mu)^2)."""
    logprobs: list[float | None] = [None]
    moments: list[tuple[float, float] | None] = [None]
    targets = torch.tensor(ids[1:], device=logits.device)
    for start in range(0, len(ids) - 1, PROMPT_STATS_CHUNK):
        end = min(start + PROMPT_STATS_CHUNK, len(ids) - 1)
        logp = torch.log_softmax(logits[start:end].float(), dim=-1)
        probs = logp.exp()
        mean = (probs * logp).sum(dim=-1)
        std = (probs * (logp - mean[:, None]) ** 2).sum(dim=-1).clamp(min=0).sqrt()
        logprobs.extend(logp.gather(1, targets[start:end, None])[:, 0].tolist())
        moments.extend(zip(mean.tolist(), std.tolist()))
    return PromptStats(tuple(logprobs), tuple(moments))
