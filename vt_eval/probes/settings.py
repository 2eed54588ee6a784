"""The probes' settings and thresholds: data, not constants in code.

Read from the `[probe]` table of a TOML file (`vt-eval probe --config FILE`); every default is
documented here and in docs/probes.md.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from vt_eval.errors import ConfigError
from vt_eval.frozen import Frozen


Fraction = Annotated[float, Field(gt=0, lt=1)]


class ProbeSettings(Frozen):
    # Completion probe: the first `cut` fraction of each text's words is the prompt (raw text,
    # greedy); the model writes `continuation_tokens` tokens, compared with the true continuation.
    cuts: tuple[Fraction, ...] = Field((0.25, 0.5, 0.75), min_length=1)
    continuation_tokens: int = Field(32, gt=0)
    continuation_words: int = Field(20, gt=0)  # both continuations are compared over this many words
    ngram: int = Field(3, ge=1)  # word n-grams for the exact n-gram overlap
    answer_tokens: int = Field(16, gt=0)  # "answer without the question"
    # Likelihood probe: Min-K% Prob and Min-K%++ average the lowest k fraction of token scores.
    min_k: float = Field(0.2, gt=0, le=1)
    max_words: int = Field(160, gt=0)  # longer texts are cut (bounds cost; see docs/probes.md)
    perturbations: int = Field(2, ge=0)  # perturbed copies per kind (numbers, sentence order)
    # Statistics.
    seed: int = 0
    bootstrap: int = Field(2000, ge=100)
    permutations: int = Field(5000, ge=100)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    # A benchmark is flagged "stands out" on a statistic when the CI of (benchmark - controls)
    # lies entirely above this margin (in that statistic's units).
    margin_min_k: float = 0.25  # nats per token
    margin_min_k_pp: float = 0.1  # standard deviations
    margin_mean_logprob: float = 0.15  # nats per token
    margin_perturbation_gap: float = 0.05  # nats per token, original minus perturbed copies
    margin_prefix_match: float = 0.05  # share of continuation words reproduced verbatim
    margin_rouge_l: float = 0.05  # ROUGE-L F1
    margin_ngram: float = 0.05  # fraction of the continuation's n-grams reproduced
    margin_lcs: float = 0.05  # longest common substring / true continuation length
    margin_numbers_recalled: float = 0.05  # share of the continuation's numbers produced
    margin_answer_hits: float = 0.05  # fraction of items answered exactly without the question

    def margin(self, statistic: str) -> float:
        return float(getattr(self, f"margin_{statistic}"))  # every statistic has one


def load_probe_settings(path: Path | None) -> ProbeSettings:
    """The `[probe]` table of `path` (defaults when absent)."""
    if path is None:
        return ProbeSettings()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("probe", {})
        return ProbeSettings.model_validate(table)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"probe.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc
