"""CLR's arithmetic, pure: reliabilities, seeded draws, the cluster choice, one problem's R runs.

r_k = (sum of verdicts / M) ** M (SPEC.md section 3, eq. 5). A missing claim (the extraction gave
fewer than M) counts as unverified under missing="zero" (the formula's fixed 1/M, the default),
or the mean runs over the claims there are under missing="skip"; no claim at all gives r = 0
either way. An unparsable or truncated verdict is None here and counts as 0 (not confirmed).

The choice: among the drawn trajectories that have an answer cluster, the cluster with the largest
summed reliability wins; ties (equal within 1e-9, relative) go to the larger cluster, then to a
uniform draw from the repetition's own seeded generator. When every answered trajectory has
r = 0 the choice is plain majority vote (the same rule as maj@K: most votes, ties to the lowest
sample index), counted.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vt_eval.metrics import majority_answer
from vt_eval.records import GOLD_CLUSTER

MissingClaims = Literal["zero", "skip"]
TIE_TOLERANCE = 1e-9  # summed reliabilities this close (relative) are a tie (float sums)


def reliability(verdicts: Sequence[int | None], m: int, missing: MissingClaims = "zero") -> float:
    """(mean verdict) ** M over M claim slots ("zero") or over the claims given ("skip")."""
    if not verdicts:
        return 0.0
    confirmed = sum(1 for v in verdicts[:m] if v == 1)
    slots = m if missing == "zero" else min(len(verdicts), m)
    return float((confirmed / slots) ** m)


def problem_rng(run_seed: int, repetition: int, benchmark: str, item_id: str
                ) -> np.random.Generator:
    """The generator of one repetition of one problem: seeded by the run seed, the repetition and
    a hash of the problem (so adding or removing problems never shifts another's draws)."""
    digest = hashlib.blake2b(f"{benchmark}/{item_id}".encode(), digest_size=8).digest()
    return np.random.default_rng([run_seed & 0xFFFFFFFFFFFFFFFF, repetition,
                                  int.from_bytes(digest, "big")])


def draw_order(pool: int, rng: np.random.Generator) -> tuple[int, ...]:
    """A seeded permutation of the pool positions; a repetition's K are its first K."""
    return tuple(int(i) for i in rng.permutation(pool))


@dataclass(frozen=True)
class Trajectory:
    """One sample as CLR sees it: its vote, whether that vote is right, its reliability, costs."""

    index: int  # sample_index
    cluster: str | None
    answer: str | None = None  # the grader's extracted answer (shown for the cluster)
    reliability: float = 0.0
    generation_tokens: int = 0
    clr_prompt_tokens: int = 0
    clr_completion_tokens: int = 0
    calls: int = 0

    @property
    def correct(self) -> bool:
        return self.cluster == GOLD_CLUSTER


@dataclass(frozen=True)
class ClusterVote:
    count: int
    reliability: float
    answer: str | None


@dataclass(frozen=True)
class Choice:
    """One repetition of one problem."""

    drawn: tuple[int, ...]  # sample indices, ascending
    clusters: dict[str, ClusterVote]
    chosen: str | None
    majority: str | None
    rule: Literal["reliability", "tie-break", "all-zero-majority", "no-answer"]
    tied: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return self.chosen != self.majority


def votes(drawn: Sequence[Trajectory]) -> dict[str, ClusterVote]:
    clusters: dict[str, ClusterVote] = {}
    for t in drawn:
        if t.cluster is None:
            continue
        old = clusters.get(t.cluster, ClusterVote(0, 0.0, t.answer))
        clusters[t.cluster] = ClusterVote(old.count + 1, old.reliability + t.reliability,
                                          old.answer or t.answer)
    return clusters


def choose(drawn: Sequence[Trajectory], rng: np.random.Generator) -> Choice:
    ordered = sorted(drawn, key=lambda t: t.index)
    indices = tuple(t.index for t in ordered)
    majority, _ = majority_answer([t.cluster for t in ordered])
    clusters = votes(ordered)
    if not clusters:
        return Choice(indices, clusters, None, majority, "no-answer")
    best = max(v.reliability for v in clusters.values())
    if best <= 0.0:
        return Choice(indices, clusters, majority, majority, "all-zero-majority")
    top = [c for c, v in clusters.items()
           if math.isclose(v.reliability, best, rel_tol=TIE_TOLERANCE)]
    most = max(clusters[c].count for c in top)
    tied = sorted(c for c in top if clusters[c].count == most)
    if len(tied) == 1:
        return Choice(indices, clusters, tied[0], majority, "reliability")
    chosen = tied[int(rng.integers(len(tied)))]
    return Choice(indices, clusters, chosen, majority, "tie-break", tuple(tied))


@dataclass(frozen=True)
class Repetition:
    """One repetition of one problem: the CLR choice and the baselines on the same draw."""

    choice: Choice
    order: tuple[int, ...]  # the pool's sample indices in draw order (first K are the draw)
    pass_any: bool
    avg: float
    generation_tokens: int
    clr_prompt_tokens: int
    clr_completion_tokens: int
    calls: int


def run_problem(pool: Sequence[Trajectory], k: int, rngs: Sequence[np.random.Generator]
                ) -> list[Repetition]:
    """R repetitions (one generator each): draw K of the pool, choose, score the baselines."""
    ordered = sorted(pool, key=lambda t: t.index)
    out = []
    for rng in rngs:
        positions = draw_order(len(ordered), rng)
        order = tuple(ordered[i].index for i in positions)
        drawn = [ordered[i] for i in positions[:k]]
        choice = choose(drawn, rng)
        out.append(Repetition(
            choice=choice, order=order, pass_any=any(t.correct for t in drawn),
            avg=sum(t.correct for t in drawn) / len(drawn) if drawn else 0.0,
            generation_tokens=sum(t.generation_tokens for t in drawn),
            clr_prompt_tokens=sum(t.clr_prompt_tokens for t in drawn),
            clr_completion_tokens=sum(t.clr_completion_tokens for t in drawn),
            calls=sum(t.calls for t in drawn)))
    return out


def majority_of_first(pool: Sequence[Trajectory], order: Sequence[int], k: int) -> str | None:
    """maj@k over the first k trajectories of a draw order (ties: lowest sample index)."""
    by_index = {t.index: t for t in pool}
    first = sorted(order[:k])
    return majority_answer([by_index[i].cluster for i in first])[0]
