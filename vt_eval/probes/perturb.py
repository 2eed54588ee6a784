"""Seeded perturbed copies of a text: its numbers changed, its sentences reordered.

A memorized text should lose likelihood when perturbed more than a text the model merely finds
typical: the copies keep the vocabulary and length but break the exact sequence. Each copy's
random stream is seeded by (seed, benchmark, item id, kind, copy), so copies never depend on the
order or the set of items probed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from vt_eval.probes.texts import NUMBER, ProbeItem, sentences

PERTURBATION_KINDS = ("numbers", "sentence_order")
MAX_DRAWS = 10


@dataclass(frozen=True)
class Perturbed:
    kind: str
    copy: int
    text: str


def _other_number(token: str, rng: random.Random) -> str:
    """A different number with the same shape (digit count, decimal point, no leading zero)."""
    for _ in range(20):
        digits = [rng.choice("123456789") if i == 0 and len(token) > 1 and token[0] != "0"
                  else rng.choice("0123456789") if ch.isdigit() else ch
                  for i, ch in enumerate(token)]
        if len(token) == 1:
            digits = [rng.choice("123456789")]
        candidate = "".join(digits)
        if candidate != token:
            return candidate
    return str(int(token.split(".")[0]) + 1)


def change_numbers(text: str, rng: random.Random) -> str | None:
    """Every number replaced by a different one; None when the text has no number."""
    if not NUMBER.search(text):
        return None
    return NUMBER.sub(lambda match: _other_number(match.group(0), rng), text)


def reorder_sentences(text: str, rng: random.Random) -> str | None:
    """The sentences in another order; None for a text of one sentence."""
    parts = sentences(text)
    if len(parts) < 2:
        return None
    order = list(range(len(parts)))
    while order == sorted(order):
        rng.shuffle(order)
    return " ".join(parts[i] for i in order)


PERTURBERS: dict[str, Callable[[str, random.Random], str | None]] = {
    "numbers": change_numbers, "sentence_order": reorder_sentences}


def perturbed_copies(item: ProbeItem, copies: int, seed: int) -> list[Perturbed]:
    """Up to `copies` copies of each kind (fewer when a kind cannot change the text)."""
    out: list[Perturbed] = []
    for kind in PERTURBATION_KINDS:
        seen = {item.text}
        for copy in range(copies):
            text = _new_copy(item, kind, copy, seed, seen)
            if text is not None:
                seen.add(text)
                out.append(Perturbed(kind, copy, text))
    return out


def _new_copy(item: ProbeItem, kind: str, copy: int, seed: int, seen: set[str]) -> str | None:
    """A copy unlike the text and the earlier copies (a few seeded draws), or None."""
    for attempt in range(MAX_DRAWS):
        rng = random.Random(f"{seed}:{item.benchmark}:{item.id}:{kind}:{copy}:{attempt}")
        text = PERTURBERS[kind](item.text, rng)
        if text is None:
            return None
        if text not in seen:
            return text
    return None
