"""The seams: a toy stage and a toy grader added from test code alone run through the CLI; every
shipped card validates with its grader's options model; the manifest has one owner; stages skip
when their inputs are unchanged; clustering uses each grader's own equivalence."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from helpers import make_sample, make_task
from vt_eval import cli, pipeline
from vt_eval.cards import all_cards, get_card
from vt_eval.config import EvalConfig
from vt_eval.data import load_benchmark
from vt_eval.errors import ConfigError
from vt_eval.frozen import Frozen
from vt_eval.grading import GRADERS, get_grader
from vt_eval.grading.base import GradeTask, Grader, GradingOptions
from vt_eval.grading.math import MathGrader
from vt_eval.records import GOLD_CLUSTER, Score
from vt_eval.rundir import RunDir
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import JsonlWriter


class ToyMetrics(Frozen):
    samples: int


class ToyGrader(Grader):
    """Correct when the response contains the gold."""

    name = "toy"
    version = "1"
    policies = {"answer": "substring match"}

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        for task in tasks:
            hit = task.item.answer in task.sample.response
            yield self.score(task, "correct" if hit else "incorrect", task.sample.response[:20],
                             "gold is a substring" if hit else "gold is not a substring")

    def extra_metrics(self, tasks: Sequence[GradeTask], scores: Sequence[Score]) -> ToyMetrics:
        return ToyMetrics(samples=len(scores))

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        return [f"toy grader saw {metrics['samples']} samples"]


class ToyStage(Stage):
    """Counts correct scores into toy.json."""

    name = "toy"
    reads = ("scores.jsonl",)
    writes = ("toy.json",)

    def execute(self, ctx: StageContext) -> StageOutcome:
        lines = ctx.run.scores_path.read_text().splitlines()
        correct = sum(json.loads(line)["verdict"] == "correct" for line in lines)
        ctx.run.file("toy.json").write_text(json.dumps({"correct": correct}))
        return StageOutcome(counts={"correct": correct}, versions={"toy": "1"})


def make_run(tmp_path: Path, benchmark: str, answers: list[list[str]]) -> RunDir:
    """A run dir as `run` leaves it before scoring: config.toml and samples.jsonl."""
    items = load_benchmark(get_card(benchmark)).items[:len(answers)]
    config = EvalConfig().with_overrides({"run.benchmarks": (benchmark,), "run.limit": len(answers),
                                          "run.samples": len(answers[0]),
                                          "model.backend": "transformers"})
    run = RunDir(tmp_path / "run")
    run.save_config(config)
    with JsonlWriter(run.samples_path) as writer:
        for item, responses in zip(items, answers):
            for index, response in enumerate(responses):
                writer.write(make_sample(item.id, response.replace("GOLD", item.answer), index,
                                         benchmark=benchmark))
    return run


def test_a_toy_stage_and_grader_from_test_code_run_through_the_cli(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRADERS, "toy", ToyGrader)
    toy_card = get_card("aime_2025").model_copy(update={"name": "toy_bench", "grader": "toy"})
    monkeypatch.setitem(all_cards(), "toy_bench", toy_card)
    stages = pipeline.SCORE_STAGES
    at = [s.name for s in stages].index("aggregate")
    monkeypatch.setattr(pipeline, "SCORE_STAGES", [*stages[:at], ToyStage(), *stages[at:]])
    run = make_run(tmp_path, "toy_bench", [["GOLD", "nope"], ["nope", "nope"]])

    assert cli.main(["score", str(run.path)]) == 0

    results = json.loads(run.results_path.read_text())
    (bench,) = results["benchmarks"]
    assert bench["benchmark"] == "toy_bench" and bench["grader"] == "toy/1"
    assert bench["avg_at_k"] == 0.25 and bench["verdicts"]["correct"] == 1
    assert bench["extra_metrics"]["toy"] == {"samples": 4}
    assert bench["summary"] == ["toy grader saw 4 samples"]
    assert results["policies"]["toy/1"] == {"answer": "substring match"}
    assert json.loads(run.file("toy.json").read_text()) == {"correct": 1}
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["stages"]["toy"]["counts"] == {"correct": 1}
    assert {"plan", "grade", "toy", "aggregate"} <= set(manifest["stages"])
    assert list(manifest["stages"]).index("toy") < list(manifest["stages"]).index("aggregate")


def test_every_shipped_card_validates_with_its_graders_options() -> None:
    for card in all_cards().values():
        get_grader(card.grader).options(card)


def test_a_card_option_its_grader_does_not_know_is_refused() -> None:
    card = get_card("leetcode_contests")
    bad = card.model_copy(update={"options": {**card.options, "test_timeout": 3}})
    with pytest.raises(ConfigError, match=r"leetcode_contests.*options.test_timeout"):
        get_grader("code").options(bad)
    nan = card.model_copy(update={"options": {**card.options, "test_timeout_s": float("nan")}})
    with pytest.raises(ConfigError, match="test_timeout_s"):
        get_grader("code").options(nan)


def test_stages_skip_when_inputs_are_unchanged_and_rerun_when_they_change(tmp_path: Path) -> None:
    run = make_run(tmp_path, "aime_2025", [["\\boxed{GOLD}", "\\boxed{1}"]])
    console = Console(width=120)
    ctx = StageContext(run, run.load_config(), console, None, {"recorded_data": True})
    first = pipeline.run_stages(pipeline.SCORE_STAGES, ctx)
    assert [r.name for r in first][:3] == ["plan", "grade", "aggregate"]
    assert pipeline.run_stages(pipeline.SCORE_STAGES, ctx) == []  # nothing changed: all skipped
    with run.samples_path.open("a") as handle:  # a changed samples.jsonl changes grade's input
        handle.write(make_sample(first_item(), "\\boxed{2}", 1, benchmark="aime_2025")
                     .model_dump_json() + "\n")
    again = pipeline.run_stages(pipeline.SCORE_STAGES, ctx)
    assert [r.name for r in again][:2] == ["grade", "aggregate"]


def first_item() -> str:
    return load_benchmark(get_card("aime_2025")).items[0].id


def test_math_answers_cluster_by_equivalence_not_text() -> None:
    tasks = [make_task("3/4", f"\\boxed{{{answer}}}", index=i)
             for i, answer in enumerate(["1/2", "0.5", "\\frac{1}{2}", "3/4", "0.75", "2"])]
    scores = sorted(MathGrader().grade(tasks, GradingOptions(timeout_s=20, workers=1)),
                    key=lambda s: s.sample_index)
    clusters = [s.cluster for s in scores]
    assert clusters[0] == clusters[1] == clusters[2] != clusters[5]
    assert clusters[3] == clusters[4] == GOLD_CLUSTER  # 0.75 is exactly the gold 3/4
    assert [s.verdict for s in scores] == ["incorrect"] * 3 + ["correct"] * 2 + ["incorrect"]


def test_clusters_read_answers_as_the_grader_does() -> None:
    tasks = [make_task("5", f"\\boxed{{{answer}}}", index=i) for i, answer in
             enumerate(["0.\\overline{4}", "4/9", "(10^{10})!", "(10^{10})!"])]
    scores = sorted(MathGrader().grade(tasks, GradingOptions(timeout_s=20, workers=1)),
                    key=lambda s: s.sample_index)
    assert scores[0].cluster == scores[1].cluster == "math:4/9"
    assert scores[2].cluster == scores[3].cluster == "text:(10^{10})!"


def test_manifest_updates_from_two_writers_are_not_lost(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.update_manifest(status="running")
    run.update_manifest(model={"backend": "x"})
    manifest = run.manifest()
    assert manifest.status == "running" and manifest.model == {"backend": "x"}


def test_a_legacy_manifest_still_reads(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.create()
    run.manifest_path.write_text(json.dumps({
        "run_id": "r", "status": "scored", "seeds": {"run_seed": 3, "per_sample": "blake2b(...)"},
        "sessions": [{"started_at": "t", "already_done": 0, "planned": 2}],
        "judge": {"model": "j"}, "sampling": {"temperature": 1.0, "top_p": 0.95, "top_k": -1,
                                              "max_tokens": 8, "seed": 3}}))
    manifest = run.manifest()
    assert manifest.seeds.run_seed == 3 and manifest.seeds.scheme == "blake2b-31/v1"
    assert manifest.legacy == {"judge": {"model": "j"}}
