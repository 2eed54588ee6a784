"""The per-task function: stream one part of a training shard, find candidates on the numpy hot
path, and build exact evidence for them. The same function runs inline, in a process pool and
in Ray Data, so every engine produces the same records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import xxhash

from vt_eval.decontam.evidence import (PairEvidence, Window, longest_run, merge_runs, ngram_stats,
                                       runs_from_pairs, scan_window, span_record)
from vt_eval.decontam.hashing import ngram_hashes, token_arrays
from vt_eval.decontam.minhash import NearDupIndex
from vt_eval.decontam.ngram_index import BenchItem, NgramIndex, load_allowlist, ngrams
from vt_eval.decontam.normalize import Tokens, prepare, tokenize_with_offsets
from vt_eval.decontam.policy import Policy
from vt_eval.decontam.readers import (PieceEvent, RowEvent, ShardError, SkipEvent, Task,
                                      TextFieldError, iter_events)

MAX_SKIP_EXAMPLES = 20


@dataclass(frozen=True)
class ScanOptions:
    """`text_fields`: fields to audit (None: every string in the row). `batch_bytes`: text per
    numpy batch. `max_line_bytes`: longer lines are streamed in pieces of this size.
    `overlap_chars`: tail searched for the token overlap carried between pieces."""

    text_fields: tuple[str, ...] | None = None
    batch_bytes: int = 1 << 20
    max_line_bytes: int = 16 << 20
    overlap_chars: int = 4096


class ScanContext:
    """Everything a worker needs, built once per process from picklable inputs."""

    def __init__(self, items: list[BenchItem], policy: Policy, options: ScanOptions) -> None:
        self.items = items
        self.policy = policy
        self.options = options
        self.index = NgramIndex(items, policy.ngram, load_allowlist(policy.allowlist_paths()))
        self.neardup = NearDupIndex(items, policy.minhash) if policy.minhash.enabled else None
        self.max_n = max(self.index.sizes)
        # a one-token field can be passed over when no detector looks at fewer than two tokens
        self.skips_one_token = self.index.hot_n >= 2 and (self.neardup is None or policy.minhash.shingle >= 2)


@dataclass
class _Acc:
    """Mutable per-task tallies (turned into a frozen TaskResult at the end)."""

    rows: int = 0
    skips: Counter[str] = field(default_factory=Counter)
    skip_examples: list[str] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    candidate_rows: int = 0
    oversized_rows: int = 0
    minhash_signed: int = 0
    minhash_out_of_length: int = 0
    minhash_below_overlap: int = 0


@dataclass(frozen=True)
class TaskResult:
    task_index: int
    shard_index: int
    rows: int
    text_bytes: int
    skips: dict[str, int]
    skip_examples: tuple[str, ...]
    matches: tuple[dict[str, Any], ...]
    candidate_rows: int
    oversized_rows: int
    minhash_signed: int
    minhash_out_of_length: int
    minhash_below_overlap: int
    error: str | None = None
    field_error: bool = False


def row_hash(text: str) -> str:
    return xxhash.xxh3_64_hexdigest(text.encode("utf-8"))


def _field_of(segments: tuple[tuple[str, int, int], ...], span: list[int]) -> dict[str, Any]:
    for path, start, end in segments:
        if start <= span[0] <= end:
            return {"row_field": path, "row_field_span": [span[0] - start, min(span[1], end) - start]}
    return {}


def _ngram_records(ctx: ScanContext, acc: dict[int, PairEvidence], row: int, rhash: str,
                   segments: tuple[tuple[str, int, int], ...]) -> list[dict[str, Any]]:
    records = []
    for idx in sorted(acc):
        item = ctx.index.items[idx]
        stats = ngram_stats(item, acc[idx], ctx.index.sizes)
        hit_sizes = [n for n in sorted(ctx.index.sizes, reverse=True) if stats[str(n)]["shared"]]
        if not hit_sizes:
            continue
        n = hit_sizes[0]
        spans = span_record(item, longest_run(merge_runs(acc[idx].runs)))
        records.append({"benchmark": item.item.benchmark, "item_id": item.item.item_id, "row": row,
                        "row_hash": rhash, "method": "ngram", "n": n,
                        "shared": stats[str(n)]["shared"], "containment": stats[str(n)]["containment"],
                        "ngram": stats, **spans, **_field_of(segments, spans.get("row_span", [0, 0]))})
    return records


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy 2.3's hash-based np.unique is ~20x slower on uint64 keys."""
    if len(values) < 2:
        return values.copy()
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def prepared_buffer(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """The prepared UTF-8 bytes of `texts` joined by NUL (a separator for the tokenizer), and
    the byte offset each text starts at. One `prepare` and one encode for the whole batch."""
    joined = "\x00".join(texts)
    if joined.isascii() and "&" not in joined and joined.count("\x00") == len(texts) - 1:
        buf = joined.lower().encode("ascii")  # `prepare` of plain ASCII text
        starts = np.flatnonzero(np.frombuffer(buf, np.uint8) == 0) + 1
        return buf, np.concatenate([np.zeros(1, np.int64), starts])
    # some text needs the full normaliser (or holds a NUL itself): one by one
    pieces = [prepare(t).encode("utf-8") for t in texts]
    return b"\x00".join(pieces), np.cumsum([0] + [len(b) + 1 for b in pieces[:-1]])


def _hot_candidates(ctx: ScanContext, buf: bytes, starts: np.ndarray) -> tuple[np.ndarray, Any]:
    """Texts of a batch (starting at byte `starts` of `buf`) with any hot-key n-gram inside one
    text; also the token arrays. Texts are located only for the hits (few)."""
    arrays = token_arrays(buf)
    n = ctx.index.hot_n
    grams = ngram_hashes(arrays.hashes, n)
    if len(grams) == 0:
        return np.zeros(0, np.int64), arrays
    hits = np.flatnonzero(ctx.index.lookup(grams))
    first = np.searchsorted(starts, arrays.starts[hits], side="right") - 1
    last = np.searchsorted(starts, arrays.starts[hits + n - 1], side="right") - 1
    return sorted_unique(first[first == last]), arrays


def _text_of_tokens(starts: np.ndarray, arrays: Any) -> np.ndarray:
    """Index of the text (starting at byte `starts`) each token belongs to."""
    return np.searchsorted(starts, arrays.starts, side="right") - 1


class _Unit(NamedTuple):
    """One field (segment) of a row: the MinHash pass compares fields, not whole rows."""

    event: RowEvent
    path: str
    start: int
    end: int


def _minhash_batch(ctx: ScanContext, units: list[_Unit], arrays: Any, unit_of: np.ndarray,
                   tally: _Acc) -> None:
    """Sign and query the fields that can reach `min_jaccard` with some item. Two exact bounds on
    the shingle sets MinHash signs rule the others out: J(A, B) <= min(|A|,|B|) / max(|A|,|B|)
    (length), and J(A, B) <= |A & B| / |A| <= |A & U| / |A| with U every item's shingles
    (overlap). Most fields of clean data fail the overlap bound and are never signed."""
    neardup = ctx.neardup
    assert neardup is not None
    k = neardup.params.shingle
    grams = ngram_hashes(arrays.hashes, k)
    valid = unit_of[:len(grams)] == unit_of[k - 1:]
    keys = (unit_of[:len(grams)][valid].astype(np.uint64) << np.uint64(32)) | (grams[valid] & np.uint64(0xFFFFFFFF))
    keys = sorted_unique(keys)
    owner = (keys >> np.uint64(32)).astype(np.int64)
    hashes = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    counts = np.bincount(owner, minlength=len(units))
    in_length = (counts >= neardup.min_shingles) & (counts <= neardup.max_shingles)
    tally.minhash_out_of_length += int((~in_length).sum())
    shared = np.bincount(owner, weights=neardup.known(hashes), minlength=len(units))
    reach = in_length & (shared >= neardup.params.min_jaccard * counts - 1e-9)
    tally.minhash_below_overlap += int((in_length & ~reach).sum())
    chosen = np.flatnonzero(reach)
    if len(chosen) == 0:
        return
    picked = reach[owner]
    offsets = np.concatenate([[0], np.cumsum(counts[chosen])])
    sigs = neardup.signer.sign(hashes[picked], offsets, neardup.a, neardup.b)
    tally.minhash_signed += len(chosen)
    for sig, u in zip(sigs, chosen.tolist()):
        found = neardup.query(sig)
        if found:
            tally.matches.extend(_minhash_records(ctx, units[u], found, sig))


def _minhash_records(ctx: ScanContext, unit: _Unit, found: list[int],
                     sig: np.ndarray) -> list[dict[str, Any]]:
    neardup = ctx.neardup
    assert neardup is not None
    text = unit.event.text[unit.start:unit.end]
    tokens = tokenize_with_offsets(text)
    records = []
    for idx in found:
        jaccard, containment = neardup.verify(idx, tokens.words)
        if jaccard < neardup.params.min_jaccard:  # evidence is recorded at min_jaccard and above
            continue
        item = ctx.index.items[idx]
        spans = span_record(item, longest_run(_direct_runs(item.tokens, tokens, text, neardup.params.shingle)))
        field_info: dict[str, Any] = {}
        if "row_span" in spans:
            field_info = {"row_field": unit.path, "row_field_span": list(spans["row_span"])}
            spans["row_span"] = [unit.start + spans["row_span"][0], unit.start + spans["row_span"][1]]
        records.append({"benchmark": item.item.benchmark, "item_id": item.item.item_id,
                        "row": unit.event.row, "row_hash": row_hash(unit.event.text), "method": "minhash",
                        "n": neardup.params.shingle, "jaccard_estimate": round(neardup.estimate(idx, sig), 6),
                        "jaccard": round(jaccard, 6), "containment": round(containment, 6), **spans,
                        **field_info})
    return records


def _direct_runs(item_tokens: Tokens, row_tokens: Tokens, text: str, n: int) -> list[Any]:
    positions: dict[tuple[str, ...], list[int]] = {}
    for i, gram in enumerate(ngrams(item_tokens.words, n)):
        positions.setdefault(gram, []).append(i)
    pairs = [(i, j) for j, gram in enumerate(ngrams(row_tokens.words, n)) for i in positions.get(gram, ())]
    return runs_from_pairs(pairs, n, Window(text, row_tokens), None, n)


def _flush(ctx: ScanContext, batch: list[RowEvent], tally: _Acc) -> None:
    units: list[_Unit] = []
    texts: list[str] = []
    skip_short = ctx.skips_one_token
    for ev in batch:
        for path, start, end in ev.segments or (("", 0, len(ev.text)),):
            piece = ev.text[start:end]
            if not (skip_short and _one_token(piece)):
                units.append(_Unit(ev, path, start, end))
                texts.append(piece)
    if not units:
        return
    buf, starts = prepared_buffer(texts)
    candidates, arrays = _hot_candidates(ctx, buf, starts)
    rows = sorted({id(units[u].event): units[u].event for u in candidates.tolist()}.values(),
                  key=lambda ev: ev.row)
    tally.candidate_rows += len(rows)
    for event in rows:
        acc: dict[int, PairEvidence] = {}
        tokens = tokenize_with_offsets(event.text)
        scan_window(ctx.index, Window(event.text, tokens), acc,
                    ctx.index.item_starts(event.text, len(tokens)))
        tally.matches.extend(_ngram_records(ctx, acc, event.row, row_hash(event.text), event.segments))
    if ctx.neardup is not None:
        _minhash_batch(ctx, units, arrays, _text_of_tokens(starts, arrays), tally)


def _one_token(text: str) -> bool:
    """At most one token, told without tokenizing (an object key, a role): it holds no n-gram."""
    return text.isascii() and (text.isalpha() or text.isdigit() or not text)


@dataclass
class _LongRow:
    """State of an oversized row streamed in pieces."""

    row: int
    raw_bytes: int = 0
    carry: str = ""
    carry_char: int = 0
    token_offset: int = 0
    hasher: Any = field(default_factory=xxhash.xxh3_64)
    acc: dict[int, PairEvidence] = field(default_factory=dict)


def _scan_piece(ctx: ScanContext, state: _LongRow, piece: PieceEvent) -> None:
    state.hasher.update(piece.text.encode("utf-8"))
    text = state.carry + piece.text
    candidates, arrays = _hot_candidates(ctx, prepare(text).encode("utf-8"), np.zeros(1, np.int64))
    if len(candidates):
        window = Window(text, tokenize_with_offsets(text), state.token_offset, state.carry_char)
        scan_window(ctx.index, window, state.acc)
    keep = ctx.max_n - 1
    tail_start = max(0, len(text) - ctx.options.overlap_chars)
    tail = tokenize_with_offsets(text[tail_start:])
    if len(tail) >= keep:
        cut, carried = tail_start + tail.starts[len(tail) - keep], keep
    else:
        cut, carried = tail_start, len(tail)
    state.token_offset += len(arrays.hashes) - carried
    state.carry_char += cut
    state.carry = text[cut:]


def scan_task(task_index: int, task: Task, ctx: ScanContext) -> TaskResult:
    """Scan one task; never raises for bad data (the error is in the result)."""
    tally = _Acc()
    batch: list[RowEvent] = []
    batch_bytes = 0
    text_bytes = 0
    long_row: _LongRow | None = None
    error, field_error = None, False
    try:
        for event in iter_events(task, ctx.options.text_fields, ctx.options.max_line_bytes):
            tally.rows = event.row + 1
            if isinstance(event, SkipEvent):
                if long_row is not None and long_row.row == event.row:  # a long line went bad
                    text_bytes -= long_row.raw_bytes
                    long_row = None
                tally.skips[event.reason] += 1
                if len(tally.skip_examples) < MAX_SKIP_EXAMPLES:
                    tally.skip_examples.append(f"{event.row}\t{event.reason}\t{event.detail}")
                continue
            if isinstance(event, PieceEvent):
                text_bytes += len(event.raw)
                if long_row is None or long_row.row != event.row:
                    long_row = _LongRow(event.row)
                    tally.oversized_rows += 1
                long_row.raw_bytes += len(event.raw)
                _scan_piece(ctx, long_row, event)
                if event.last:
                    tally.minhash_out_of_length += int(ctx.neardup is not None)
                    tally.matches.extend(_ngram_records(ctx, long_row.acc, event.row,
                                                        long_row.hasher.hexdigest(), ()))
                    long_row = None
                continue
            batch.append(event)
            batch_bytes += len(event.text)
            text_bytes += len(event.text)
            if batch_bytes >= ctx.options.batch_bytes:
                _flush(ctx, batch, tally)
                batch, batch_bytes = [], 0
        _flush(ctx, batch, tally)
        if ctx.options.text_fields and tally.skips["missing_text_field"] and \
                tally.rows == sum(tally.skips.values()):
            raise TextFieldError(f"{task.shard.path}: text field(s) {list(ctx.options.text_fields)} "
                                 f"not found in any row; available: "
                                 f"{tally.skip_examples[0].split(chr(9))[2] if tally.skip_examples else '?'}")
    except TextFieldError as exc:
        error, field_error = str(exc), True
    except ShardError as exc:
        error = str(exc)
    return TaskResult(task_index, task.shard.index, tally.rows, text_bytes, dict(tally.skips),
                      tuple(tally.skip_examples), tuple(tally.matches), tally.candidate_rows,
                      tally.oversized_rows, tally.minhash_signed, tally.minhash_out_of_length,
                      tally.minhash_below_overlap,
                      error, field_error)
