"""`vt-eval verdict` on a real run directory made without a model: samples written by hand over
the shipped AIME 2025 and AIME 2026 snapshots (k = 1), graded, aggregated and reported by the real
`vt-eval score`; then the real `decontam audit` on a planted training file, the real `freshness`,
and the verdict through the CLI. Every line in each of its three states, and its statistics held
against a direct computation: scipy's bootstrap, Fisher's exact test, the normal-approximation
power formula."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from scipy import stats

from vt_eval.cards import get_card
from vt_eval.cli import main
from vt_eval.config import EvalConfig
from vt_eval.data import load_benchmark
from vt_eval.pipeline import score_run
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter
from vt_eval.records import Score
from vt_eval.results import BenchmarkResult
from vt_eval.verdict.build import powerless
from vt_eval.verdict.claim import claim_line, find_claim, matching_measure
from vt_eval.verdict.model import Line

from helpers import make_sample

BENCHMARKS = ("aime_2025", "aime_2026")
CUTOFF = "2025-06-30"


def planted(benchmark: str, number: int) -> bool:
    """aime_2025: 20/30 right (not every third); aime_2026: 7/30 (every fourth)."""
    return number % 3 != 0 if benchmark == "aime_2025" else number % 4 == 0


def make_run(path: Path, right: Callable[[str, int], bool] = planted,
             claims: dict[str, float] | None = None) -> Path:
    config = EvalConfig().with_overrides({"run.benchmarks": BENCHMARKS, "run.samples": 1,
                                          "model.backend": "transformers",
                                          "grading.timeout_s": 120.0})  # a busy machine
    if claims:
        config = config.model_copy(update={"claims": claims})
    run = RunDir(path)
    run.save_config(config)
    with JsonlWriter(run.samples_path) as writer:
        for name in BENCHMARKS:
            for item in load_benchmark(get_card(name)).items:
                answer = item.answer if right(name, int(item.id)) else "100001"
                writer.write(make_sample(item.id, f"so \\boxed{{{answer}}}", 0, benchmark=name))
    score_run(run, Console(file=io.StringIO()))
    return path


def vt_eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], capture_output=True,
                          text=True, timeout=600)


@cache
def shared(kind: str, root: Path) -> Path:
    """Built once per session: the run (`run`), the audit of a planted training file (`audit`)."""
    if kind == "run":
        return make_run(root / "run", claims={"aime_2026": 25.0})
    items = {i.id: i for i in load_benchmark(get_card("aime_2025")).items}
    train = root / "sft.jsonl"
    rows = [{"text": f"Problem: {items['1'].question} Solution: ... so the answer is "
                     f"{items['1'].answer}."},  # question and answer
            {"text": f"Exercise. {items['4'].question} Try it yourself."},  # question only
            {"text": "An unrelated paragraph about the weather in spring."}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = vt_eval("decontam", "audit", "--train", str(train), "--benchmarks", ",".join(BENCHMARKS),
                   "--out", str(root / "audit"), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "audit"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verdict")


def copy_run(root: Path, target: Path) -> Path:
    shutil.copytree(shared("run", root), target)
    return target


def verdict(run: Path, *args: str) -> tuple[int, dict]:
    """`vt-eval verdict RUN --format json ARGS` in process: (exit code, the JSON printed)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["verdict", str(run), "--format", "json", *args])
    assert out.getvalue().startswith("{"), (code, out.getvalue()[-2000:], err.getvalue()[-2000:])
    return code, json.loads(out.getvalue())


def line(data: dict, benchmark: str, question: str) -> dict:
    bench = next(b for b in data["benchmarks"] if b["benchmark"] == benchmark)
    return next(entry for entry in bench["lines"] if entry["question"] == question)


def accuracies(run: Path, benchmark: str) -> np.ndarray:
    scores = [json.loads(s) for s in (run / "scores.jsonl").read_text().splitlines()]
    return np.array([s["verdict"] == "correct" for s in scores if s["benchmark"] == benchmark],
                    dtype=float)


def test_with_nothing_given_every_check_is_not_checked(root: Path, tmp_path: Path) -> None:
    run = make_run(tmp_path / "bare")
    code, data = verdict(run)
    assert code == 0 and data["integrity"] == "verified complete"
    for bench in data["benchmarks"]:
        assert [entry["state"] for entry in bench["lines"]] == ["not_checked"] * 5
        assert all(entry["reason"] and entry["power"] is None for entry in bench["lines"])
        assert "nothing was checked beyond the measurement" in bench["strongest"]
    # the reproducibility line: files agree, but no generation session says whether the samples
    # could be made again (hand-written samples)
    repro = line(data, "aime_2025", "reproducibility")
    assert repro["detail"]["integrity_verified"] is True and repro["detail"]["samples"] == 30
    page = (run / "scorecard.md").read_text()  # written by `score`: the panel opens the page
    assert page.index("## Verdict: is this score real?") < page.index("| benchmark |")
    assert page.count("| **not checked** |") == 10


def test_claim_states_and_the_measurement_against_a_direct_bootstrap(root: Path) -> None:
    run = shared("run", root)
    code, data = verdict(run, "--claim", "aime_2025=91.4")
    assert code == 0
    above = line(data, "aime_2025", "claim")
    assert above["state"] == "evidence_found" and above["detail"]["relation"] == "below"
    assert above["detail"]["source"] == "--claim" and above["detail"]["claimed"] == pytest.approx(0.914)
    consistent = line(data, "aime_2026", "claim")  # [claims] aime_2026 = 25.0 in the run's config
    assert consistent["state"] == "no_evidence_found"
    assert consistent["detail"]["source"] == "config [claims]"
    assert "measured below the claim" in above["summary"]
    for name, entry in (("aime_2025", above), ("aime_2026", consistent)):
        values = accuracies(run, name)
        assert entry["detail"]["measured"] == pytest.approx(values.mean(), abs=1e-12)
        direct = stats.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile",
                                 confidence_level=0.95, random_state=np.random.default_rng(7))
        ci = entry["detail"]["ci95"]
        assert ci["low"] == pytest.approx(direct.confidence_interval.low, abs=0.035)
        assert ci["high"] == pytest.approx(direct.confidence_interval.high, abs=0.035)
    power = consistent["power"]
    width = consistent["detail"]["ci95"]["high"] - consistent["detail"]["ci95"]["low"]
    z = stats.norm.ppf
    assert power["items"] == 30 and power["ci_width"] == pytest.approx(width)
    assert power["detectable_effect"] == pytest.approx((z(0.975) + z(0.8)) * width / (2 * z(0.975)),
                                                       rel=1e-5)
    code, data = verdict(run)  # no --claim: aime_2025 has no figure for this model
    assert line(data, "aime_2025", "claim")["state"] == "not_checked"
    assert "--claim aime_2025=SCORE" in line(data, "aime_2025", "claim")["reason"]


def test_claim_from_the_card_for_a_model_it_names() -> None:
    card = get_card("aime_2025")
    assert find_claim("aime_2025", card, {}, {}, ["/ckpt/vibethinker-3b"]) is None
    assert find_claim("aime_2025", card, {}, {}, ["/ckpt", "VIBETHINKER-3B"]) == \
        (pytest.approx(0.914), "card reference (VibeThinker-3B)")
    assert find_claim("aime_2025", card, {"aime_2025": 0.5}, {"aime_2025": 60.0}, []) == (0.5, "--claim")


def test_claim_uses_the_reading_the_card_names() -> None:
    """GPQA keeps a lenient verdict beside the strict one; its card says the published figures
    were read leniently, so the claim meets the lenient reading, with the headline beside it."""
    def score(item: int, strict: str, lenient: str) -> Score:
        return Score(benchmark="gpqa_diamond", item_id=str(item), sample_index=0, verdict=strict,
                     extracted=None, gold="A", explanation="", grader="gpqa/2",
                     details={"lenient_verdict": lenient})
    scores = [score(0, "correct", "correct"), score(1, "correct", "correct"),
              score(2, "no_answer", "correct"), score(3, "no_answer", "incorrect")]
    result = BenchmarkResult.model_construct(benchmark="gpqa_diamond", avg_at_k=0.5,
                                             ci95=(0.0, 1.0), items_scored=4, k=1)
    card = get_card("gpqa_diamond")
    assert card.reference.answer_reading == "lenient"
    measure = matching_measure(result, scores, card, seed=0)
    assert measure.reading == "lenient" and measure.measured == pytest.approx(0.75)
    assert measure.other_measured == pytest.approx(0.5) and measure.other_no_answer_rate == 0.5
    line = claim_line(result, (0.74, "--claim"), [], measure)
    assert line.state == "no_evidence_found" and line.detail.measured == pytest.approx(0.75)
    assert "avg@1 (lenient reading) 75.0%" in line.summary and "no answer 50.0%" in line.summary
    plain = [s.model_copy(update={"details": {}}) for s in scores]  # a grader with one reading
    assert matching_measure(result, plain, card, seed=0).measured == 0.5


def test_bad_claims_are_usage_errors(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = shared("run", root)
    assert main(["verdict", str(run), "--claim", "aime_2025=91.4", "--claim", "brumo_2025=50"]) == 2
    assert "does not have: brumo_2025" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["verdict", str(run), "--claim", "aime_2025=914"])
    assert exit_.value.code == 2


def test_overlap_states_from_a_planted_training_file(root: Path, tmp_path: Path) -> None:
    run, audit = shared("run", root), shared("audit", root)
    code, data = verdict(run, "--audit", str(audit))
    found = line(data, "aime_2025", "overlap")
    assert found["state"] == "evidence_found"
    detail = found["detail"]
    assert detail["question_and_answer"] == ["1"] and detail["question_only"] == ["4"]
    assert detail["training_files"][0]["rows"] == 3 and len(detail["training_files"][0]["sha256"]) == 64
    values = accuracies(run, "aime_2025")
    ids = [json.loads(s)["item_id"] for s in (run / "scores.jsonl").read_text().splitlines()
           if json.loads(s)["benchmark"] == "aime_2025"]
    clean = np.array([i not in ("1", "4") for i in ids])
    assert detail["clean_items"] == 28
    assert detail["difference"] == pytest.approx(values.mean() - values[clean].mean(), abs=1e-12)
    direct = stats.bootstrap((values, clean), lambda v, c: v.mean() - v[c.astype(bool)].mean(), paired=True,
                             vectorized=False, n_resamples=4000, method="percentile",
                             random_state=np.random.default_rng(3))
    assert detail["difference_ci95"]["low"] == pytest.approx(direct.confidence_interval.low, abs=0.01)
    assert detail["difference_ci95"]["high"] == pytest.approx(direct.confidence_interval.high, abs=0.01)
    assert "appears in the training data together with the answer" in \
        next(b for b in data["benchmarks"] if b["benchmark"] == "aime_2025")["strongest"]
    quiet = line(data, "aime_2026", "overlap")
    assert quiet["state"] == "no_evidence_found" and quiet["power"]["items"] == 30
    assert "3 training rows" in quiet["power"]["note"]
    tampered = tmp_path / "audit"
    shutil.copytree(audit, tampered)
    summary = json.loads((tampered / "summary.json").read_text())
    summary["benchmarks"]["aime_2026"]["contaminated_ids"] = []
    summary["benchmarks"]["aime_2025"]["contaminated_ids"] = []
    (tampered / "summary.json").write_text(json.dumps(summary))
    code, data = verdict(run, "--audit", str(tampered))
    for name in BENCHMARKS:
        assert line(data, name, "overlap")["state"] == "not_checked"
        assert "cannot be used" in line(data, name, "overlap")["reason"]
    assert any("--audit" in note for note in data["notes"])


def test_freshness_states_and_fishers_exact_test(root: Path, tmp_path: Path) -> None:
    run = copy_run(root, tmp_path / "run")
    done = vt_eval("freshness", str(run), "--cutoff", CUTOFF)
    assert done.returncode == 0, done.stdout + done.stderr
    code, data = verdict(run)
    old, fresh = line(data, "aime_2025", "freshness"), line(data, "aime_2026", "freshness")
    assert old["state"] == "evidence_found" and fresh["state"] == "no_evidence_found"
    assert fresh["power"]["items"] == 30 and fresh["power"]["compared_with"] == 30
    before, after = accuracies(run, "aime_2025"), accuracies(run, "aime_2026")
    detail = old["detail"]
    assert detail["difference"] == pytest.approx(before.mean() - after.mean(), abs=1e-12)
    table = [[before.sum(), before.size - before.sum()], [after.sum(), after.size - after.sum()]]
    # k = 1, two groups of 30: the permutation test of the difference in means is Fisher's test
    assert detail["p_value"] == pytest.approx(stats.fisher_exact(table).pvalue, abs=0.002)
    assert detail["this_before"] == 30 and detail["this_after"] == 0
    freshness = json.loads((run / "freshness.json").read_text())
    freshness["items"][0]["correct"] = 1 - freshness["items"][0]["correct"]  # stale or edited
    (run / "freshness.json").write_text(json.dumps(freshness))
    code, data = verdict(run)
    assert line(data, "aime_2025", "freshness")["state"] == "not_checked"
    assert "does not match scores.jsonl" in line(data, "aime_2025", "freshness")["reason"]
    done = vt_eval("freshness", str(run), "--cutoff", "2020-01-01")  # every item after it
    code, data = verdict(run)
    assert "one side of the cutoff holds no item" in line(data, "aime_2025", "freshness")["reason"]
    (run / "freshness.json").write_text('{"cutoff": "2025-06-30"}')
    code, data = verdict(run)
    assert "cannot be read" in line(data, "aime_2025", "freshness")["reason"]


def test_unreadable_probe_outputs_are_not_checked(root: Path, tmp_path: Path) -> None:
    run = shared("run", root)
    assert verdict(run, "--probes", str(tmp_path / "nowhere"))[1]["notes"]
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "items.jsonl").write_text("")
    report = {"model": "smollm2-135m", "controls": ["aime_2026"], "benchmarks": {"aime_2025": {
        "role": "suspect", "items": 0, "statistics": {}, "vs_controls": {"min_k": {}}}}}
    (probes / "benchmarks.json").write_text(json.dumps(report))
    code, data = verdict(run, "--probes", str(probes))
    assert code == 0 and line(data, "aime_2025", "probes")["state"] == "not_checked"
    assert "not a probe output this vt-eval reads" in line(data, "aime_2025", "probes")["reason"]
    assert "was not probed" in line(data, "aime_2026", "probes")["reason"]


def test_a_run_where_every_item_scored_the_same(tmp_path: Path) -> None:
    """The bootstrap CI of 0/30 vs 0/30 has no width: the power is the worst case of a 0/1
    outcome, never "detects 0 points"; with 3 items a side nothing is detectable: not checked."""
    run = make_run(tmp_path / "zero", right=lambda benchmark, number: False)
    assert vt_eval("freshness", str(run), "--cutoff", CUTOFF).returncode == 0
    code, data = verdict(run)
    entry = line(data, "aime_2025", "freshness")
    assert entry["state"] == "no_evidence_found" and entry["power"]["ci_width"] == 0
    z = stats.norm.ppf
    assert entry["power"]["detectable_effect"] == pytest.approx(
        (z(0.975) + z(0.8)) * 0.5 * (1 / 30 + 1 / 30) ** 0.5, rel=1e-5)
    small = Line.model_validate({**entry, "power": {**entry["power"], "items": 3,
                                                    "compared_with": 3, "detectable_effect": 1.14}})
    assert powerless(small).state == "not_checked"
    assert "too few items" in powerless(small).reason
    assert powerless(Line.model_validate(entry)).state == "no_evidence_found"


def test_an_unverified_run_says_nothing_good(root: Path, tmp_path: Path) -> None:
    run = copy_run(root, tmp_path / "run")
    results = json.loads((run / "results.json").read_text())
    results["benchmarks"][1]["avg_at_k"] = 0.9  # a summary edited by hand
    (run / "results.json").write_text(json.dumps(results))
    code, data = verdict(run, "--audit", str(shared("audit", root)))
    assert code == 2 and data["integrity"] == "NOT VERIFIED"
    assert line(data, "aime_2026", "claim")["state"] == "not_checked"  # was consistent
    assert line(data, "aime_2026", "overlap")["state"] == "not_checked"  # was nothing found
    assert line(data, "aime_2026", "reproducibility")["state"] == "evidence_found"
    for bench in data["benchmarks"]:
        assert "no figure of this run can be vouched for" in bench["strongest"]
        assert all(entry["state"] != "no_evidence_found" for entry in bench["lines"])
    assert line(data, "aime_2026", "claim")["detail"]["measured"] == pytest.approx(7 / 30)


def test_json_validates_against_the_shipped_schema(root: Path) -> None:
    import jsonschema

    from vt_eval.verdict.schema import SCHEMA_FILE, schema_text
    assert SCHEMA_FILE.read_text() == schema_text(), "run python -m vt_eval.verdict.schema"
    shipped = json.loads(vt_eval("verdict", "--schema").stdout)
    code, data = verdict(shared("run", root), "--audit", str(shared("audit", root)))
    jsonschema.validate(data, shipped)
    data["benchmarks"][0]["lines"][0]["state"] = "looks fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, shipped)


def test_text_output_names_every_state(root: Path) -> None:
    done = vt_eval("verdict", str(shared("run", root)), "--audit", str(shared("audit", root)),
                   "--claim", "aime_2025=91.4")
    assert done.returncode == 0, done.stderr
    for text in ("claim vs measured", "training overlap", "freshness", "memorization probes",
                 "reproducibility", "evidence found", "no evidence found", "not checked",
                 "power: n=30", "→ "):
        assert text in done.stdout, text
