"""Where work units run: in this process (one backend), or on a Ray cluster (`[ray] address`).

The generate stage hands an executor the plan's work units and writes what comes back; it never
knows where a completion was made. An executor yields completions as units finish (any order).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from vt_eval.backends import make_backend
from vt_eval.backends.base import Backend, Completion, SamplingParams
from vt_eval.backends.units import WorkUnit
from vt_eval.config import EvalConfig


class Executor(Protocol):
    fixed_batch: int | None  # requests per unit for a backend that is not batch-invariant
    batch_invariant: bool | None  # the backend's statement; None = unknown (a server)

    def run(self, units: Sequence[WorkUnit], params: SamplingParams) -> Iterator[Completion]: ...

    def provenance(self) -> dict[str, Any]:
        """The backend's provenance (model, engine, versions) for manifest.json."""
        ...

    def effective_params(self, params: SamplingParams) -> dict[str, Any]: ...

    def cluster(self) -> dict[str, Any] | None:
        """Nodes, workers and the engine per worker; None when everything ran in this process."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """One backend in this process; units run one after another."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.fixed_batch: int | None = getattr(backend, "fixed_batch", None)
        self.batch_invariant: bool | None = backend.batch_invariant

    def run(self, units: Sequence[WorkUnit], params: SamplingParams) -> Iterator[Completion]:
        for unit in units:
            yield from self.backend.generate(unit.requests, params)

    def provenance(self) -> dict[str, Any]:
        return self.backend.provenance()

    def effective_params(self, params: SamplingParams) -> dict[str, Any]:
        return self.backend.effective_params(params)

    def cluster(self) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        self.backend.close()


def make_executor(config: EvalConfig, backend_name: str) -> Executor:
    """A Ray cluster when `[ray] address` is set (`--ray`), else this process."""
    if config.ray.address:
        from vt_eval.backends.ray_executor import RayExecutor
        return RayExecutor(config, backend_name)
    return LocalExecutor(make_backend(config, backend_name))
