"""The run directory and the files between stages.

`runs/<run-id>/`: config.toml (resolved config), manifest.json (provenance, owned here),
plan.json (plan stage), samples.jsonl (generate), scores.jsonl (grade, judge), results.json
(aggregate); optional stages add their own files (`RunDir.file(name)`).

A run directory belongs to one generation identity (model, backend, sampling). Re-running the same
command resumes it; a command whose identity differs is refused with the differences listed.
Scope (benchmarks, limit, k) may change: the plan is recomputed and only missing samples generated.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vt_eval.config import EvalConfig, config_differences, load_config
from vt_eval.errors import ConfigError, DataError
from vt_eval.manifest import Manifest, StageReport, upgrade_legacy
from vt_eval.util import write_json_atomic, write_text_atomic

IDENTITY_KEYS = ("model.name", "model.backend", "model.base_url", "sampling.temperature",
                 "sampling.top_p", "sampling.top_k", "sampling.max_tokens", "sampling.seed")


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.config_path = path / "config.toml"
        self.manifest_path = path / "manifest.json"
        self.plan_path = path / "plan.json"
        self.samples_path = path / "samples.jsonl"
        self.scores_path = path / "scores.jsonl"
        self.results_path = path / "results.json"

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.config_path.is_file()

    def load_config(self) -> EvalConfig:
        if not self.exists():
            raise ConfigError(f"{self.path} is not a vt-eval run directory (no config.toml)")
        return load_config(self.config_path)

    def check_identity(self, config: EvalConfig) -> list[str]:
        """Differences that forbid resuming this run with `config` (empty when compatible)."""
        return config_differences(self.load_config(), config, IDENTITY_KEYS)

    def create(self) -> None:
        """Make the directory, or fail with exit-2 wording when it cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot write the run directory {self.path}: "
                              f"{exc.strerror or exc}") from exc

    def save_config(self, config: EvalConfig) -> None:
        self.create()
        write_text_atomic(self.config_path, config.to_toml())

    def manifest(self) -> Manifest:
        if not self.manifest_path.is_file():
            return Manifest(run_id=self.path.name)
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            return Manifest.model_validate(upgrade_legacy(data))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.manifest_path}: not valid JSON ({exc})") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            raise DataError(f"{self.manifest_path}: not a manifest this vt-eval can read "
                            f"({'.'.join(map(str, first['loc']))}: {first['msg']}); it was "
                            f"written by another vt-eval version") from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.create()
        with (self.path / ".manifest.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def update_manifest(self, **fields: Any) -> Manifest:
        """Set top-level manifest fields (read, change, atomic write, under a lock)."""
        with self._locked():
            current = self.manifest()
            merged = Manifest.model_validate({**current.model_dump(), **fields})
            write_json_atomic(self.manifest_path, merged.model_dump(mode="json"))
            return merged

    def record_stage(self, report: StageReport) -> None:
        with self._locked():
            current = self.manifest()
            stages = {**current.stages, report.name: report}
            merged = current.model_copy(update={"stages": stages})
            write_json_atomic(self.manifest_path, merged.model_dump(mode="json"))


def default_run_id(config: EvalConfig) -> str:
    model = Path(config.model.name.rstrip("/")).name or config.model.name
    scope = "+".join(config.run.benchmarks) if config.run.benchmarks else config.run.suite
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", f"{model}__{scope}")[:120]
