"""Per-sample seeds, by versioned scheme. A run records the scheme's name; the function is here.

Never change a scheme in place: add a new name, so an old run's seeds can always be re-derived.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

SeedFn = Callable[[int, str, str, int], int]


def blake2b_31_v1(run_seed: int, benchmark: str, item_id: str, sample_index: int) -> int:
    """blake2b-8 of '{run_seed}/{benchmark}/{item_id}/{sample_index}', low 31 bits: independent of
    order, batch and resume history."""
    text = f"{run_seed}/{benchmark}/{item_id}/{sample_index}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") & 0x7FFFFFFF


SCHEMES: dict[str, SeedFn] = {"blake2b-31/v1": blake2b_31_v1}
CURRENT_SCHEME = "blake2b-31/v1"


def derive_seed(run_seed: int, benchmark: str, item_id: str, sample_index: int,
                scheme: str = CURRENT_SCHEME) -> int:
    return SCHEMES[scheme](run_seed, benchmark, item_id, sample_index)
