"""The typed records that are both the run directory's file schema and the report's input."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from vt_eval.frozen import Frozen

FinishReason = Literal["stop", "length", "unknown"]

Verdict = Literal[
    "correct",         # the grader settled it: equivalent to the gold
    "incorrect",       # the grader settled it: not equivalent
    "no_answer",       # no final answer could be extracted after the reasoning
    "truncated",       # generation hit max tokens (finish_reason == "length")
    "needs_judge",     # rules cannot settle it (prose answers...): counted apart
    "grader_timeout",  # the grader ran out of time on this sample
    "grader_error",    # the grader failed (bad gold, crash): never silently wrong
    "judge_error",     # the LLM judge gave no parsable verdict (or died): counted apart, never wrong
]
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> tuple[str, int]:
    """`text` with every lone surrogate replaced by U+FFFD, and how many there were."""
    return _SURROGATE.subn("\ufffd", text)


GOLD_CLUSTER = "\u2713gold"  # every correct answer is equivalent to the gold, hence one cluster
VERDICTS: tuple[Verdict, ...] = ("correct", "incorrect", "no_answer", "truncated", "needs_judge",
                                 "grader_timeout", "grader_error", "judge_error")


class Sample(Frozen):
    """One generated response: a line of samples.jsonl."""

    benchmark: str
    item_id: str
    sample_index: int
    seed: int
    messages: list[dict[str, str]]
    # Per-sample prompt facts a grader needs to re-grade (e.g. GPQA's option permutation).
    prompt_extra: dict[str, Any] = Field(default_factory=dict)
    response: str
    finish_reason: FinishReason
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    created_at: str
    # Lone UTF-16 surrogates (servers do emit them) cannot be stored as UTF-8: each is replaced
    # by U+FFFD on the way in and counted here, so the text is flagged, never silently changed.
    replaced_surrogates: int = 0

    @model_validator(mode="before")
    @classmethod
    def _replace_surrogates(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("response"), str):
            text, count = replace_surrogates(data["response"])
            if count:
                data = {**data, "response": text,
                        "replaced_surrogates": int(data.get("replaced_surrogates", 0)) + count}
        return data

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.benchmark, self.item_id, self.sample_index)


class Score(Frozen):
    """One grading verdict: a line of scores.jsonl. Carries the why, so a report can show it."""

    benchmark: str
    item_id: str
    sample_index: int
    verdict: Verdict
    extracted: str | None
    gold: str
    explanation: str
    grader: str  # name/version, e.g. "math/1"
    details: dict[str, Any] = Field(default_factory=dict)

    # "Same answer" by the benchmark's own equivalence (maj@k and CLR vote over these); every
    # correct answer shares GOLD_CLUSTER; None = no answer to vote for.
    cluster: str | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.benchmark, self.item_id, self.sample_index)
