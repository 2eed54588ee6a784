"""Probe texts: one normal form, word-level cuts, numbers, sentences, the question sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?")
WORD = re.compile(r"\S+")
# A sentence ends at . ? ! followed by space and a capital, a $ or a digit (LaTeX-tolerant).
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z$\\(\d])")
QUESTION_START = re.compile(
    r"\b(Find|Compute|Determine|What|How many|How much|Which|Evaluate|Express|Show|Prove|Let us find)\b")


@dataclass(frozen=True)
class ProbeItem:
    """One text to probe: a benchmark problem (answer = gold) or any text (answer = "")."""

    benchmark: str
    id: str
    text: str
    answer: str = ""


def normalize(text: str) -> str:
    """Whitespace runs become one space: copies of a text differ in line wrapping, not words."""
    return " ".join(text.split())


def clip_words(text: str, max_words: int) -> str:
    words = text.split(" ")
    return text if len(words) <= max_words else " ".join(words[:max_words])


def cut(text: str, fraction: float) -> tuple[str, str]:
    """(prefix, true continuation) at a word boundary; the prefix has at least one word."""
    words = text.split(" ")
    at = min(len(words) - 1, max(1, round(len(words) * fraction)))
    return " ".join(words[:at]), " " + " ".join(words[at:])


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s]


def before_question(text: str) -> str | None:
    """The text up to (not including) its last sentence that asks something; None when the
    question cannot be told apart from the setting (one sentence, or no asking sentence)."""
    parts = sentences(text)
    for index in range(len(parts) - 1, 0, -1):
        if "?" in parts[index] or QUESTION_START.search(parts[index]):
            return " ".join(parts[:index])
    return None
