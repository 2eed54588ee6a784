"""The CLR stage on a run directory with recorded calls: re-aggregation needs no model, results.json
shows CLR beside the baselines, a stale clr.json is ignored, and only the draws' answered
trajectories are called on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from helpers import make_sample
from vt_eval import pipeline
from vt_eval.backends.base import Completion, Request
from vt_eval.cards import get_card
from vt_eval.clr.files import ClaimRecord, VerificationRecord
from vt_eval.clr.pools import build_problems, needing_calls
from vt_eval.config import EvalConfig, SamplingParams
from vt_eval.data import Item
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.math import MathGrader
from vt_eval.planning import load_selected, make_plan, read_plan
from vt_eval.records import GOLD_CLUSTER, Sample, Score
from vt_eval.rundir import RunDir
from vt_eval.stages import clr as clr_stage
from vt_eval.stages.aggregate import AggregateStage
from vt_eval.store import read_records, write_records_atomic

ANSWERS = ["70", "12", "12", "12", "\\frac{24}{2}", None]  # the gold of AIME 2025 #1 is 70


def _config() -> EvalConfig:
    return EvalConfig().with_overrides({
        "run.benchmarks": ("aime_2025",), "run.limit": 1, "run.samples": len(ANSWERS),
        "model.backend": "transformers", "clr.enabled": True, "clr.k": 4, "clr.m": 2,
        "clr.repetitions": 6})


def _graded(config: EvalConfig) -> tuple[list[Sample], list[Score]]:
    card = get_card("aime_2025")
    samples = [make_sample("1", f"so \\boxed{{{a}}}" if a else "no idea", i, benchmark=card.name,
                           tokens=100) for i, a in enumerate(ANSWERS)]
    tasks = [GradeTask(card, Item("1", "q", "70"), s) for s in samples]
    scores = sorted(MathGrader().grade(tasks, GradingOptions(timeout_s=30, workers=1)),
                    key=lambda s: s.sample_index)
    return samples, scores


def _calls(run: RunDir, config: EvalConfig, samples: list[Sample]) -> None:
    """Recorded calls: the gold's two claims hold; each "12" has one failing claim (r = 0.25)."""
    extract, verify = clr_stage.step_settings(config.clr, config.sampling.seed)
    common = {"finish_reason": "stop", "prompt_tokens": 50, "completion_tokens": 10,
              "created_at": "t"}
    claims, verdicts = [], []
    for s in samples[:5]:
        claims.append(ClaimRecord(
            benchmark=s.benchmark, item_id=s.item_id, sample_index=s.sample_index,
            settings=extract.digest, prompt_version="clr-extract/v1", seed=1, claims=["a", "b"],
            answer=None, status="ok", rule="claim-lines", extra_dropped=0, reply="", **common))
        for index, claim in enumerate(["a", "b"]):
            holds = s.sample_index == 0 or index == 0
            verdicts.append(VerificationRecord(
                benchmark=s.benchmark, item_id=s.item_id, sample_index=s.sample_index,
                claim_index=index, settings=verify.digest, prompt_version="clr-verify/v1", seed=1,
                claim=claim, verdict=int(holds), status="true" if holds else "false", reply="",
                **common))
    write_records_atomic(run.file("claims.jsonl"), claims)
    write_records_atomic(run.file("verifications.jsonl"), verdicts)


@pytest.fixture()
def graded_run(tmp_path: Path) -> tuple[RunDir, EvalConfig]:
    config = _config()
    run = RunDir(tmp_path / "run")
    run.save_config(config)
    loaded, skipped = load_selected(config, None)
    run.plan_path.write_text(make_plan(config, loaded, skipped, None).model_dump_json())
    samples, scores = _graded(config)
    write_records_atomic(run.samples_path, samples)
    write_records_atomic(run.scores_path, scores)
    return run, config


@pytest.fixture()
def recorded_run(graded_run: tuple[RunDir, EvalConfig]) -> tuple[RunDir, EvalConfig]:
    run, config = graded_run
    _calls(run, config, list(read_records(run.samples_path, Sample)))
    return run, config


def test_recorded_calls_reaggregate_without_a_model(recorded_run: tuple[RunDir, EvalConfig],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    run, config = recorded_run
    def no_model(*args: object) -> None:
        raise AssertionError("re-aggregating recorded calls must not load a model")
    monkeypatch.setattr(clr_stage, "make_backend", no_model)
    results = pipeline.clr_run(run, config, Console(width=200, record=True))
    clr = results.benchmarks[0].extra_metrics["clr"]
    detail = json.loads(run.file("clr.json").read_text())["benchmarks"]["aime_2025"]["per_item"][0]
    # The "12" cluster (three forms, r = 0.25 each) is the majority; the reliable gold wins
    # exactly in the repetitions whose draw holds it.
    for rep in detail["repetitions"]:
        assert rep["majority"] != GOLD_CLUSTER
        assert (rep["chosen"] == GOLD_CLUSTER) == (0 in rep["drawn"])
        assert len(rep["drawn"]) == 4
        twelve = [c for c in rep["clusters"].values() if c["answer"] in ("12", "\\frac{24}{2}")]
        assert len(twelve) == 1  # 12 and \frac{24}{2} are one answer
    wins = sum(0 in rep["drawn"] for rep in detail["repetitions"])
    assert 0 < wins < 6  # seeded draws: some hold the gold, some do not
    assert clr["clr_accuracy"] == pytest.approx(wins / 6) and clr["maj_at_k"] == 0
    assert clr["pass_at_k"] == pytest.approx(wins / 6) and clr["independent_draws"] is True
    assert clr["parsing"]["verdicts"] == {"true": 6, "false": 4, "unparsable": 0, "truncated": 0}
    assert clr["outcomes"]["fixed"] == wins
    assert any(line.startswith("CLR@4 (M=2, R=6") for line in results.benchmarks[0].summary)
    report = run.manifest().stages["clr"]
    assert report.counts["extraction_calls"] == 0 and report.counts["verification_calls"] == 0
    assert report.details["choices"]["all_zero"].startswith("every answered trajectory")
    assert "clr" in results.policies


def test_a_clr_json_of_other_scores_is_ignored(recorded_run: tuple[RunDir, EvalConfig],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run, config = recorded_run
    monkeypatch.setattr(clr_stage, "make_backend", None)
    pipeline.clr_run(run, config, Console(width=200))
    scores = run.scores_path.read_text().replace('"incorrect"', '"needs_judge"', 1)
    run.scores_path.write_text(scores)  # e.g. re-graded or judged after CLR ran
    results = pipeline.score_run(run, Console(width=200), {}, stages=[AggregateStage()])
    assert "clr" not in results.benchmarks[0].extra_metrics
    assert any("clr.json was made from other scores" in w for w in results.warnings)


def test_only_the_draws_answered_trajectories_need_calls(recorded_run: tuple[RunDir, EvalConfig]
                                                         ) -> None:
    run, config = recorded_run
    plan = read_plan(run.plan_path)
    assert plan is not None
    problems = build_problems(plan, read_records(run.samples_path, Sample),
                              read_records(run.scores_path, Score))["aime_2025"]
    answered = needing_calls(problems, 4, 6, plan.run_seed, answered_only=True)
    every = needing_calls(problems, 4, 6, plan.run_seed, answered_only=False)
    assert 5 not in {s.sample_index for s in answered}  # "no idea" has no answer cluster
    assert {s.sample_index for s in answered} == {s.sample_index for s in every} - {5}
    assert needing_calls(problems, 4, 1, plan.run_seed, answered_only=False).__len__() == 4


def test_an_unknown_prompt_version_fails_before_any_call(recorded_run: tuple[RunDir, EvalConfig]
                                                         ) -> None:
    from vt_eval.errors import ConfigError
    run, config = recorded_run
    with pytest.raises(ConfigError, match="unknown extraction prompt 'clr-extract/v9'"):
        pipeline.clr_run(run, config.with_overrides({"clr.extract_prompt": "clr-extract/v9"}),
                         Console(width=200))


def test_run_tts_clr_defaults_k_to_clrs_k(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vt_eval import cli
    from vt_eval.commands.run import run_config
    monkeypatch.chdir(tmp_path)
    parse = cli.build_parser().parse_args
    config = run_config(parse(["run", "--tts", "clr"]))
    assert config.clr.enabled and config.run.samples == 32
    assert run_config(parse(["run", "--tts", "clr", "-k", "8"])).run.samples == 8
    plain = run_config(parse(["run"]))
    assert not plain.clr.enabled and plain.run.samples == 0
    assert cli.main(["clr", str(tmp_path / "nothing")]) == 2  # not a run directory


class ScriptedModel:
    """A stand-in model for the call bookkeeping (the real one is in test_clr_e2e.py): claims
    "a" and "b" for every trajectory; the gold's (sample 0) both hold, the others' "b" fails."""

    name = "scripted"
    capabilities = frozenset({"chat"})

    def __init__(self) -> None:
        self.calls: list[tuple[list[Request], SamplingParams]] = []

    def generate(self, requests: list[Request], params: SamplingParams) -> Iterator[Completion]:
        self.calls.append((list(requests), params))
        for r in requests:
            if "#c" not in r.key[1]:
                reply = "CLAIM 1: a\nCLAIM 2: b\nFINAL ANSWER: 70"
            else:
                reply = f"VERDICT: {r.key[2] == 0 or r.key[1].endswith('#c0')}".upper()
            yield Completion(r.key, reply, "stop", 40, 5, 0.0)

    def effective_params(self, params: SamplingParams) -> dict[str, object]:
        return {}

    def provenance(self) -> dict[str, object]:
        return {"model": "scripted"}

    def close(self) -> None:
        pass


def test_one_generate_call_per_step_and_no_recorded_call_repeated(
        graded_run: tuple[RunDir, EvalConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    run, config = graded_run
    model = ScriptedModel()
    monkeypatch.setattr(clr_stage, "make_backend", lambda *args: model)
    results = pipeline.clr_run(run, config, Console(width=200))
    assert len(model.calls) == 2  # all extractions in one call, then all verifications
    extraction, verification = model.calls
    plan = read_plan(run.plan_path)
    assert plan is not None
    problems = build_problems(plan, read_records(run.samples_path, Sample),
                              read_records(run.scores_path, Score))["aime_2025"]
    drawn = {s.sample_index for s in needing_calls(problems, 4, 6, 0, True)}
    assert sorted(r.key[2] for r in extraction[0]) == sorted(drawn) and 5 not in drawn
    assert len({r.key for r in verification[0]}) == len(verification[0]) == 2 * len(drawn)
    assert extraction[1].max_tokens == verification[1].max_tokens == 4096
    assert extraction[1].temperature == 0.6 and len({r.seed for r in extraction[0]}) == len(drawn)
    clr = results.benchmarks[0].extra_metrics["clr"]
    assert clr["parsing"]["claims"]["ok"] == len(drawn) and clr["maj_at_k"] == 0
    assert clr["spent"]["prompt_tokens"] == 40 * 3 * len(drawn)

    changed = config.with_overrides({"clr.verify_max_tokens": 100})
    pipeline.clr_run(run, changed, Console(width=200))  # verification settings changed
    assert len(model.calls) == 3 and model.calls[2][1].max_tokens == 100
    assert len(model.calls[2][0]) == 2 * len(drawn)  # only the verifications are redone
    report = run.manifest().stages["clr"]
    assert any("made with other CLR settings ignored" in w for w in report.details["warnings"])

    pipeline.clr_run(run, changed.with_overrides({"clr.repetitions": 2}), Console(width=200))
    assert len(model.calls) == 3  # fewer repetitions: every drawn trajectory is already checked
    pipeline.clr_run(run, changed, Console(width=200))
    assert len(model.calls) == 3
