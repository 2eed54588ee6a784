"""Generation on a Ray cluster (`vt-eval run --ray ADDRESS`, `[ray]` in eval.toml).

Each worker is a Ray actor holding its own backend (ray_worker.py), built on the worker from the
run's config. Ray places the actors (resources, `SPREAD` over nodes), restarts a dead one
(`max_restarts`, loading its model again) and runs its unfinished units again
(`max_task_retries`). The driver only hands each worker its next unit when one finishes (the
pattern of Ray's ActorPool, which cannot stream a generator), keeping two units queued per
worker so none idles between units, and passes completions to the generate stage's one writer
as they stream in.

Exactly once: a retried unit can deliver a completion twice, or hide one behind the position the
first attempt had reached (ray_worker.py). The executor yields each request key once: repeats are
dropped, hidden ones are taken from the unit's closing `UnitEnd`. Both are counted, with the
restarts and retried units, in `cluster()` (manifest.cluster).

Units: a backend that is not batch-invariant (vLLM) gets the generate stage's fixed units
unchanged, so a sample does not depend on which worker made it. A batch-invariant one
(transformers) gets its one unit of missing requests cut again into `[ray] unit_size` pieces in
plan order, so several workers share them.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray._private.state import actors as actor_table  # Ray's restart count (2.60 pin)
from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError

from vt_eval.backends.base import Completion, RequestKey, SamplingParams
from vt_eval.backends.ray_cluster import connect, disconnect, nodes, worker_count
from vt_eval.backends.ray_worker import GenerateWorker, UnitEnd, UnitStart
from vt_eval.backends.units import WorkUnit
from vt_eval.config import EvalConfig
from vt_eval.errors import BackendError, VtEvalError

QUEUED_PER_WORKER = 2  # units sent to a worker ahead of time: one running, one waiting
WAIT_S = 5.0  # ray.wait slice: the driver stays responsive to Ctrl-C


@dataclass
class Flight:
    """A unit on its way through one worker."""

    worker: int
    unit: WorkUnit
    started_by: str | None = None
    ended: bool = False


@dataclass
class ExactlyOnce:
    """The driver's filter over the items of every unit stream: each request key passes once."""

    units_retried: int = 0  # units begun by a worker that died, finished by its restart
    duplicates_dropped: int = 0  # completions delivered twice by a retried unit
    recovered_from_summary: int = 0  # completions a retried unit's stream hid
    seen: set[RequestKey] = field(default_factory=set)

    def accept(self, item: Any, flight: Flight) -> Iterator[Completion]:
        if isinstance(item, UnitStart):  # always the first attempt's (Ray keeps position 0)
            flight.started_by = item.incarnation
        elif isinstance(item, Completion):
            if item.key in self.seen:
                self.duplicates_dropped += 1
            else:
                self.seen.add(item.key)
                yield item
        elif isinstance(item, UnitEnd):  # always the finishing attempt's
            flight.ended = True
            if flight.started_by is not None and flight.started_by != item.incarnation:
                self.units_retried += 1
            for completion in item.completions:
                if completion.key not in self.seen:
                    self.seen.add(completion.key)
                    self.recovered_from_summary += 1
                    yield completion


def _first_lines(exc: BaseException, count: int = 6) -> str:
    return "\n".join(str(exc).strip().splitlines()[:count])


class RayExecutor:
    """The `Executor` of vt_eval/backends/executor.py on a Ray cluster."""

    def __init__(self, config: EvalConfig, backend_name: str) -> None:
        self.config = config.ray
        self.started_cluster = connect(self.config)
        self.counts = ExactlyOnce()
        try:
            self.workers = self._start_workers(config, backend_name)
            self.descriptions = self._describe_all()
            self._check_same_model()
        except BaseException:
            self.close()
            raise
        first = self.descriptions[0]
        self.fixed_batch: int | None = first["fixed_batch"]
        self.batch_invariant: bool | None = first["batch_invariant"]
        self._provenance: dict[str, Any] = first["provenance"]
        self._nodes = nodes()
        self._restarts: list[int] = [0] * len(self.workers)

    def _start_workers(self, config: EvalConfig, backend_name: str) -> list[Any]:
        actor = ray.remote(GenerateWorker).options(
            num_cpus=self.config.cpus_per_worker, num_gpus=self.config.gpus_per_worker,
            max_restarts=self.config.max_restarts, max_task_retries=self.config.max_task_retries,
            scheduling_strategy="SPREAD")
        data = config.model_dump(mode="json")
        return [actor.remote(data, backend_name, os.getcwd())
                for _ in range(worker_count(self.config))]

    def _describe_all(self) -> list[dict[str, Any]]:
        try:
            found = self._get([w.describe.remote() for w in self.workers],
                              self.config.start_timeout_s)
        except GetTimeoutError as exc:
            raise BackendError(
                f"{len(self.workers)} Ray workers did not all start within "
                f"{self.config.start_timeout_s:g} s (each loads the model; a worker needs "
                f"{self.config.cpus_per_worker:g} CPU and {self.config.gpus_per_worker:g} GPU): "
                f"lower [ray] workers or raise [ray] start_timeout_s") from exc
        return found

    def _check_same_model(self) -> None:
        reference = self.descriptions[0]["same"]
        for index, description in enumerate(self.descriptions[1:], start=1):
            differing = sorted(k for k, v in description["same"].items() if v != reference.get(k))
            if differing:
                raise BackendError(f"Ray worker {index} ({description['host']}) does not load the "
                                   f"model worker 0 loads (differs in {', '.join(differing)}): "
                                   "give every node the same checkpoint and packages")

    def _get(self, refs: Any, timeout: float | None = None) -> Any:
        try:
            return ray.get(refs, timeout=timeout)
        except RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            if isinstance(cause, VtEvalError):
                raise type(cause)(f"on a Ray worker: {cause}") from exc
            raise BackendError(f"a Ray worker failed: {cause}") from exc
        except RayActorError as exc:
            raise BackendError(
                f"a Ray worker died for good (restarted at most [ray] max_restarts = "
                f"{self.config.max_restarts} times): {_first_lines(exc)}\nFinished samples are "
                "kept; the same command resumes.") from exc

    # -- the Executor protocol ------------------------------------------------------------------

    def run(self, units: Sequence[WorkUnit], params: SamplingParams) -> Iterator[Completion]:
        waiting = deque(self._shares(units))
        in_flight: dict[Any, Flight] = {}

        def send(worker: int) -> None:
            if waiting:
                unit = waiting.popleft()
                stream = self.workers[worker].run_unit.remote(unit, params)
                in_flight[stream] = Flight(worker, unit)

        for worker in range(len(self.workers)):
            for _ in range(QUEUED_PER_WORKER):
                send(worker)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_S)
            for stream in ready:
                flight = in_flight[stream]
                try:
                    item = self._get(next(stream))
                except StopIteration:
                    del in_flight[stream]
                    self._closed(flight)
                    send(flight.worker)
                    continue
                yield from self.counts.accept(item, flight)

    def _shares(self, units: Sequence[WorkUnit]) -> list[WorkUnit]:
        if self.fixed_batch is not None:  # the stage's fixed units: their batches are the samples
            return list(units)
        size = self.config.unit_size
        shares = []
        for unit in units:
            for start in range(0, len(unit.requests), size):
                shares.append(WorkUnit(len(shares), unit.requests[start:start + size], unit.done))
        return shares

    def _closed(self, flight: Flight) -> None:
        if not flight.ended:  # Ray ended the stream without the unit's last item: never silent
            raise BackendError(f"Ray worker {flight.worker} ended unit {flight.unit.index} without "
                               "finishing it; finished samples are kept, the same command resumes")

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        return self._get(self.workers[0].effective_params.remote(params))

    def cluster(self) -> dict[str, Any] | None:
        return {
            "engine": "ray", "ray_version": ray.__version__, "address": self.config.address,
            "started_by_run": self.started_cluster, "nodes": self._nodes,
            "workers": [{"worker": i, **{k: d[k] for k in ("host", "node_id", "node_ip", "pid")},
                         "engine": d["engine"]} for i, d in enumerate(self.descriptions)],
            "cpus_per_worker": self.config.cpus_per_worker,
            "gpus_per_worker": self.config.gpus_per_worker,
            "unit_size": self.fixed_batch or self.config.unit_size,
            "max_restarts": self.config.max_restarts,
            "max_task_retries": self.config.max_task_retries,
            "restarts": sum(self._restart_counts()), "units_retried": self.counts.units_retried,
            "duplicates_dropped": self.counts.duplicates_dropped,
            "recovered_from_summary": self.counts.recovered_from_summary,
        }

    def _restart_counts(self) -> list[int]:
        """Ray's own count of each worker's restarts (its GCS actor table), while connected."""
        if ray.is_initialized():
            for index, worker in enumerate(self.workers):
                info = actor_table(worker._actor_id.hex())  # noqa: SLF001 (Ray's handle id)
                self._restarts[index] = int(info.get("NumRestarts", 0)) if info else 0
        return self._restarts

    def close(self) -> None:
        if hasattr(self, "_restarts"):
            self._restart_counts()  # read before the workers go
        for worker in getattr(self, "workers", []):
            try:
                ray.kill(worker, no_restart=True)
            except RayError:
                pass  # already gone
        disconnect()
