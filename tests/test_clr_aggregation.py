"""CLR aggregation on hand-built trajectories and verdicts whose outcome is known."""

from __future__ import annotations

import math

import pytest

from vt_eval.clr.aggregation import (Trajectory, choose, draw_order, majority_of_first,
                                     problem_rng, reliability, run_problem)
from vt_eval.clr.metrics import ProblemRun, benchmark_metrics, problem_detail
from vt_eval.grading.base import GradingOptions
from vt_eval.grading.math import MathGrader
from vt_eval.records import GOLD_CLUSTER, Score

WRONG = "math:17"


def traj(index: int, cluster: str | None, r: float, tokens: int = 100, clr: int = 30) -> Trajectory:
    return Trajectory(index=index, cluster=cluster, answer=cluster, reliability=r,
                      generation_tokens=tokens, clr_prompt_tokens=2 * clr,
                      clr_completion_tokens=clr, calls=6)


@pytest.mark.parametrize(("verdicts", "missing", "expected"), [
    ([1, 1, 1, 1, 1], "zero", 1.0),
    ([1, 1, 1, 1, 0], "zero", 0.8 ** 5),  # 0.32768: one failed claim costs two thirds
    ([1, 1, 1, 0, 0], "zero", 0.6 ** 5),
    ([1, 0, 0, 0, 0], "zero", 0.2 ** 5),
    ([0, 0, 0, 0, 0], "zero", 0.0),
    ([1, 1, 1, 1, None], "zero", 0.8 ** 5),  # an unparsable verdict is not a confirmation
    ([1, 1, 1], "zero", 0.6 ** 5),  # fewer than M claims: the missing ones count 0
    ([1, 1, 1], "skip", 1.0),  # ... or the mean runs over the claims given
    ([1, 1, 0], "skip", (2 / 3) ** 5),
    ([], "zero", 0.0),  # no claims at all
    ([], "skip", 0.0),
])
def test_reliability_is_the_mean_to_the_power_m(verdicts: list[int | None], missing: str,
                                                expected: float) -> None:
    assert math.isclose(reliability(verdicts, 5, missing), expected)  # type: ignore[arg-type]


def test_a_reliable_minority_beats_an_unreliable_majority() -> None:
    drawn = [traj(0, WRONG, 0.2 ** 5), traj(1, WRONG, 0.2 ** 5), traj(2, WRONG, 0.6 ** 5),
             traj(3, GOLD_CLUSTER, 1.0), traj(4, GOLD_CLUSTER, 0.8 ** 5), traj(5, None, 1.0)]
    choice = choose(drawn, problem_rng(0, 0, "b", "1"))
    assert choice.majority == WRONG and choice.chosen == GOLD_CLUSTER
    assert choice.rule == "reliability" and choice.changed
    assert choice.clusters[WRONG].count == 3 and choice.clusters[GOLD_CLUSTER].count == 2
    assert math.isclose(choice.clusters[GOLD_CLUSTER].reliability, 1 + 0.8 ** 5)
    assert "None" not in choice.clusters  # a trajectory without an answer votes for nothing


def test_a_reliable_majority_is_kept() -> None:
    drawn = [traj(0, GOLD_CLUSTER, 0.8 ** 5), traj(1, GOLD_CLUSTER, 0.8 ** 5), traj(2, WRONG, 0.5)]
    choice = choose(drawn, problem_rng(0, 0, "b", "1"))
    assert choice.chosen == GOLD_CLUSTER == choice.majority and not choice.changed


def test_all_zero_reliabilities_fall_back_to_majority_vote() -> None:
    drawn = [traj(0, WRONG, 0.0), traj(1, GOLD_CLUSTER, 0.0), traj(2, GOLD_CLUSTER, 0.0)]
    choice = choose(drawn, problem_rng(0, 0, "b", "1"))
    assert choice.rule == "all-zero-majority" and choice.chosen == GOLD_CLUSTER == choice.majority


def test_no_answer_at_all_chooses_nothing() -> None:
    choice = choose([traj(0, None, 1.0), traj(1, None, 0.0)], problem_rng(0, 0, "b", "1"))
    assert choice.chosen is None and choice.rule == "no-answer"


def test_equal_sums_go_to_the_larger_cluster() -> None:
    drawn = [traj(0, WRONG, 0.5), traj(1, WRONG, 0.5), traj(2, GOLD_CLUSTER, 1.0)]
    choice = choose(drawn, problem_rng(0, 0, "b", "1"))
    assert choice.chosen == WRONG and choice.rule == "reliability"


def test_full_ties_are_broken_by_the_seeded_generator() -> None:
    drawn = [traj(0, WRONG, 0.1 + 0.2), traj(1, GOLD_CLUSTER, 0.3)]  # equal up to float rounding
    picks = {seed: choose(drawn, problem_rng(seed, 0, "b", "1")).chosen for seed in range(40)}
    again = {seed: choose(drawn, problem_rng(seed, 0, "b", "1")).chosen for seed in range(40)}
    assert picks == again  # seeded: the same seed picks the same cluster
    assert set(picks.values()) == {WRONG, GOLD_CLUSTER}  # and both sides win for some seed
    choice = choose(drawn, problem_rng(3, 0, "b", "1"))
    assert choice.rule == "tie-break" and set(choice.tied) == {WRONG, GOLD_CLUSTER}


def test_equivalent_forms_are_one_cluster_by_the_math_graders_own_hook() -> None:
    forms = ["1/2", "0.5", "\\frac{1}{2}", "\\dfrac12", "3"]
    scores = [Score(benchmark="hmmt_feb_2025", item_id="1", sample_index=i, verdict="incorrect",
                    extracted=form, gold="7", explanation="", grader="math/1")
              for i, form in enumerate(forms)]
    keys = MathGrader().cluster_keys(scores, GradingOptions(timeout_s=30, workers=1))
    assert len(set(keys[:4])) == 1 and keys[4] != keys[0]
    # Three weak "1/2" votes in three forms lose to one reliable "3"; summed, they are one cluster.
    drawn = [traj(i, key, 0.1) for i, key in enumerate(keys)]
    drawn[4] = traj(4, keys[4], 0.9)
    choice = choose(drawn, problem_rng(0, 0, "b", "1"))
    assert choice.clusters[keys[0]].count == 4 and choice.majority == keys[0]
    assert choice.chosen == keys[4]


def test_draws_are_seeded_per_repetition_and_problem() -> None:
    first = draw_order(64, problem_rng(7, 0, "aime", "1"))
    assert first == draw_order(64, problem_rng(7, 0, "aime", "1"))
    assert sorted(first) == list(range(64))
    assert first != draw_order(64, problem_rng(7, 1, "aime", "1"))  # another repetition
    assert first != draw_order(64, problem_rng(7, 0, "aime", "2"))  # another problem
    assert first != draw_order(64, problem_rng(8, 0, "aime", "1"))  # another run seed


def test_each_repetition_draws_its_own_k_from_a_larger_pool() -> None:
    pool = [traj(i, GOLD_CLUSTER if i % 4 == 0 else WRONG, 0.0) for i in range(64)]
    rngs = [problem_rng(0, r, "aime", "1") for r in range(8)]
    reps = run_problem(pool, 32, rngs)
    draws = [rep.choice.drawn for rep in reps]
    assert all(len(d) == 32 == len(set(d)) for d in draws)
    assert len(set(draws)) == 8
    assert all(rep.generation_tokens == 3200 and rep.calls == 32 * 6 for rep in reps)


def test_metrics_put_baselines_on_the_same_draws() -> None:
    # Problem 1: majority wrong, a reliable minority right (CLR fixes it).
    one = [traj(0, WRONG, 0.0), traj(1, WRONG, 0.0), traj(2, GOLD_CLUSTER, 1.0)]
    # Problem 2: majority right and reliable; problem 3: nothing right.
    two = [traj(0, GOLD_CLUSTER, 1.0), traj(1, GOLD_CLUSTER, 1.0), traj(2, WRONG, 0.0)]
    three = [traj(0, WRONG, 1.0), traj(1, "math:3", 0.0), traj(2, WRONG, 0.0)]
    runs = [ProblemRun(item, tuple(pool), tuple(run_problem(pool, 3, [
                problem_rng(0, r, "b", item) for r in range(2)])))
            for item, pool in (("1", one), ("2", two), ("3", three))]
    m = benchmark_metrics(runs, 3, 0)
    assert math.isclose(m["clr_accuracy"], 2 / 3) and math.isclose(m["maj_at_k"], 1 / 3)
    assert math.isclose(m["pass_at_k"], 2 / 3) and math.isclose(m["avg_at_k"], 1 / 3)
    assert m["clr_std"] == 0.0 and m["independent_draws"] is False
    assert m["outcomes"] == {"fixed": 2, "kept": 4}
    assert m["tokens_per_problem"]["generation"] == 300
    assert m["tokens_per_problem"]["clr_completion"] == 90
    eq = m["maj_at_equal_tokens"]
    assert eq["k_wanted"] == 4 and eq["k"] == 3 and eq["capped_at_pool"]
    detail = problem_detail(runs[0])
    assert detail["fixed"] == 2 and detail["repetitions"][0]["chosen"] == GOLD_CLUSTER
    assert detail["repetitions"][0]["clusters"][GOLD_CLUSTER]["correct"] is True


def test_majority_of_first_uses_the_draw_order_prefix() -> None:
    pool = [traj(0, WRONG, 0), traj(1, GOLD_CLUSTER, 0), traj(2, GOLD_CLUSTER, 0)]
    assert majority_of_first(pool, (0, 1, 2), 2) == WRONG  # tie -> lowest sample index
    assert majority_of_first(pool, (0, 1, 2), 3) == GOLD_CLUSTER
