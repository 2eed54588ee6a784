"""How much of a true continuation a generated one reproduces.

Verbatim prefix match (leading words reproduced exactly), exact n-gram overlap (fraction of the continuation's word n-grams found in the generation), the
longest common substring (characters, as a fraction of the continuation), ROUGE-L F1 from the
maintained `rouge-score` package (Google Research's reference implementation; its default
tokenizer keeps lower-cased alphanumerics) and the share of the continuation's numbers that the
generation contains.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import cache
from typing import Any

from vt_eval.probes.texts import numbers


def word_ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    words = text.lower().split()
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def ngram_overlap(reference: str, generated: str, n: int) -> float | None:
    """Fraction of the reference's word n-grams that occur in the generation (None: too short)."""
    wanted = word_ngrams(reference, n)
    if not wanted:
        return None
    found = set(word_ngrams(generated, n))
    return sum(gram in found for gram in wanted) / len(wanted)


def prefix_match(reference: str, generated: str) -> float:
    """Share of the reference's words that the generation reproduces verbatim from its start
    (extractable memorization: the model goes on exactly as the text does)."""
    wanted, got = reference.split(), generated.split()
    if not wanted:
        return 0.0
    same = 0
    for a, b in zip(wanted, got):
        if a != b:
            break
        same += 1
    return same / len(wanted)


def longest_common_substring(reference: str, generated: str) -> float:
    """Longest common character run as a fraction of the reference's length."""
    if not reference:
        return 0.0
    matcher = SequenceMatcher(None, reference, generated, autojunk=False)
    match = matcher.find_longest_match(0, len(reference), 0, len(generated))
    return match.size / len(reference)


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(reference: str, generated: str) -> float:
    return float(_rouge().score(reference, generated)["rougeL"].fmeasure)


def numbers_recalled(reference: str, generated: str) -> float | None:
    """Share of the reference's numbers that appear in the generation (None: it has none)."""
    wanted = numbers(reference)
    if not wanted:
        return None
    found = set(numbers(generated))
    return sum(number in found for number in wanted) / len(wanted)
