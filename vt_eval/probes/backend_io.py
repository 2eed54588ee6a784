"""Running probe requests through any backend: capability check first, greedy, keyed results."""

from __future__ import annotations

from collections.abc import Sequence

from vt_eval.backends.base import Backend, Completion, Request, SamplingParams, require_capabilities
from vt_eval.errors import BackendError


def greedy(max_tokens: int) -> SamplingParams:
    return SamplingParams(temperature=0.0, top_p=1.0, top_k=-1, max_tokens=max_tokens, seed=0)


def check(backend: Backend, requests: Sequence[Request]) -> None:
    """A clear error naming the missing capability, before any call."""
    if getattr(backend, "capabilities", None) is None:
        wanted = sorted(set().union(*(r.needs() for r in requests)))
        raise BackendError(f"the {getattr(backend, 'name', type(backend).__name__)} backend "
                           f"declares no capabilities; the probes need {', '.join(wanted)}")
    require_capabilities(backend, requests)


def run(backend: Backend, requests: Sequence[Request], max_tokens: int
        ) -> dict[tuple[str, str, int], Completion]:
    check(backend, requests)
    done = {c.key: c for c in backend.generate(requests, greedy(max_tokens))}
    missing = [r.key for r in requests if r.key not in done]
    if missing:
        raise BackendError(f"the {backend.name} backend returned no completion for {missing[:3]}")
    return done
