"""Read a run directory for reporting: typed, schema-checked, fail closed with clear messages.

Every file a check needs (results.json, plan.json, manifest.json, samples.jsonl, scores.jsonl) must
be there: a missing one is a DataError (exit 2), never a check skipped. `report.verify` decides
whether the files agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vt_eval.config import EvalConfig
from vt_eval.errors import DataError
from vt_eval.manifest import Manifest
from vt_eval.planning import PlanRecord, read_plan
from vt_eval.records import Sample, Score
from vt_eval.results import RESULTS_SCHEMA, RunResults
from vt_eval.rundir import RunDir
from vt_eval.store import read_records

TAIL_CHARS = 600  # response characters kept per sample for the drill-down

SampleKey = tuple[str, str, int]


@dataclass(frozen=True)
class SampleDigest:
    """What the report keeps of a sample: never the whole response (pages stay small)."""

    tail: str
    chars: int
    completion_tokens: int | None
    finish_reason: str


@dataclass(frozen=True)
class RunData:
    path: Path
    results: RunResults
    manifest: Manifest
    plan: PlanRecord
    config: EvalConfig | None
    scores: list[Score]
    samples: dict[SampleKey, SampleDigest] = field(default_factory=dict)
    # keys that occur more than once in samples.jsonl (the dict above keeps the last)
    duplicate_samples: tuple[SampleKey, ...] = ()

    @property
    def run_id(self) -> str:
        return self.results.run_id


def load_results(path: Path) -> RunResults:
    """results.json of the current schema, or DataError saying what to do."""
    if not path.is_file():
        raise DataError(f"{path}: missing; score the run first (vt-eval score {path.parent})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path}: not a results object")
    version = raw.get("schema_version")
    if version != RESULTS_SCHEMA:
        got = "no schema_version (written by vt-eval 0.1)" if version is None else \
            f"schema_version {version!r}"
        raise DataError(f"{path}: {got}; this vt-eval reads results schema {RESULTS_SCHEMA}. "
                        f"Re-score the run to rewrite it: vt-eval score {path.parent}")
    try:
        return RunResults.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"{path}: not valid results ({where}: {first['msg']}); re-score the "
                        f"run: vt-eval score {path.parent}") from exc


def _digest(sample: Sample, with_tail: bool) -> SampleDigest:
    return SampleDigest(tail=sample.response[-TAIL_CHARS:] if with_tail else "",
                        chars=len(sample.response), completion_tokens=sample.completion_tokens,
                        finish_reason=sample.finish_reason)


def _required(path: Path, why: str) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: missing; {why}. Nothing about this run can be vouched for "
                        f"without it (re-run `vt-eval score {path.parent}` if the samples are "
                        f"still there)")
    return path


def _read_samples(path: Path, with_tails: bool
                  ) -> tuple[dict[SampleKey, SampleDigest], tuple[SampleKey, ...]]:
    samples: dict[SampleKey, SampleDigest] = {}
    duplicates: list[SampleKey] = []
    for sample in read_records(path, Sample):
        if sample.key in samples:
            duplicates.append(sample.key)
        samples[sample.key] = _digest(sample, with_tails)
    return samples, tuple(duplicates)


def load_run(path: Path, with_samples: bool = True) -> RunData:
    """Every file the checks read. Raises DataError / ConfigError (exit 2) when one is missing
    or unusable. `with_samples`: keep each response's tail for the drill-down (the keys, finish
    reasons and token counts are always read: completeness and truncation are checked on them)."""
    run = RunDir(Path(path))
    if not run.path.is_dir():
        raise DataError(f"{run.path}: no such run directory")
    results = load_results(run.results_path)
    config = run.load_config() if run.exists() else None
    plan = read_plan(_required(run.plan_path, "it defines which samples a complete run holds"))
    if plan is None:  # removed between the two looks
        raise DataError(f"{run.plan_path}: missing")
    _required(run.manifest_path, "it records the hashes of the files results.json was made from")
    _required(run.scores_path, "results.json cannot be checked without it")
    _required(run.samples_path, "completeness and truncation cannot be checked without it")
    scores = list(read_records(run.scores_path, Score))
    samples, duplicates = _read_samples(run.samples_path, with_samples)
    return RunData(path=run.path, results=results, manifest=run.manifest(), plan=plan,
                   config=config, scores=scores, samples=samples, duplicate_samples=duplicates)


def dotted(data: Any, key: str) -> list[tuple[str, Any]]:
    """Values at a dotted path (`*` matches every key of a mapping): [(full path, value)]."""
    found: list[tuple[str, Any]] = [("", data)]
    for part in key.split("."):
        step: list[tuple[str, Any]] = []
        for prefix, value in found:
            if not isinstance(value, dict):
                step.append((f"{prefix}.{part}".lstrip("."), None))
                continue
            keys = sorted(value) if part == "*" else [part]
            step += [(f"{prefix}.{k}".lstrip("."), value.get(k)) for k in keys]
        found = step
    return found
