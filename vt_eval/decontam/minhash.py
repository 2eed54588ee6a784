"""MinHash LSH near-duplicate pass on datasketch (pinned scheme, permutations, shingles).

Signatures are computed for a whole batch of rows at once with numpy, bit-identical to
`datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=<identity>).update_batch(h)` on the
same 32-bit shingle hashes (asserted in the tests); the index and the query are datasketch's
`MinHashLSH`. Every LSH candidate is verified with the exact Jaccard of the two shingle sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from vt_eval.decontam.hashing import ngram_hashes, token_arrays
from vt_eval.decontam.ngram_index import BenchItem, ngrams
from vt_eval.decontam.normalize import prepare, tokenize
from vt_eval.decontam.policy import MinhashParams

SCHEME = "affine32"
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_PRESENT_BITS = 22
_MAX_CELLS = 1 << 22  # shingles x permutations computed at once (16 MB of uint32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def shingle_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """32-bit shingle hashes: low half of the 64-bit k-gram hash."""
    return (ngram_hashes(token_hashes, k) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def text_shingle_hashes(text: str, k: int) -> np.ndarray:
    return shingle_hashes(token_arrays(prepare(text).encode("utf-8")).hashes, k)


@dataclass(frozen=True)
class Signer:
    """MinHash signatures for many rows at once (same permutations as datasketch)."""

    num_perm: int
    seed: int

    def permutations(self) -> tuple[np.ndarray, np.ndarray]:
        a, b = MinHash(num_perm=self.num_perm, seed=self.seed, scheme=SCHEME).permutations
        return a.astype(np.uint32), b.astype(np.uint32)

    def sign(self, hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Signature per row: rows are hashes[offsets[r]:offsets[r+1]] (each non-empty)."""
        rows = len(offsets) - 1
        out = np.empty((rows, self.num_perm), np.uint32)
        step = max(1, _MAX_CELLS // self.num_perm)
        r = 0
        mixed = _fmix32(hashes.astype(np.uint32))
        while r < rows:
            r_end = r + 1
            while r_end < rows and offsets[r_end + 1] - offsets[r] <= step:
                r_end += 1
            lo, hi = offsets[r], offsets[r_end]
            with np.errstate(over="ignore"):
                phv = mixed[lo:hi, None] * a[None, :] + b[None, :]
            out[r:r_end] = np.minimum.reduceat(phv, offsets[r:r_end] - lo, axis=0)
            r = r_end
        return out


class NearDupIndex:
    """datasketch LSH over the benchmark items, plus their exact shingle sets for verification."""

    def __init__(self, items: list[BenchItem], params: MinhashParams) -> None:
        self.params = params
        self.signer = Signer(params.num_perm, params.seed)
        self.a, self.b = self.signer.permutations()
        self.lsh = MinHashLSH(threshold=params.lsh_threshold, num_perm=params.num_perm)
        self.shingle_sets: list[frozenset[tuple[str, ...]]] = []
        self.signatures: dict[int, np.ndarray] = {}
        sizes: list[int] = []
        every: list[np.ndarray] = []
        for idx, item in enumerate(items):
            words = tokenize(item.text)
            shingles = frozenset(ngrams(words, params.shingle))
            self.shingle_sets.append(shingles)
            hashes = text_shingle_hashes(item.text, params.shingle)
            if len(hashes) == 0:
                continue
            every.append(hashes)
            sig = self.signer.sign(hashes, np.array([0, len(hashes)]), self.a, self.b)[0]
            self.signatures[idx] = sig
            self.lsh.insert(str(idx), self._minhash(sig))
            sizes.append(len(shingles))
        # Exact bound: J(A, B) <= min(|A|,|B|) / max(|A|,|B|), so rows outside these shingle
        # counts can never reach min_jaccard against any item and are not signed.
        self.min_shingles = int(np.ceil(min(sizes) * params.min_jaccard)) if sizes else 1
        self.max_shingles = int(max(sizes) / params.min_jaccard) if sizes else 0
        # every item's 32-bit shingle hashes, sorted, with a bit table on their top bits
        self.item_hashes = np.unique(np.concatenate(every)) if every else np.zeros(0, np.uint32)
        self._present = np.zeros(1 << _PRESENT_BITS, dtype=bool)
        self._present[self.item_hashes >> np.uint32(32 - _PRESENT_BITS)] = True

    def known(self, hashes: np.ndarray) -> np.ndarray:
        """1.0 where a 32-bit shingle hash is some item's shingle hash, else 0.0 (for bincount)."""
        mask = self._present[hashes >> np.uint32(32 - _PRESENT_BITS)]
        if mask.any():
            cand = hashes[mask]
            pos = np.searchsorted(self.item_hashes, cand)
            pos[pos == len(self.item_hashes)] = 0
            mask[mask] = self.item_hashes[pos] == cand
        return mask.astype(np.float64)

    def _minhash(self, signature: np.ndarray) -> MinHash:
        return MinHash(num_perm=self.params.num_perm, seed=self.params.seed, scheme=SCHEME,
                       hashvalues=signature, permutations=(self.a, self.b))

    def query(self, signature: np.ndarray) -> list[int]:
        return sorted(int(k) for k in self.lsh.query(self._minhash(signature)))

    def verify(self, idx: int, row_words: tuple[str, ...]) -> tuple[float, float]:
        """Exact (Jaccard, containment of the item's shingles) of a row against item `idx`."""
        item = self.shingle_sets[idx]
        row = set(ngrams(row_words, self.params.shingle))
        inter = len(item & row)
        union = len(item | row)
        return (inter / union if union else 0.0), (inter / len(item) if item else 0.0)

    def estimate(self, idx: int, signature: np.ndarray) -> float:
        """MinHash Jaccard estimate between item `idx` and a row signature."""
        return float(np.mean(self.signatures[idx] == signature))
