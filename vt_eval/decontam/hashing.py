"""Vectorised 64-bit token and n-gram hashing over numpy byte arrays (the hot path).

Implements the tokenizer of `normalize` on the UTF-8 bytes of `normalize.prepare(text)`: a byte
class table (letter / digit / separator; every byte >= 0x80 is a letter byte because `prepare`
already turned non-word non-ASCII characters into spaces), run boundaries, and LaTeX control words
(a letter run right after a backslash) dropped.

Token hash: the token's bytes read 8 at a time straight from the buffer (an unaligned 64-bit view;
bytes past the token's end masked off), chained through the splitmix64 finaliser with the token's
length: work per token, not per byte. A token longer than 64 bytes (rare: URLs, base64) is hashed
instead by a polynomial over its bytes modulo 2^64 (prefix sums and the modular inverse of the
base). N-gram hash: sum of token hashes times fixed odd constants, finalised again. Calling a
hash function per token from Python caps throughput near 10 MB/s; this runs at numpy speed. The
exact evidence stage re-checks every hit on the token strings, so a 64-bit collision can never
become a reported match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BASE = np.uint64(0x100000001B3)  # odd, so invertible modulo 2^64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LEN_MIX = np.uint64(0x9E3779B97F4A7C15)
# odd per-position weights for combining token hashes into an n-gram hash (fixed: results depend on them)
_NGRAM_WEIGHTS = tuple(np.uint64((0x9E3779B97F4A7C15 * (2 * k + 1) + 0x632BE59BD9B4E019) % (1 << 64) | 1)
                       for k in range(64))

SEP, LETTER, DIGIT = 0, 1, 2
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord("a"):ord("z") + 1] = LETTER
_CLASS[ord("0"):ord("9") + 1] = DIGIT
_CLASS[0x80:] = LETTER
_BACKSLASH = ord("\\")
_SUMMED = 4  # n-grams up to this n are hashed as a weighted sum, longer ones by prefix sums
_CHUNKED = 64  # tokens up to this many bytes are hashed 8 bytes at a time, longer ones by prefix sums
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_LONG_TAG = np.uint64(0xD6E8FEB86659FD93)

_pow_cache: dict[str, np.ndarray] = {"pow": np.ones(1, np.uint64), "inv": np.ones(1, np.uint64)}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE^i and BASE^-i for i < n (cached, grown by doubling)."""
    if len(_pow_cache["pow"]) < n:
        size = max(n, 2 * len(_pow_cache["pow"]))
        with np.errstate(over="ignore"):
            for key, base in (("pow", _BASE), ("inv", _BASE_INV)):
                arr = np.empty(size, np.uint64)
                arr[0] = 1
                arr[1:] = np.cumprod(np.full(size - 1, base, np.uint64))
                _pow_cache[key] = arr
    return _pow_cache["pow"][:n], _pow_cache["inv"][:n]


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (element-wise, wrapping; two temporaries, the rest in place)."""
    y = np.right_shift(x, np.uint64(30))
    z = np.empty_like(y)
    with np.errstate(over="ignore"):
        np.bitwise_xor(y, x, out=y)
        np.multiply(y, _MIX1, out=y)
        np.right_shift(y, np.uint64(27), out=z)
        np.bitwise_xor(y, z, out=y)
        np.multiply(y, _MIX2, out=y)
        np.right_shift(y, np.uint64(31), out=z)
        np.bitwise_xor(y, z, out=y)
    return y


@dataclass(frozen=True)
class TokenArrays:
    """Tokens of a byte buffer: hash and [start, end) byte offsets per token."""

    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def _classes(raw: np.ndarray) -> np.ndarray:
    """LETTER / DIGIT / SEP per byte (the table `_CLASS`, computed with comparisons: faster)."""
    with np.errstate(over="ignore"):
        letter = ((raw - np.uint8(97)) <= np.uint8(25)) | (raw >= np.uint8(0x80))
        digit = (raw - np.uint8(48)) <= np.uint8(9)
    return letter.view(np.uint8) | (digit.view(np.uint8) << np.uint8(1))


def _boundaries(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) byte offsets of the tokens: maximal letter or digit runs, LaTeX control words
    (a letter run right after a backslash) left out."""
    cls = _classes(raw)
    edge = np.empty(raw.size + 1, dtype=bool)
    edge[0] = edge[-1] = True
    np.not_equal(cls[1:], cls[:-1], out=edge[1:-1])
    word = cls != SEP
    starts = np.flatnonzero(edge[:-1] & word)
    ends = np.flatnonzero(edge[1:] & word) + 1
    after_backslash = starts[raw[np.maximum(starts - 1, 0)] == _BACKSLASH]
    if after_backslash.size:
        control = np.zeros(raw.size, dtype=bool)
        control[after_backslash[(cls[after_backslash] == LETTER) & (after_backslash > 0)]] = True
        keep = ~control[starts]
        starts, ends = starts[keep], ends[keep]
    return starts, ends


def _chunk_hashes(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Hash of each token of at most _CHUNKED bytes from its bytes read 8 at a time: per token,
    not per byte (the bytes past a token's end are masked off)."""
    padded = np.zeros(raw.size + 8, np.uint8)
    padded[:raw.size] = raw
    words = np.ndarray((raw.size,), dtype="<u8", buffer=padded, strides=(1,))  # 8 bytes at any offset
    with np.errstate(over="ignore"):
        acc = (lengths.astype(np.uint64) * _LEN_MIX) ^ (words[starts] & _MASKS[np.minimum(lengths, 8)])
        todo = np.flatnonzero(lengths > 8)
        for k in range(1, _CHUNKED // 8):
            if todo.size == 0:
                break
            left = lengths[todo] - 8 * k
            chunk = words[starts[todo] + 8 * k] & _MASKS[np.minimum(left, 8)]
            acc[todo] = mix64(acc[todo]) ^ chunk
            todo = todo[left > 8]
    return mix64(acc)


def _polynomial_hashes(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of tokens longer than _CHUNKED bytes: a polynomial over the bytes (prefix sums)."""
    pw, inv = _powers(raw.size)
    with np.errstate(over="ignore"):
        prefix = np.zeros(raw.size + 1, np.uint64)
        np.cumsum(raw.astype(np.uint64) * pw, out=prefix[1:])
        token = (prefix[ends] - prefix[starts]) * inv[starts]
        token += (ends - starts).astype(np.uint64) * _LEN_MIX
    return mix64(token ^ _LONG_TAG)


def token_arrays(buf: bytes) -> TokenArrays:
    """Tokenise and hash a prepared UTF-8 buffer (see module doc)."""
    raw = np.frombuffer(buf, dtype=np.uint8)
    if raw.size == 0:
        empty = np.zeros(0, np.int64)
        return TokenArrays(np.zeros(0, np.uint64), empty, empty)
    starts, ends = _boundaries(raw)
    lengths = ends - starts
    long = lengths > _CHUNKED
    if not long.any():
        return TokenArrays(_chunk_hashes(raw, starts, lengths), starts, ends)
    hashes = np.empty(len(starts), np.uint64)
    hashes[~long] = _chunk_hashes(raw, starts[~long], lengths[~long])
    hashes[long] = _polynomial_hashes(raw, starts[long], ends[long])
    return TokenArrays(hashes, starts, ends)


def ngram_hashes(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hash of every n-gram window (len = tokens - n + 1, or 0). Short n: a weighted sum of the n
    token hashes; longer n: the same polynomial by prefix sums (a fixed number of passes)."""
    count = token_hashes.size - n + 1
    if count <= 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        if n <= _SUMMED:
            acc = token_hashes[:count] * _NGRAM_WEIGHTS[0]
            for k in range(1, n):
                acc += token_hashes[k:k + count] * _NGRAM_WEIGHTS[k]
        else:
            pw, inv = _powers(token_hashes.size)
            prefix = np.empty(token_hashes.size + 1, np.uint64)
            prefix[0] = 0
            np.multiply(token_hashes, pw, out=prefix[1:])
            np.cumsum(prefix[1:], out=prefix[1:])
            acc = np.subtract(prefix[n:], prefix[:count])
            np.multiply(acc, inv[:count], out=acc)
    return mix64(acc)


def token_strings(buf: bytes, arrays: TokenArrays) -> list[str]:
    """The tokens as strings (tests compare them with `normalize.tokenize`)."""
    return [buf[s:e].decode("utf-8") for s, e in zip(arrays.starts.tolist(), arrays.ends.tolist())]
