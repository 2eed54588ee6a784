"""The LLM judge: strict parser on recorded replies; plumbing, retries, cache, accounting and bad
servers against real HTTP servers (a scripted one, and the fixture model behind `transformers serve`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from vt_eval.config import EvalConfig
from vt_eval.data import load_benchmark
from vt_eval.cards import get_card
from vt_eval.errors import BackendError
from vt_eval.grading.math import judge_reason
from vt_eval.judge import PROMPT_VERSION, JudgeSettings
from vt_eval.judge.parse import parse_verdict
from vt_eval.judge.prompt import judge_messages
from vt_eval.records import Sample, Score
from vt_eval.rundir import RunDir
from vt_eval.pipeline import score_run
from vt_eval.store import read_records

from helpers import ScriptedServerHandler

# Replies as judge models actually write them (the last two recorded from SmolLM2-135M-Instruct).
RECORDED = [
    ("The forms differ only in order.\nVERDICT: EQUIVALENT", "equivalent"),
    ("Both describe the same set.\n\n**VERDICT: EQUIVALENT**", "equivalent"),
    ("<think>compare... VERDICT: NOT_EQUIVALENT?</think>They match.\nVERDICT: EQUIVALENT", "equivalent"),
    ("The student misses a solution.\nVERDICT: NOT_EQUIVALENT", "not_equivalent"),
    ("verdict: not equivalent", "not_equivalent"),
    ("- VERDICT: NOT_EQUIVALENT.", "not_equivalent"),
    ("VERDICT: EQUIVALENT\nVERDICT: NOT_EQUIVALENT", None),
    ("I think the VERDICT: EQUIVALENT is right because", None),
    ("EQUIVALENT", None),
    ("<think>VERDICT: EQUIVALENT", None),
    ("VERDICT: PROBABLY EQUIVALENT", None),
    ("", None),
    ("The reference answer is correct. The student's answer is also correct.", None),
    ("To determine if the student's final answer is equivalent, we need to", None),
]


@pytest.mark.parametrize(("reply", "expected"), RECORDED)
def test_strict_parser_on_recorded_replies(reply: str, expected: str | None) -> None:
    assert parse_verdict(reply).verdict == expected


def test_prompt_is_versioned_and_keeps_latex_braces() -> None:
    [message] = judge_messages("Find $f$ with {x}.", "$f(x)=\\frac{1}{x}$", "f(x)=1/x")
    assert "$f(x)=\\frac{1}{x}$" in message["content"] and "{x}" in message["content"]
    assert PROMPT_VERSION == "equiv/1"


class _Scripted(ScriptedServerHandler):
    """Judges by keyword in the candidate answer; `die_after` requests later it only 503s."""

    model_id = "judge"
    requests = 0
    die_after: int | None = None
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with _Scripted.lock:
            _Scripted.requests += 1
            dead = _Scripted.die_after is not None and _Scripted.requests > _Scripted.die_after
        if dead:
            self._reply(503, {"error": "gone"})
            return
        answer = body["messages"][-1]["content"].split("Student's final answer:")[1]
        if "GARBAGE" in answer:
            text = "Well, it depends."
        elif "NOTJSON" in answer:
            self._reply(200, b"<html>proxy error</html>")
            return
        else:
            text = "Same thing.\nVERDICT: " + ("EQUIVALENT" if "GOOD" in answer else "NOT_EQUIVALENT")
        self._reply(200, {"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 5, "completion_tokens": 5}})


@pytest.fixture
def scripted() -> Iterator[str]:
    _Scripted.requests, _Scripted.die_after = 0, None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


IMO = get_card("imo_answerbench")


@pytest.fixture(scope="module")
def imo_items():
    items = load_benchmark(IMO).items
    prose = [i for i in items if judge_reason(i.answer)]
    numeric = [i for i in items if not judge_reason(i.answer) and i.answer.strip().isdigit()]
    return prose, numeric


def make_run(tmp_path: Path, responses: list[tuple[str, str]], limit: int = 0) -> RunDir:
    """A run directory holding IMO-AnswerBench samples (item id, response), as generate writes them."""
    run = RunDir(tmp_path / "run")
    config = EvalConfig().with_overrides({"run.benchmarks": ("imo_answerbench",),
                                          "run.samples": max(len(responses), 1)})
    run.save_config(config)
    with run.samples_path.open("w") as handle:
        counts: dict[str, int] = {}
        for item_id, response in responses:
            index = counts.get(item_id, 0)
            counts[item_id] = index + 1
            sample = Sample(benchmark="imo_answerbench", item_id=item_id, sample_index=index, seed=1,
                            messages=[{"role": "user", "content": "q"}], response=response,
                            finish_reason="stop", completion_tokens=3,
                            created_at="2026-11-23T00:00:00+00:00")
            handle.write(sample.model_dump_json() + "\n")
    return run


def by_key(run: RunDir) -> dict[tuple[str, int], Score]:
    return {(s.item_id, s.sample_index): s for s in read_records(run.scores_path, Score)}


def judge_block(results, name="imo_answerbench") -> dict:
    return next(b for b in results.benchmarks if b.benchmark == name).extra_metrics["judge"]


def test_judge_settles_needs_judge_with_retries_cache_and_accounting(scripted: str, tmp_path: Path,
                                                                     imo_items) -> None:
    prose, numeric = imo_items
    p, n = prose[0].id, numeric[0].id
    run = make_run(tmp_path, [(p, "\\boxed{GOOD form}"), (p, "\\boxed{BAD form}"),
                              (p, "\\boxed{GARBAGE}"), (p, "\\boxed{GOOD form}"),
                              (n, f"\\boxed{{{numeric[0].answer.strip()}}}"), (n, "\\boxed{12345}")])
    settings = JudgeSettings(base_url=scripted, model="judge", attempts=2)
    results = score_run(run, Console(), {"judge": settings})
    scores = by_key(run)
    assert [scores[(p, i)].verdict for i in range(4)] == ["correct", "incorrect", "judge_error",
                                                          "correct"]
    assert scores[(p, 0)].details["rule_verdict"] == "needs_judge"
    assert scores[(p, 0)].details["judge"]["prompt_version"] == PROMPT_VERSION
    # Rule-settled samples are untouched in the default scope.
    assert scores[(n, 0)].verdict == "correct" and scores[(n, 1)].verdict == "incorrect"
    judge = judge_block(results)
    assert judge["judged_samples"] == 4 and judge["distinct_questions"] == 3
    assert judge["judge_errors"] == 1
    assert judge["calls_sent"] == 4  # GOOD, BAD, GARBAGE, GARBAGE retried; duplicate GOOD asked once
    assert judge["rule_graded"]["items_needing_judge"] == 1
    assert judge["judge_graded"]["items_needing_judge"] == 1  # judge_error keeps the item unsettled
    result = next(b for b in results.benchmarks if b.benchmark == "imo_answerbench")
    assert result.verdicts["judge_error"] == 1
    manifest = json.loads(run.manifest_path.read_text())
    judge = manifest["stages"]["judge"]["details"]
    assert judge["model"] == "judge" and judge["prompt_version"] == PROMPT_VERSION
    assert "judge" in results.policies
    cached = (run.path / "judge_cache.jsonl").read_text().splitlines()
    assert len(cached) == 2  # only parsed verdicts are cached
    # Re-scoring costs nothing for the settled pairs; only the judge_error is asked again.
    before = _Scripted.requests
    again = judge_block(score_run(run, Console(), {"judge": settings}))
    assert again["cache_hits"] == 2 and again["calls_sent"] == 2
    assert _Scripted.requests - before == 2
    assert by_key(run)[(p, 0)].verdict == "correct"


def test_scope_all_measures_agreement_and_never_overrules_rule_correct(scripted: str, tmp_path: Path,
                                                                       imo_items) -> None:
    _, numeric = imo_items
    item = numeric[0]
    # The scripted judge says NOT_EQUIVALENT to the (rule-correct) gold and EQUIVALENT to "GOOD".
    run = make_run(tmp_path, [(item.id, f"\\boxed{{{item.answer.strip()}}}"),
                              (item.id, "\\boxed{x = GOOD}"), (item.id, "\\boxed{x = nope}")])
    results = score_run(run, Console(), {"judge": JudgeSettings(base_url=scripted, model="judge", scope="all")})
    scores = by_key(run)
    assert scores[(item.id, 0)].verdict == "correct"  # rule-verified equality stands
    assert scores[(item.id, 1)].verdict == "correct"  # rule incorrect -> judge equivalent
    assert scores[(item.id, 2)].verdict == "incorrect"
    agreement = judge_block(results)["agreement"]
    assert agreement["samples"] == 3 and agreement["agreed"] == 1
    assert agreement["table"] == {"rule correct / judge incorrect": 1,
                                  "rule incorrect / judge correct": 1,
                                  "rule incorrect / judge incorrect": 1}


def test_server_dying_midway_keeps_finished_verdicts(scripted: str, tmp_path: Path, imo_items) -> None:
    prose, _ = imo_items
    run = make_run(tmp_path, [(prose[0].id, "\\boxed{GOOD a}"), (prose[1].id, "\\boxed{BAD b}"),
                              (prose[2].id, "\\boxed{GOOD c}")])
    _Scripted.die_after = 1
    settings = JudgeSettings(base_url=scripted, model="judge", concurrency=1)
    results = score_run(run, Console(), {"judge": settings})
    verdicts = sorted(s.verdict for s in by_key(run).values())
    assert verdicts.count("judge_error") == 2 and len(verdicts) == 3
    assert any("judge: the server failed" in w and "run `vt-eval score` again" in w
               for w in results.warnings)
    assert len((run.path / "judge_cache.jsonl").read_text().splitlines()) == 1
    _Scripted.die_after = None
    again = judge_block(score_run(run, Console(), {"judge": settings}))
    assert again["cache_hits"] == 1 and again["judge_errors"] == 0


def test_non_json_reply_is_judge_error_never_wrong(scripted: str, tmp_path: Path, imo_items) -> None:
    prose, _ = imo_items
    run = make_run(tmp_path, [(prose[0].id, "\\boxed{NOTJSON}")])
    results = score_run(run, Console(), {"judge": JudgeSettings(base_url=scripted, model="judge")})
    [score] = by_key(run).values()
    assert score.verdict == "judge_error" and "unparsable response" in score.explanation
    assert results.warnings


def test_nothing_listening_is_a_clear_error(tmp_path: Path, imo_items) -> None:
    prose, _ = imo_items
    run = make_run(tmp_path, [(prose[0].id, "\\boxed{x}")])
    with pytest.raises(BackendError, match="no OpenAI-compatible server answers"):
        score_run(run, Console(), {"judge": JudgeSettings(base_url="http://127.0.0.1:9/v1", model="m")})


def test_no_server_needed_when_nothing_needs_judging(tmp_path: Path, imo_items) -> None:
    _, numeric = imo_items
    run = make_run(tmp_path, [(numeric[0].id, "\\boxed{1}")])
    results = score_run(run, Console(), {"judge": JudgeSettings(base_url="http://127.0.0.1:9/v1", model="m")})
    assert judge_block(results)["judged_samples"] == 0


@pytest.mark.slow
def test_real_fixture_model_as_judge(openai_server: object, tmp_path: Path, imo_items) -> None:
    """SmolLM2-135M is a poor judge: the test checks plumbing, parsing, caching and accounting."""
    prose, _ = imo_items
    # Answers the rules cannot settle (a copy of the gold is now settled by rule: math/2).
    run = make_run(tmp_path, [(prose[0].id, "\\boxed{\\text{every cubic } 2x^3 \\text{ up to sign, plus a constant}}"),
                              (prose[1].id, "\\boxed{42}")])
    settings = JudgeSettings(base_url=openai_server.base_url, model=openai_server.model,
                             attempts=1, max_tokens=24, temperature=0.0, concurrency=1)
    results = score_run(run, Console(), {"judge": settings})
    judge = judge_block(results)
    scores = list(by_key(run).values())
    print("fixture judge:", {k: judge[k] for k in ("judge_errors", "transitions", "calls_sent")},
          [s.details["judge"].get("reply", s.details["judge"].get("error", ""))[-120:] for s in
           by_key(run).values()])
    assert judge["judged_samples"] == 2 and judge["calls_sent"] == 2
    assert all(s.verdict in ("correct", "incorrect", "judge_error") for s in scores)
    errors = sum(s.verdict == "judge_error" for s in scores)
    assert judge["judge_errors"] == errors
    cache_lines = (run.path / "judge_cache.jsonl").read_text().splitlines() \
        if (run.path / "judge_cache.jsonl").exists() else []
    assert len(cache_lines) == 2 - errors
    for s in scores:
        assert s.details["judge"]["model"] == openai_server.model
    again = judge_block(score_run(run, Console(), {"judge": settings}))
    assert again["cache_hits"] == 2 - errors and again["calls_sent"] == errors
