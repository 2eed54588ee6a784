"""The one small interface every generation backend implements.

A request is either chat `messages` (the model's chat template is applied) or raw `text` (no
template: the completion and likelihood probes). It can ask for per-token log-probabilities of the
completion (`logprobs`) and of the prompt (`prompt_logprobs`); a backend states what it supports in
`capabilities`, and `require_capabilities` turns a missing one into a clear error before any call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from vt_eval.config import SamplingParams
from vt_eval.errors import BackendError
from vt_eval.records import FinishReason
from vt_eval.util import sha256_text

Capability = Literal["chat", "raw_text", "logprobs", "prompt_logprobs"]
RequestKey = tuple[str, str, int]

__all__ = ["Backend", "Capability", "Completion", "Request", "SamplingParams",
           "require_capabilities", "render_chat", "tokenizer_provenance"]


@dataclass(frozen=True)
class Request:
    key: RequestKey  # e.g. (benchmark, item id, sample index); unique within one generate call
    messages: list[dict[str, str]]
    seed: int
    text: str | None = None  # raw prompt (no chat template); `messages` is then ignored
    logprobs: bool = False  # per-token log-probabilities of the completion
    prompt_logprobs: bool = False  # per-token log-probabilities of the prompt

    def needs(self) -> set[Capability]:
        wanted: set[Capability] = {"raw_text" if self.text is not None else "chat"}
        if self.logprobs:
            wanted.add("logprobs")
        if self.prompt_logprobs:
            wanted.add("prompt_logprobs")
        return wanted


@dataclass(frozen=True)
class Completion:
    key: RequestKey
    text: str
    finish_reason: FinishReason
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float
    token_logprobs: tuple[float, ...] | None = None  # one per completion token
    # One per prompt token; the first is None (nothing precedes it).
    prompt_logprobs: tuple[float | None, ...] | None = None
    prompt_token_strings: tuple[str, ...] | None = None
    # Per prompt position, (mean, std) of log p over the whole vocabulary (Min-K%++); None where
    # the backend cannot compute it (servers and vLLM return only the top logprobs).
    prompt_logprob_moments: tuple[tuple[float, float] | None, ...] | None = None


class Backend(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # True: a sample does not depend on what it was batched with; False: it does (the generate
    # stage then cuts fixed units of `fixed_batch` requests); None: unknown (a server).
    batch_invariant: ClassVar[bool | None]

    def generate(self, requests: Sequence[Request], params: SamplingParams) -> Iterator[Completion]:
        """Yield completions as they finish (any order). Raise BackendError to stop; completions
        already yielded are kept by the caller."""
        ...

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        """What this backend actually sends for `params` (recorded in the manifest)."""
        ...

    def provenance(self) -> dict[str, Any]:
        """Model, tokenizer, chat template and engine facts for manifest.json."""
        ...

    def close(self) -> None: ...


def require_capabilities(backend: Backend, requests: Sequence[Request]) -> None:
    wanted: set[Capability] = set().union(*(r.needs() for r in requests)) if requests else set()
    missing = sorted(wanted - set(backend.capabilities))
    if missing:
        raise BackendError(f"the {backend.name} backend does not support {', '.join(missing)} "
                           f"(it supports: {', '.join(sorted(backend.capabilities))})")


def render_chat(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The model's own chat template, with the assistant turn opened (shared by HF and vLLM)."""
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def tokenizer_provenance(tokenizer: Any) -> dict[str, Any]:
    template = getattr(tokenizer, "chat_template", None)
    return {
        "tokenizer_class": type(tokenizer).__name__,
        "tokenizer_name": getattr(tokenizer, "name_or_path", None),
        "vocab_size": len(tokenizer),
        "chat_template_sha256": sha256_text(template if isinstance(template, str) else None),
        "eos_token": getattr(tokenizer, "eos_token", None),
    }
