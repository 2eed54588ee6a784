"""Property (issue 22): a randomly chosen (seeded) single-field edit to a finished run's files never
lets gate, compare or report pass silently: each exits non-zero.

Edited: any field of results.json that a verdict or the scorecard's figures rest on (all but the
card's texts and published references, run id, timestamps, metric-policy texts, the grader add-ons
`extra_metrics`/`summary`, and run-level warnings, which are checked only for removal), any field
of any line of scores.jsonl and samples.jsonl, any field of plan.json, and the manifest records the
checks rely on (the aggregate stage's input hashes). A forger who also rewrites the recorded hash
is covered too ("rehashed"): then a field that feeds the figures (verdict, sample key, finish
reason, token count) is edited and only the recomputation can catch it. An edit whose parsed
result equals the original (removing a key that holds its default) changes nothing and is not
counted.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from vt_eval.cli import main
from vt_eval.records import VERDICTS
from vt_eval.report.integrity import NOT_RECOMPUTED
from vt_eval.results import RunResults
from vt_eval.util import sha256_file

from test_gate import gate
from test_report_rundir import built

TRIALS = 30
SEED = 22
POLICY = "version = 1\n"  # the run checks and the sandbox rule: the honest run passes
RESULTS_UNVOUCHED = {"run_id", "scored_at", "policies", "warnings"}
KINDS = ("results.json", "scores.jsonl", "samples.jsonl", "plan.json", "manifest.json",
         "rehashed", "results.json")  # one per trial, in turn
FIGURE_FIELDS = {"scores.jsonl": ("verdict", "item_id", "sample_index", "benchmark"),
                 "samples.jsonl": ("finish_reason", "completion_tokens", "item_id", "sample_index")}

Path_ = tuple[Any, ...]


def _leaves(value: Any, path: Path_ = ()) -> list[Path_]:
    if isinstance(value, dict) and value:
        return [p for key, child in value.items() for p in _leaves(child, path + (key,))]
    if isinstance(value, list) and value:
        return [p for i, child in enumerate(value) for p in _leaves(child, path + (i,))]
    return [path]


def _vouched(path: Path_) -> bool:
    if not path or path[0] in RESULTS_UNVOUCHED:
        return False
    return not (path[0] == "benchmarks" and len(path) > 2 and path[2] in NOT_RECOMPUTED)


def _changed(value: Any, key: Any, rng: random.Random) -> Any:
    if key == "verdict":
        return rng.choice([v for v in VERDICTS if v != value])
    if key == "finish_reason":
        return "stop" if value == "length" else "length"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([-1, 1, 7])
    if isinstance(value, float):
        return value + 0.125 if value < 0.8 else value - 0.125
    if isinstance(value, str):
        return value + rng.choice(["x", " ", "0"])
    if value is None:
        return rng.choice([0.5, 1, "x"])
    return [0.5] if isinstance(value, list) else {"x": 1}


def _edit(data: Any, path: Path_, rng: random.Random) -> str:
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1] if path else None
    if isinstance(parent, dict) and key is not None and rng.random() < 0.2:
        del parent[key]
        return f"removed {'.'.join(map(str, path))}"
    if key is None:
        return "no leaf"
    old = parent[key]
    parent[key] = _changed(old, key, rng)
    return f"{'.'.join(map(str, path))}: {old!r} -> {parent[key]!r}"


def _edit_line(run: Path, name: str, rng: random.Random, rehash: bool) -> str:
    path = run / name
    lines = path.read_text().splitlines()
    number = rng.randrange(len(lines))
    record = json.loads(lines[number])
    if rehash:
        field = rng.choice(FIGURE_FIELDS[name])
        record[field] = _changed(record[field], field, rng)
        what = f"{field} -> {record[field]!r}, and the manifest's sha256 of {name} rewritten"
    else:
        what = _edit(record, rng.choice(_leaves(record)), rng)
    lines[number] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    if rehash:
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["stages"]["aggregate"]["inputs"][name] = sha256_file(path)
        (run / "manifest.json").write_text(json.dumps(manifest))
    return f"{name}:{number + 1}: {what}"


def edit_one_field(run: Path, kind: str, rng: random.Random) -> str | None:
    """One seeded single-field edit; what it did, or None when it changes nothing."""
    if kind == "rehashed":
        return _edit_line(run, rng.choice(sorted(FIGURE_FIELDS)), rng, rehash=True)
    name = kind
    path = run / name
    if name.endswith(".jsonl"):
        return _edit_line(run, name, rng, rehash=False)
    data = json.loads(path.read_text())
    if name == "manifest.json":
        inputs = data["stages"]["aggregate"]["inputs"]
        what = _edit(data, ("stages", "aggregate", "inputs", rng.choice(sorted(inputs))), rng)
    elif name == "results.json":
        before = RunResults.model_validate(data)
        what = _edit(data, rng.choice([p for p in _leaves(data) if _vouched(p)]), rng)
        try:
            if RunResults.model_validate(data) == before:
                return None
        except ValueError:
            pass  # no longer valid results: an edit
    else:
        what = _edit(data, rng.choice(_leaves(data)), rng)
    path.write_text(json.dumps(data))
    return f"{name}: {what}"


def test_the_honest_run_passes_everywhere(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(built("base"), run)
    assert gate(tmp_path, POLICY, run)[0] == 0
    assert main(["compare", str(run), str(built("base"))]) == 0
    assert main(["report", str(run)]) == 0


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_single_field_edit_never_passes_silently(tmp_path: Path, trial: int,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED * 1000 + trial)
    run = tmp_path / "run"
    shutil.copytree(built("base"), run)
    what = edit_one_field(run, KINDS[trial % len(KINDS)], rng)
    if what is None:
        pytest.skip("the edit left the parsed results unchanged")
    code, _, summary = gate(tmp_path, POLICY, run)
    assert code != 0, f"gate passed after {what}\n{summary}"
    assert main(["compare", str(run), str(built("base"))]) != 0, f"compare passed after {what}"
    assert main(["compare", str(built("base")), str(run)]) != 0, f"compare passed after {what}"
    assert main(["report", str(run)]) != 0, f"report passed after {what}"
    out = capsys.readouterr().out.strip().splitlines()
    assert out and (out[-1].startswith("report: NOT VERIFIED") or "error" in " ".join(out[-3:])), \
        f"report's last line does not say why after {what}: {out[-3:]}"
