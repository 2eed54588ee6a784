"""An audit folder that proves its own consistency.

`seal` records in summary.json the sha256 and line count of matches.jsonl and a sha256 of every
benchmark's contaminated ids. `verify` (used by `check`, `filter` and the scorer's clean-subset
API) re-reads both files and refuses, naming the file and key, anything it cannot vouch for: a
missing or mistyped key, a matches.jsonl that was changed, emptied or truncated, counts that
disagree, contaminated ids that do not follow from the matches under the audit's own rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vt_eval.decontam.policy import rule_for, rules_from_record
from vt_eval.errors import ConfigError, DataError
from vt_eval.util import sha256_bytes

SUMMARY = "summary.json"
MATCHES = "matches.jsonl"
FORMAT_VERSION = 3  # 3: object keys, binary/map columns and text paragraphs audited

Count = Field(ge=0)


class _Record(BaseModel):
    """Required keys are checked and typed; other keys are kept as written."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


class FileRecord(_Record):
    path: str
    rows: int = Count
    text_bytes: int = Count
    skipped: dict[str, int]
    skip_examples: list[str]


class TrainingRecord(_Record):
    files: list[FileRecord]
    rows: int = Count
    text_bytes: int = Count
    skipped_rows: int = Count


class BenchmarkRecord(_Record):
    items: int = Count
    contaminated: int = Count
    rate: float = Field(ge=0, le=1)
    contaminated_ids: list[str]
    clean_ids: list[str]


class PolicyRecord(_Record):
    ngram: dict[str, Any]
    minhash: dict[str, Any]
    rules: list[dict[str, Any]]
    gate: dict[str, Any]


class Parameters(_Record):
    text_fields: list[str] | Literal["all"]
    max_line_bytes: int = Field(gt=0)


class MatchTotals(_Record):
    total: int = Count
    counting: int = Count


class Integrity(_Record):
    matches_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    matches_lines: int = Count
    contaminated_ids_sha256: dict[str, str]


class Summary(_Record):
    format_version: Literal[3]
    ok: bool
    errors: list[str]
    policy: PolicyRecord
    parameters: Parameters
    training: TrainingRecord
    benchmarks: dict[str, BenchmarkRecord]
    matches: MatchTotals
    integrity: Integrity


class NgramStat(_Record):
    shared: int = Count
    containment: float = Field(ge=0, le=1)


class MatchRecord(_Record):
    benchmark: str
    item_id: str
    file: str
    row: int = Count
    row_hash: str
    method: Literal["ngram", "minhash"]
    n: int = Field(gt=0)
    ngram: dict[str, NgramStat] | None = None
    jaccard: float | None = Field(default=None, ge=0, le=1)
    counts_by: str | None

    @model_validator(mode="after")
    def _method_fields(self) -> MatchRecord:
        if self.method == "ngram" and self.ngram is None:
            raise ValueError("an ngram match needs the key 'ngram'")
        if self.method == "minhash" and self.jaccard is None:
            raise ValueError("a minhash match needs the key 'jaccard'")
        return self


def ids_sha256(ids: list[str]) -> str:
    return sha256_bytes("\n".join(sorted(ids)).encode("utf-8"))


def matches_bytes(matches: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(m, ensure_ascii=False, sort_keys=True) + "\n" for m in matches).encode("utf-8")


def seal(summary: dict[str, Any], data: bytes) -> dict[str, Any]:
    """`summary` plus the integrity record for matches.jsonl holding exactly `data`."""
    return {**summary, "integrity": {
        "matches_sha256": sha256_bytes(data), "matches_lines": data.count(b"\n"),
        "contaminated_ids_sha256": {name: ids_sha256(b["contaminated_ids"])
                                    for name, b in summary["benchmarks"].items()}}}


def _describe(exc: ValidationError, where: str) -> str:
    problems = []
    for err in exc.errors()[:5]:
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        if err["type"] == "missing":
            problems.append(f"missing key '{key}'")
        else:
            problems.append(f"key '{key}': {err['msg']} (got {str(err.get('input'))[:60]!r})")
    return f"{where}: " + "; ".join(problems)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable decontam audit ({exc}); run `vt-eval decontam audit --out "
                        f"{path.parent}` first") from exc


def _summary(audit_dir: Path) -> tuple[dict[str, Any], Summary]:
    raw = _read_json(audit_dir / SUMMARY)
    if isinstance(raw, dict) and raw.get("format_version") != FORMAT_VERSION:
        raise DataError(f"{audit_dir / SUMMARY}: audit format {raw.get('format_version')!r} is not "
                        f"{FORMAT_VERSION}; re-run the audit")
    try:
        return raw, Summary.model_validate(raw)
    except ValidationError as exc:
        raise DataError(_describe(exc, str(audit_dir / SUMMARY))) from exc


def _matches(audit_dir: Path, summary: Summary) -> list[dict[str, Any]]:
    path = audit_dir / MATCHES
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: not readable ({exc})") from exc
    digest = sha256_bytes(data)
    if digest != summary.integrity.matches_sha256:
        lines = data.count(b"\n")
        raise DataError(f"{path}: sha256 {digest} differs from {SUMMARY} integrity.matches_sha256 "
                        f"{summary.integrity.matches_sha256} ({lines} line(s) now, "
                        f"{summary.integrity.matches_lines} at audit time): changed since the audit")
    out = []
    # split on b"\n" only: a match's row text may hold U+2028 and other characters str.splitlines splits on
    for number, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            raw = json.loads(line)
            MatchRecord.model_validate(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number}: invalid JSON ({exc})") from exc
        except ValidationError as exc:
            raise DataError(_describe(exc, f"{path}: line {number}")) from exc
        out.append(raw)
    if not len(out) == summary.integrity.matches_lines == summary.matches.total:
        raise DataError(f"{path}: {len(out)} match(es), but {SUMMARY} records "
                        f"integrity.matches_lines = {summary.integrity.matches_lines} and "
                        f"matches.total = {summary.matches.total}")
    return out


def _check_benchmarks(summary: Summary, matches: list[dict[str, Any]],
                      counts: Callable[[dict[str, Any]], bool], where: Path) -> None:
    """Recorded ids agree with their digests, their counts and the matches themselves."""
    found: dict[str, set[str]] = {name: set() for name in summary.benchmarks}
    for number, match in enumerate(matches, 1):
        if match["benchmark"] not in found:
            raise DataError(f"{where / MATCHES}: line {number} names benchmark {match['benchmark']!r}, "
                            f"which {SUMMARY} does not list")
        if counts(match):
            found[match["benchmark"]].add(match["item_id"])
    digests = summary.integrity.contaminated_ids_sha256
    for name, bench in summary.benchmarks.items():
        key = f"benchmarks.{name}"
        bad, clean = set(bench.contaminated_ids), set(bench.clean_ids)
        problems = []
        if digests.get(name) != ids_sha256(bench.contaminated_ids):
            problems.append(f"{key}.contaminated_ids do not match integrity.contaminated_ids_sha256.{name}")
        listed = (len(bench.contaminated_ids), len(bench.clean_ids))
        if bench.contaminated != listed[0] or bad & clean or sum(listed) != bench.items:
            problems.append(f"{key}: contaminated {bench.contaminated}, {listed[0]} contaminated id(s) "
                            f"and {listed[1]} clean id(s) do not add up to items {bench.items}")
        if found[name] != bad:
            problems.append(f"{key}.contaminated_ids differ from the counting matches in {MATCHES} "
                            f"({sorted(found[name] ^ bad)[:5]})")
        if problems:
            raise DataError(f"{where / SUMMARY}: " + "; ".join(problems))


def _check_totals(summary: Summary, where: Path) -> None:
    """The summary's own totals agree with its per-file records and its error list."""
    training = summary.training
    problems = []
    if summary.ok == bool(summary.errors):
        problems.append(f"ok = {summary.ok} with {len(summary.errors)} error(s) listed")
    for key in ("rows", "text_bytes"):
        total = sum(getattr(f, key) for f in training.files)
        if getattr(training, key) != total:
            problems.append(f"training.{key} = {getattr(training, key)}, but its files add up to {total}")
    skipped = sum(sum(f.skipped.values()) for f in training.files)
    if training.skipped_rows != skipped:
        problems.append(f"training.skipped_rows = {training.skipped_rows}, but its files add up to {skipped}")
    if problems:
        raise DataError(f"{where / SUMMARY}: " + "; ".join(problems))


def verify(audit_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """summary.json and matches.jsonl, both verified (DataError naming the file and key if not)."""
    raw, summary = _summary(audit_dir)
    _check_totals(summary, audit_dir)
    matches = _matches(audit_dir, summary)
    try:
        rules = rules_from_record(summary.policy.rules)
    except ConfigError as exc:
        raise DataError(f"{audit_dir / SUMMARY}: policy.rules: {exc}") from exc
    _check_benchmarks(summary, matches, lambda m: rule_for(m, rules) is not None, audit_dir)
    return raw, matches
