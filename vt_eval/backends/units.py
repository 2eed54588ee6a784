"""Work units: the plan's requests cut into fixed, deterministic batches.

A seeded vLLM sample depends on what it was batched with (docs/vllm.md), so "regenerate only the
missing samples" cannot reproduce an uninterrupted run. Instead, a backend that is not
batch-invariant receives the plan in units of a fixed size, cut in plan order over *every* planned
request (done or not). A unit is one engine call. After a kill, a unit with some samples written
is generated again whole (same requests, same order, same engine state), and only its missing
samples are written; the regenerated copies of the written ones are compared, not written.

A batch-invariant backend (transformers, a server) gets one unit holding just the missing requests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from vt_eval.backends.base import Request, RequestKey
from vt_eval.util import sha256_text


@dataclass(frozen=True)
class WorkUnit:
    index: int  # position in the plan's cut; stable across sessions of an unchanged plan
    requests: tuple[Request, ...]
    done: frozenset[RequestKey]  # already in samples.jsonl: regenerated to keep the batch, not written

    @property
    def missing(self) -> int:
        return len(self.requests) - len(self.done)


def cut_units(requests: Sequence[Request], done: Collection[RequestKey],
              size: int | None) -> list[WorkUnit]:
    """`requests`: every planned request in plan order. `size` None: one unit of the missing ones."""
    done_set = frozenset(done)
    if size is None:
        todo = tuple(r for r in requests if r.key not in done_set)
        return [WorkUnit(0, todo, frozenset())] if todo else []
    units = []
    for index, start in enumerate(range(0, len(requests), size)):
        chunk = tuple(requests[start:start + size])
        written = frozenset(r.key for r in chunk if r.key in done_set)
        if len(written) < len(chunk):
            units.append(WorkUnit(index, chunk, written))
    return units


def plan_cut_sha256(requests: Sequence[Request], size: int | None) -> str:
    """Fingerprint of the cut (keys, seeds, order, unit size): equal across sessions iff every
    unit holds the same requests in the same order."""
    keys = "\n".join(f"{'/'.join(map(str, r.key))}:{r.seed}" for r in requests)
    return sha256_text(f"size={size}\n{keys}") or ""
