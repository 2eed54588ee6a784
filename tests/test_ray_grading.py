"""Grading on a Ray cluster (`[ray] grade = true`): a real local Ray cluster (2 CPUs, two actors,
each with its own TimeoutPool) gives the math grader's local verdicts, hard timeouts included."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import make_task
from test_math_grader import CASES
from ray_processes import kill_all, processes_of

from vt_eval.config import RayConfig
from vt_eval.grading.base import GradingOptions
from vt_eval.grading.math import MathGrader
from vt_eval.grading.ray_grading import RayGradingPool, grading_pool
from vt_eval.grading.pool import TimeoutPool

pytestmark = pytest.mark.slow

HANG = "\\boxed{\\prod_{k=1}^{3000} (k^2+1)}"  # only the process timeout stops sympy here
TIMEOUT_S = 8.0  # generous: a loaded shared CPU must not turn a slow parse into a timeout


@pytest.fixture(scope="module")
def ray_pool() -> Iterator[RayGradingPool]:
    temp = Path(tempfile.mkdtemp(prefix="vtrg", dir="/tmp"))  # this cluster's own session dir
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = str(temp)
    config = RayConfig(address="local", grade=True, workers=2, num_cpus=2, object_store_mib=100)
    pool = grading_pool(config, 1, TIMEOUT_S)
    try:
        assert isinstance(pool, RayGradingPool)
        yield pool
    finally:
        pool.close()
        if saved is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = saved
        leftover = processes_of(str(temp))
        kill_all(leftover)
        shutil.rmtree(temp, ignore_errors=True)
        assert not leftover, "Ray processes outlived ray.shutdown()"


def test_ray_grading_gives_the_local_verdicts(ray_pool: RayGradingPool) -> None:
    tasks = [make_task(gold, response, item_id=str(i)) for i, (gold, response, _) in enumerate(CASES)]
    tasks.append(make_task("7", HANG, item_id="hang"))
    local = list(MathGrader().grade(tasks, GradingOptions(timeout_s=TIMEOUT_S, workers=2)))
    remote = list(MathGrader().grade(tasks, GradingOptions(timeout_s=TIMEOUT_S, workers=1,
                                                            pool=ray_pool)))

    def view(scores: list) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
        return sorted((s.item_id, s.verdict, s.extracted, s.explanation) for s in scores)

    assert view(remote) == view(local)
    verdicts = {s.item_id: s.verdict for s in remote}
    assert verdicts["hang"] == "grader_timeout"  # enforced on the worker's node
    assert all(verdicts[str(i)] == expected for i, (_, _, expected) in enumerate(CASES))


def test_without_ray_grade_the_pool_stays_local() -> None:
    assert isinstance(grading_pool(RayConfig(address="local"), 1, 2.0), TimeoutPool)
    assert isinstance(grading_pool(RayConfig(grade=True), 1, 2.0), TimeoutPool)
