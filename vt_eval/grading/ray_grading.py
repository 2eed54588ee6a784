"""Grading on the run's Ray cluster (`[ray] address` with `[ray] grade = true`; docs/scale.md).

A drop-in for `TimeoutPool` (same `map(target, payloads) -> PoolResult`s, `close`): each Ray
actor holds a `TimeoutPool` of `[grading] workers` processes on its node, so the per-task hard
timeout is still enforced at a process boundary next to the task, and the verdicts are the same
code's. Payloads go out in chunks through Ray's `ActorPool` (its scheduling); a chunk comes back
whole, so a chunk rerun after a worker died (`max_restarts` / `max_task_retries`) returns the same
results and the pool yields each payload's result once. The code sandbox (bubblewrap) must exist
on every node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from vt_eval.config import RayConfig
from vt_eval.grading.pool import PoolResult, TimeoutPool

CHUNK = 32  # payloads per Ray task: large enough to hide Ray's round trip, small to share out


class GradeWorker:
    """One Ray actor: a local TimeoutPool on its node."""

    def __init__(self, processes: int, timeout_s: float) -> None:
        self.pool = TimeoutPool(processes, timeout_s)

    def grade(self, target: str, chunk: list[tuple[int, Any]]) -> list[PoolResult]:
        indices = [index for index, _ in chunk]
        return [PoolResult(indices[r.index], r.status, r.value, r.error)
                for r in self.pool.map(target, (payload for _, payload in chunk))]


class RayGradingPool:
    """`TimeoutPool`'s interface over Ray actors."""

    def __init__(self, config: RayConfig, processes: int, timeout_s: float) -> None:
        import ray  # only a run that grades on Ray pays for importing it

        from vt_eval.backends.ray_cluster import connect, worker_count
        self.config = config
        connect(config)
        actor = ray.remote(GradeWorker).options(
            num_cpus=config.cpus_per_worker, max_restarts=config.max_restarts,
            max_task_retries=config.max_task_retries, scheduling_strategy="SPREAD")
        self.actors = [actor.remote(processes, timeout_s) for _ in range(worker_count(config))]
        self.size = len(self.actors) * processes

    def __enter__(self) -> RayGradingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, target: str, payloads: Iterable[Any]) -> Iterator[PoolResult]:
        """Yield one PoolResult per payload, chunk by chunk as chunks finish."""
        from ray.util import ActorPool
        items = list(enumerate(payloads))
        chunks = [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]
        seen: set[int] = set()
        pool = ActorPool(self.actors)
        for results in pool.map_unordered(lambda a, chunk: a.grade.remote(target, chunk), chunks):
            for result in results:
                if result.index not in seen:
                    seen.add(result.index)
                    yield result

    def close(self) -> None:
        import ray

        from vt_eval.backends.ray_cluster import disconnect
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []
        disconnect()


def grading_pool(config: RayConfig, processes: int, timeout_s: float) -> TimeoutPool | RayGradingPool:
    """The grade stage's one pool: on the Ray cluster when `[ray] grade`, else on this machine."""
    if config.address and config.grade:
        return RayGradingPool(config, processes, timeout_s)
    return TimeoutPool(processes, timeout_s)
