"""The benchmark-side index: items, their countable n-grams, and the hot-path hash table.

Built once per process from a list of `BenchItem` (benchmark, item id, text), so it serves any
card: math problems, GPQA questions with options, code problem statements.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vt_eval.decontam.hashing import ngram_hashes, token_arrays
from vt_eval.decontam.normalize import Tokens, prepare, tokenize, tokenize_with_offsets
from vt_eval.decontam.policy import NgramParams
from vt_eval.errors import ConfigError

_PREFILTER_BITS = 22


@dataclass(frozen=True)
class BenchItem:
    """One benchmark item to audit: `text` is what must not appear in training data."""

    benchmark: str
    item_id: str
    text: str


@dataclass(frozen=True)
class IndexedItem:
    item: BenchItem
    tokens: Tokens
    countable: dict[int, tuple[bool, ...]]  # n -> per n-gram position
    countable_total: dict[int, int]


def load_allowlist(paths: list[Path]) -> tuple[tuple[str, ...], ...]:
    """Allow-listed phrases (one a line, `#` comments), as canonical token tuples."""
    phrases: list[tuple[str, ...]] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"allow-list {path}: cannot read: {exc}") from exc
        for line in lines:
            if line.lstrip().startswith("#"):
                continue
            words = tuple(tokenize(line))
            if words:
                phrases.append(words)
    return tuple(sorted(set(phrases)))


def covered_positions(words: tuple[str, ...], phrases: tuple[tuple[str, ...], ...]) -> list[bool]:
    """True for every token inside an occurrence of an allow-listed phrase."""
    covered = [False] * len(words)
    by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for phrase in phrases:
        by_first[phrase[0]].append(phrase)
    for i, word in enumerate(words):
        for phrase in by_first.get(word, ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                covered[i:i + len(phrase)] = [True] * len(phrase)
    return covered


def ngrams(words: tuple[str, ...] | list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


class NgramIndex:
    """Countable n-grams of every item, for the exact evidence stage and the numpy hot path."""

    def __init__(self, items: list[BenchItem], params: NgramParams,
                 allow_phrases: tuple[tuple[str, ...], ...]) -> None:
        self.params = params
        self.sizes = tuple(sorted(set(params.sizes)))
        self.hot_n = self.sizes[0]
        token_lists = [tokenize_with_offsets(it.text) for it in items]
        self.boilerplate = {n: self._frequent_ngrams(token_lists, n) for n in self.sizes}
        self.items = [self._index_item(it, tk, allow_phrases) for it, tk in zip(items, token_lists)]
        self.postings: dict[int, dict[tuple[str, ...], list[tuple[int, int]]]] = {}
        for n in self.sizes:
            table: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
            for idx, indexed in enumerate(self.items):
                for pos, gram in enumerate(ngrams(indexed.tokens.words, n)):
                    table[gram].append((idx, pos))
            self.postings[n] = dict(table)
        self.hot_keys, self.any_keys = self._hot_keys()
        self._prefilter = np.zeros(1 << _PREFILTER_BITS, dtype=bool)
        self._prefilter[self._bucket(self.hot_keys)] = True

    def _frequent_ngrams(self, token_lists: list[Tokens], n: int) -> frozenset[tuple[str, ...]]:
        df: Counter[tuple[str, ...]] = Counter()
        for words in {tk.words for tk in token_lists}:  # identical items count once
            df.update(set(ngrams(words, n)))
        return frozenset(g for g, c in df.items() if c >= self.params.max_item_df)

    def _index_item(self, item: BenchItem, tokens: Tokens,
                    allow_phrases: tuple[tuple[str, ...], ...]) -> IndexedItem:
        covered = covered_positions(tokens.words, allow_phrases)
        countable: dict[int, tuple[bool, ...]] = {}
        for n in self.sizes:
            need = math.ceil(n * self.params.min_content_fraction)
            flags = []
            for pos, gram in enumerate(ngrams(tokens.words, n)):
                content = n - sum(covered[pos:pos + n])
                flags.append(content >= need and gram not in self.boilerplate[n])
            countable[n] = tuple(flags)
        return IndexedItem(item, tokens, countable, {n: sum(f) for n, f in countable.items()})

    def _hot_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Hot-path hashes: every smallest-n n-gram that is countable or lies inside a countable
        larger n-gram, so no countable hit at any n can be missed by the candidate filter. Also
        every smallest-n n-gram of any item: where an item n-gram of any size can begin."""
        keys: list[np.ndarray] = []
        every: list[np.ndarray] = [np.zeros(0, np.uint64)]
        self._positions_exact = True
        for indexed in self.items:
            buf = prepare(indexed.item.text).encode("utf-8")
            hashes = ngram_hashes(token_arrays(buf).hashes, self.hot_n)
            every.append(hashes)
            if len(hashes) != len(indexed.countable[self.hot_n]):  # tokenizers disagree: keep all
                keys.append(hashes)
                self._positions_exact = False
                continue
            wanted = np.array(indexed.countable[self.hot_n], dtype=bool)
            for n in self.sizes[1:]:
                for pos, ok in enumerate(indexed.countable[n]):
                    if ok:
                        wanted[pos:pos + n - self.hot_n + 1] = True
            keys.append(hashes[wanted])
        hot = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.uint64)  # once per index
        return hot, np.unique(np.concatenate(every))

    def item_starts(self, text: str, token_count: int) -> list[int] | None:
        """Token positions of `text` where some item n-gram (any size) can begin: its smallest-n
        n-gram is an item's (64-bit hashes; a collision only adds a position). None when the
        hashed tokens do not line up with the `token_count` exact tokens (then: every position)."""
        if not self._positions_exact:
            return None
        hashes = token_arrays(prepare(text).encode("utf-8")).hashes
        if len(hashes) != token_count:
            return None
        grams = ngram_hashes(hashes, self.hot_n)
        if len(grams) == 0 or len(self.any_keys) == 0:
            return []
        pos = np.searchsorted(self.any_keys, grams)
        pos[pos == len(self.any_keys)] = 0
        return np.flatnonzero(self.any_keys[pos] == grams).tolist()

    @staticmethod
    def _bucket(hashes: np.ndarray) -> np.ndarray:
        return (hashes >> np.uint64(64 - _PREFILTER_BITS)).astype(np.int64)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Boolean mask: which of `hashes` are hot keys (bit prefilter, then binary search)."""
        mask = self._prefilter[self._bucket(hashes)]
        if mask.any():
            cand = hashes[mask]
            pos = np.searchsorted(self.hot_keys, cand)
            pos[pos == len(self.hot_keys)] = 0
            mask[mask] = self.hot_keys[pos] == cand
        return mask

    def stats(self) -> dict[str, object]:
        return {
            "items": len(self.items),
            "hot_n": self.hot_n,
            "hot_keys": int(len(self.hot_keys)),
            "countable_ngrams": {str(n): sum(it.countable_total[n] for it in self.items)
                                 for n in self.sizes},
            "benchmark_boilerplate_ngrams": {str(n): len(self.boilerplate[n]) for n in self.sizes},
            "items_without_countable_ngrams": {
                str(n): sorted(f"{it.item.benchmark}/{it.item.item_id}" for it in self.items
                               if it.countable_total[n] == 0)
                for n in self.sizes},
        }
