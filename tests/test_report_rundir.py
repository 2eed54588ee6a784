"""Synthetic run dirs for the scorecard, compare and gate tests, made without a model: samples are
written by hand and `vt-eval score` (in process) grades, aggregates and reports them. Also tests
that the report stage runs as part of `score` and that results.json is checked against the files."""

from __future__ import annotations

import atexit
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from rich.console import Console

from vt_eval.cards import get_card
from vt_eval.config import EvalConfig
from vt_eval.data import Item, load_benchmark
from vt_eval.pipeline import score_run
from vt_eval.report.integrity import consistency_problems
from vt_eval.report.rundata import load_run
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter

from helpers import make_sample

SCRIPT = '<script>alert("pwned")</script><b>bold</b>'
Respond = Callable[[int, Item, int], tuple[str, str]]  # (item #, item, sample) -> response, finish


def base_response(number: int, item: Item, index: int) -> tuple[str, str]:
    """item 0 always right; 1: half right, one with markup, one truncated; 2: wrong; 3: 1/4."""
    right = f"so the answer is \\boxed{{{item.answer}}}"
    if number == 0:
        return right, "stop"
    if number == 1:
        return [(right, "stop"), (right, "stop"), (f"{SCRIPT} \\boxed{{1}}", "stop"),
                ("and so on", "length")][index % 4]
    if number == 2:
        return "a | pipe | in text \\boxed{2}", "stop"
    return (right, "stop") if index == 0 else ("I give up", "stop")


def make_run(path: Path, respond: Respond = base_response, items: int = 4, k: int = 4,
             drop_last: int = 0, benchmark: str = "aime_2025") -> Path:
    """A scored run dir at `path` (config, plan, samples, scores, results, scorecard)."""
    chosen = load_benchmark(get_card(benchmark)).items[:items]
    config = EvalConfig().with_overrides({"run.benchmarks": (benchmark,), "run.limit": items,
                                          "run.samples": k, "model.backend": "transformers",
                                          "sampling.max_tokens": 400})
    run = RunDir(path)
    run.save_config(config)
    samples = []
    for number, item in enumerate(chosen):
        for index in range(k):
            response, finish = respond(number, item, index)
            samples.append(make_sample(item.id, response, index, finish, benchmark,
                                       tokens=400 if finish == "length" else 50 + 37 * index))
    with JsonlWriter(run.samples_path) as writer:
        for sample in samples[:len(samples) - drop_last]:
            writer.write(sample)
    score_run(run, Console(file=io.StringIO()))
    return path


_ROOT = Path(tempfile.mkdtemp(prefix="vt-eval-report-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


@cache
def built(kind: str) -> Path:
    """Runs shared by the tests (built once per session; copy before changing one)."""
    def all_right(number: int, item: Item, index: int) -> tuple[str, str]:
        return f"\\boxed{{{item.answer}}}", "stop"

    def all_wrong(number: int, item: Item, index: int) -> tuple[str, str]:
        return "\\boxed{100000}", "stop"

    makers: dict[str, Callable[[Path], Path]] = {
        "base": lambda p: make_run(p),
        "partial": lambda p: make_run(p, drop_last=3),
        "good10": lambda p: make_run(p, all_right, items=10, k=2),
        "bad10": lambda p: make_run(p, all_wrong, items=10, k=2),
        "bad8": lambda p: make_run(p, all_wrong, items=8, k=2),
    }
    return makers[kind](_ROOT / kind)


def copy_run(kind: str, target: Path) -> Path:
    shutil.copytree(built(kind), target)
    return target


def edit_results(run: Path, change: Callable[[dict], None]) -> None:
    path = run / "results.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_score_writes_the_scorecard_as_its_last_stage() -> None:
    run = built("base")
    assert (run / "scorecard.html").stat().st_size > 1000
    assert (run / "scorecard.md").read_text().startswith("## vt-eval scorecard")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["report"]["status"] == "done"
    assert manifest["stages"]["report"]["details"]["status"] == "complete"


def test_a_scored_run_is_consistent() -> None:
    assert consistency_problems(load_run(built("base"))) == []


def test_tampered_results_are_named(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")

    def inflate(data: dict) -> None:
        data["benchmarks"][0]["avg_at_k"] = 0.99
        data["benchmarks"][0]["per_item"][2]["correct"] = 4

    edit_results(run, inflate)
    problems = consistency_problems(load_run(run))
    assert any("avg@k 0.99 is not the mean" in p for p in problems)
    assert any("in results.json" in p and "in scores.jsonl" in p for p in problems)


def test_scores_changed_after_aggregation_are_stale(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    scores = run / "scores.jsonl"
    scores.write_text(scores.read_text().replace('"incorrect"', '"correct"'))
    problems = consistency_problems(load_run(run))
    assert any("scores.jsonl changed after results.json was written" in p for p in problems)
