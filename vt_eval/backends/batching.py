"""Continuous batching over a Hugging Face KV cache: the transformers backend's generation loop.

Rows are admitted in the order given (the backend sorts by prompt length, then prompt, so the k
samples of one prompt are neighbours). Each distinct prompt is prefilled alone, with no padding,
once: its cache is copied to every row sharing it (same-prompt neighbours reuse the last prefill).
Rows then decode together, left-padded to a common cache length. A row that ends (EOS or
max_tokens) leaves the batch at once and is handed back, and a pending row is admitted in its
place at the next step (refilling, not just removing: with removal only, the batch shrinks to its
longest row, and on a CPU a step of 1 row costs ~60% of a step of 8, so the tail would run at
near-serial speed). Cache columns that are padding for every remaining row are cut off.

Only plain full-attention KV layers (`DynamicLayer`) can be merged; other caches (sliding window,
linear attention, quantized) need `[transformers] batch_size = 1`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from vt_eval.backends.base import Request
from vt_eval.backends.sampling import PromptStats, RowSampler, chosen_logprobs, prompt_stats
from vt_eval.errors import BackendError


@dataclass
class Row:
    request: Request
    prompt_ids: list[int]
    generator: torch.Generator | None
    started: float = 0.0
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    prompt: PromptStats | None = None
    finish_reason: str = ""


@dataclass
class _Prefill:
    ids: tuple[int, ...]
    layers: list[tuple[torch.Tensor, torch.Tensor]]  # per layer (keys, values), batch of 1
    last_logits: torch.Tensor  # (vocab,) float32
    stats: PromptStats | None


@dataclass
class _Active:
    rows: list[Row]
    cache: Any  # transformers DynamicCache
    mask: torch.Tensor  # (rows, cache length) 1 = real token, 0 = left padding


class BatchedGenerator:
    def __init__(self, model: Any, sampler: RowSampler, eos_ids: set[int], batch_size: int,
                 max_tokens: int) -> None:
        self.model = model
        self.sampler = sampler
        self.eos_ids = eos_ids
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.device = model.device
        self._last: _Prefill | None = None

    def run(self, rows: list[Row]) -> Iterator[Row]:
        """Yield each row as it finishes (tokens, finish_reason and statistics filled in)."""
        pending = deque(rows)
        active: _Active | None = None
        while pending or active is not None:
            size = len(active.rows) if active else 0
            if pending and size < self.batch_size:
                admitted = [pending.popleft() for _ in range(min(self.batch_size - size, len(pending)))]
                active = yield from self._admit(active, admitted)
            if active is not None:
                active = yield from self._step(active)
        self._last = None

    # -- admission -------------------------------------------------------------------------

    def _admit(self, active: _Active | None, rows: list[Row]) -> Generator[Row, None, _Active | None]:
        """Prefill `rows`, sample their first token, merge the unfinished into `active`."""
        joined: list[tuple[Row, _Prefill]] = []
        for row in rows:
            row.started = time.perf_counter()
            with torch.inference_mode():  # never held across a yield: the caller runs in between
                prefill = self._prefill(row)
                row.prompt = prefill.stats if row.request.prompt_logprobs else None
                self._choose([row], prefill.last_logits[None, :])
            if row.finish_reason:
                yield row
            else:
                joined.append((row, prefill))
        with torch.inference_mode():
            return merge(active, joined) if joined else _drop_empty(active)

    def _prefill(self, row: Row) -> _Prefill:
        ids = tuple(row.prompt_ids)
        want_stats = row.request.prompt_logprobs
        last = self._last
        if last is not None and last.ids == ids and (last.stats is not None or not want_stats):
            return last
        input_ids = torch.tensor([row.prompt_ids], device=self.device)
        out = self.model(input_ids=input_ids, use_cache=True, logits_to_keep=0 if want_stats else 1)
        logits = out.logits[0]
        stats = prompt_stats(logits, row.prompt_ids) if want_stats else None
        self._last = _Prefill(ids, cache_layers(out.past_key_values), logits[-1].float(), stats)
        return self._last

    # -- decoding ----------------------------------------------------------------------------

    def _step(self, active: _Active) -> Generator[Row, None, _Active | None]:
        """One decoding step for every active row; finished rows are yielded and dropped."""
        rows = active.rows
        with torch.inference_mode():
            self._decode(active)
            keep = [i for i, row in enumerate(rows) if not row.finish_reason]
            if keep and len(keep) < len(rows):
                select_rows(active, keep)
        for row in rows:
            if row.finish_reason:
                yield row
        return active if keep else None

    def _decode(self, active: _Active) -> None:
        last = torch.tensor([[row.tokens[-1]] for row in active.rows], device=self.device)
        positions = active.mask.sum(dim=1, keepdim=True)  # real tokens so far = next position
        active.mask = torch.cat([active.mask, torch.ones_like(last)], dim=1)
        out = self.model(input_ids=last, attention_mask=active.mask, position_ids=positions,
                         past_key_values=active.cache, use_cache=True, logits_to_keep=1)
        self._choose(active.rows, out.logits[:, -1].float())

    def _choose(self, rows: list[Row], logits: torch.Tensor) -> None:
        """Sample each row's next token from `logits` (rows, vocab) and note whether it ended."""
        tokens = self.sampler.choose(logits, [row.generator for row in rows])
        wanted = [i for i, row in enumerate(rows) if row.request.logprobs]
        if wanted:
            values = chosen_logprobs(logits[wanted], [tokens[i] for i in wanted])
            for i, value in zip(wanted, values, strict=True):
                rows[i].logprobs.append(value)
        for row, token in zip(rows, tokens, strict=True):
            row.tokens.append(token)
            if token in self.eos_ids:
                row.finish_reason = "stop"
            elif len(row.tokens) >= self.max_tokens:
                row.finish_reason = "length"


# -- KV cache surgery ------------------------------------------------------------------------

def cache_layers(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    if layers is None or any(type(layer) is not DynamicLayer for layer in layers):
        kinds = sorted({type(layer).__name__ for layer in layers or []}) or [type(cache).__name__]
        raise BackendError(f"batched generation needs a plain full-attention KV cache, this model "
                           f"uses {', '.join(kinds)}; set [transformers] batch_size = 1")
    return [(layer.keys, layer.values) for layer in layers]


def _left_pad(tensor: torch.Tensor, length: int) -> torch.Tensor:
    """Pad dim 2 (sequence) of a (batch, heads, seq, dim) tensor with zeros on the left."""
    missing = length - tensor.shape[2]
    if missing == 0:
        return tensor
    return torch.nn.functional.pad(tensor, (0, 0, missing, 0))


def merge(active: _Active | None, joined: list[tuple[Row, _Prefill]]) -> _Active:
    """One batch from the running rows and newly prefilled ones, all left-padded to one length."""
    from transformers import DynamicCache

    parts: list[tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]] = []
    if active is not None:
        parts.append((cache_layers(active.cache), active.mask))
    for _, prefill in joined:
        length = len(prefill.ids)
        parts.append((prefill.layers, torch.ones((1, length), dtype=torch.long,
                                                 device=prefill.last_logits.device)))
    width = max(mask.shape[1] for _, mask in parts)
    masks = torch.cat([torch.nn.functional.pad(mask, (width - mask.shape[1], 0)) for _, mask in parts])
    cache = DynamicCache()
    for index in range(len(parts[0][0])):
        keys = torch.cat([_left_pad(layers[index][0], width) for layers, _ in parts])
        values = torch.cat([_left_pad(layers[index][1], width) for layers, _ in parts])
        cache.update(keys, values, index)
    rows = (active.rows if active is not None else []) + [row for row, _ in joined]
    return _Active(rows, cache, masks)


def select_rows(active: _Active, keep: list[int]) -> None:
    """Keep only rows `keep`, then cut the columns that are padding for every remaining row."""
    index = torch.tensor(keep, device=active.mask.device)
    active.rows = [active.rows[i] for i in keep]
    active.mask = active.mask[index]
    first_real = int(active.mask.any(dim=0).long().argmax())
    active.mask = active.mask[:, first_real:]
    for layer in active.cache.layers:
        layer.keys = layer.keys[index, :, first_real:]
        layer.values = layer.values[index, :, first_real:]


def _drop_empty(active: _Active | None) -> _Active | None:
    return active if active is not None and active.rows else None
