"""Exact evidence for candidate rows: shared countable n-grams, containment, longest matched span.

Works on canonical token strings (no hashes), so every reported number is exact. A long row is
scanned as overlapping windows; token and character positions are global to the row, and runs
that continue across a window boundary are merged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from vt_eval.decontam.ngram_index import IndexedItem, NgramIndex, ngrams
from vt_eval.decontam.normalize import Tokens


@dataclass(frozen=True)
class Run:
    """A maximal diagonal run of equal n-grams: item tokens [item_start, item_end), row tokens
    [row_start, row_end) (global), row characters [char_start, char_end) with their text."""

    item_start: int
    item_end: int
    row_start: int
    row_end: int
    char_start: int
    char_end: int
    text: str
    significant: bool

    @property
    def length(self) -> int:
        return self.item_end - self.item_start


@dataclass
class PairEvidence:
    """Accumulates, over the windows of one row, what it shares with one item."""

    matched: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    runs: list[Run] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    """A piece of a row's text: its tokens and where it starts in the row (tokens, characters)."""

    text: str
    tokens: Tokens
    token_offset: int = 0
    char_offset: int = 0


def _run_significant(item: IndexedItem, hot_n: int, first: int, last: int) -> bool:
    """Whether n-gram starts first..last (at hot_n) include a countable n-gram at any size."""
    for n, flags in item.countable.items():
        stop = last - (n - hot_n)
        if any(flags[p] for p in range(first, stop + 1)):
            return True
    return False


def runs_from_pairs(pairs: list[tuple[int, int]], n: int, window: Window,
                    item: IndexedItem | None, hot_n: int) -> list[Run]:
    """Group (item pos, row pos) n-gram matches into diagonal runs."""
    runs: list[Run] = []
    pairs = sorted(set(pairs), key=lambda p: (p[0] - p[1], p[0]))
    k = 0
    while k < len(pairs):
        first_i, first_j = pairs[k]
        last = k
        while (last + 1 < len(pairs) and pairs[last + 1][0] == pairs[last][0] + 1
               and pairs[last + 1][1] == pairs[last][1] + 1):
            last += 1
        last_i, last_j = pairs[last]
        start, end = window.tokens.span(first_j, last_j + n - 1)
        significant = True if item is None else _run_significant(item, hot_n, first_i, last_i)
        runs.append(Run(first_i, last_i + n, first_j + window.token_offset,
                        last_j + n + window.token_offset, start + window.char_offset,
                        end + window.char_offset, window.text[start:end], significant))
        k = last + 1
    return runs


def scan_window(index: NgramIndex, window: Window, acc: dict[int, PairEvidence],
                starts: list[int] | None = None) -> None:
    """Add one window's matches against every item to `acc` (item index -> evidence). `starts`:
    the only token positions where an item n-gram can begin (None: every position)."""
    words = window.tokens.words
    hot_pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for n in index.sizes:
        postings = index.postings[n]
        last = len(words) - n
        grams = (enumerate(ngrams(words, n)) if starts is None else
                 ((j, tuple(words[j:j + n])) for j in starts if j <= last))
        for j, gram in grams:
            for idx, pos in postings.get(gram, ()):
                if index.items[idx].countable[n][pos]:
                    acc.setdefault(idx, PairEvidence()).matched[n].add(pos)
                if n == index.hot_n:
                    hot_pairs[idx].append((pos, j))
    for idx, pairs in hot_pairs.items():
        if idx in acc:
            acc[idx].runs.extend(runs_from_pairs(pairs, index.hot_n, window, index.items[idx],
                                                 index.hot_n))


def merge_runs(runs: list[Run]) -> list[Run]:
    """Merge runs on the same diagonal that overlap (runs found in overlapping windows)."""
    ordered = sorted(runs, key=lambda r: (r.item_start - r.row_start, r.item_start))
    merged: list[Run] = []
    for run in ordered:
        prev = merged[-1] if merged else None
        same_diag = prev is not None and prev.item_start - prev.row_start == run.item_start - run.row_start
        if prev is not None and same_diag and run.item_start < prev.item_end:
            if run.item_end <= prev.item_end:
                merged[-1] = Run(prev.item_start, prev.item_end, prev.row_start, prev.row_end,
                                 prev.char_start, prev.char_end, prev.text,
                                 prev.significant or run.significant)
                continue
            tail = run.text[max(0, prev.char_end - run.char_start):]
            merged[-1] = Run(prev.item_start, run.item_end, prev.row_start, run.row_end,
                             prev.char_start, run.char_end, prev.text + tail,
                             prev.significant or run.significant)
        else:
            merged.append(run)
    return merged


def longest_run(runs: list[Run]) -> Run | None:
    """The longest significant run (ties: earliest in the item, then in the row)."""
    pool = [r for r in runs if r.significant] or runs
    if not pool:
        return None
    return min(pool, key=lambda r: (-r.length, r.item_start, r.row_start))


def span_record(item: IndexedItem, run: Run | None) -> dict[str, Any]:
    """The evidence fields of a match: spans as [start, end) character offsets."""
    if run is None:
        return {"longest_span_tokens": 0}
    start, end = item.tokens.span(run.item_start, run.item_end - 1)
    return {
        "longest_span_tokens": run.length,
        "item_span": [start, end],
        "item_text": item.item.text[start:end],
        "row_span": [run.char_start, run.char_end],
        "row_text": run.text,
    }


def ngram_stats(item: IndexedItem, evidence: PairEvidence, sizes: tuple[int, ...]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for n in sizes:
        shared = len(evidence.matched.get(n, ()))
        total = item.countable_total[n]
        stats[str(n)] = {"shared": shared, "countable": total,
                         "containment": round(shared / total, 6) if total else 0.0}
    return stats
