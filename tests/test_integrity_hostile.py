"""Issue 22, the hostile edits: each run through the real CLI (gate, compare, report) on a real
scored run dir, and each followed by its honest control. Nothing edited may pass: the gate exits 2
(input cannot be trusted), compare refuses (exit 2), report shows the banner and exits 2 with the
reason on its last line. `show` strips terminal control sequences from model text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from vt_eval.cli import main
from vt_eval.data import Item
from vt_eval.metrics import bootstrap_ci, pass_at_k

from test_gate import gate, status
from test_report_rundir import built, copy_run, edit_results, make_run

MIN_CI = 'version = 1\n[scores]\nbasis = "ci_low"\n[scores.min]\naime_2025 = 0.40\n'
MIN_POINT = 'version = 1\n[scores]\nbasis = "point"\n[scores.min]\naime_2025 = 0.50\n'
MAX_TRUNCATION = "version = 1\n[rates]\nmax_truncation = 0.05\n"
OPEN = "version = 1\n"  # only the run checks and the sandbox rule
REGRESSION = "version = 1\n[regression]\nmax_drop = 0.02\nalpha = 0.05\n"


def last_line(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    out = capsys.readouterr().out
    return out, out.strip().splitlines()[-1]


def compare(capsys: pytest.CaptureFixture[str], a: Path, b: Path) -> tuple[int, str]:
    code = main(["compare", str(a), str(b)])
    return code, last_line(capsys)[1]


def report(capsys: pytest.CaptureFixture[str], run: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["report", str(run), *extra])
    out, last = last_line(capsys)
    return code, last, out


def assert_refused_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str], run: Path,
                              policy: str, needle: str) -> None:
    """gate 2 (no rule passes), compare 2, report 2 with `needle` in its last line."""
    code, cases, summary = gate(tmp_path, policy, run)
    found = status(cases)
    assert code == 2 and found["run.integrity"] == "error", summary
    assert "pass" not in {v for k, v in found.items() if k != "run.readable"}, found
    assert needle in summary, summary
    code, last = compare(capsys, run, built("base"))
    assert code == 2 and last.startswith("compare: refused (exit 2)") and "not verified" in last
    code, last, out = report(capsys, run)
    assert code == 2 and last.startswith("report: NOT VERIFIED (exit 2)"), out
    assert needle in out and "scorecard (unverified)" in out
    page = (run / "scorecard.md").read_text()
    assert "(unverified)" in page and needle in page


def assert_honest(tmp_path: Path, capsys: pytest.CaptureFixture[str], run: Path, policy: str,
                  expected: int) -> None:
    code, _, summary = gate(tmp_path, policy, run)
    assert code == expected, summary
    assert compare(capsys, run, built("base"))[0] == 0
    code, last, out = report(capsys, run)
    assert code == 0 and "integrity" not in out and last.startswith("Markdown:"), out


def test_raised_ci95_under_a_ci_low_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_honest(tmp_path, capsys, copy_run("base", tmp_path / "honest"), MIN_CI, 1)
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(ci95=[0.45, 0.9]))
    assert_refused_everywhere(tmp_path, capsys, run, MIN_CI, "ci95 is [0.45, 0.9] in results.json")


def test_zeroed_truncation_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_honest(tmp_path, capsys, copy_run("base", tmp_path / "honest"), MAX_TRUNCATION, 1)
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(truncation_rate=0.0))
    assert_refused_everywhere(tmp_path, capsys, run, MAX_TRUNCATION,
                              "truncation_rate is 0.0 in results.json, 0.0625 recomputed")


def _drop_failing_item(data: dict) -> None:
    """Remove the item never solved and edit every summary figure to match, as a forger would."""
    bench = data["benchmarks"][0]
    kept = [i for i in bench["per_item"] if i["correct"] > 0]
    accuracies = [i["accuracy"] for i in kept]
    bench.update(per_item=kept, items_scored=len(kept), avg_at_k=sum(accuracies) / len(kept),
                 ci95=list(bootstrap_ci(accuracies, 0)),
                 maj_at_k=sum(bool(i["majority_correct"]) for i in kept) / len(kept),
                 pass_at_k={f"pass@{k}": sum(pass_at_k(i["samples"], i["correct"], k)
                                             for i in kept) / len(kept) for k in (1, 2, 4)})


def test_failing_item_removed_with_figures_edited_to_match(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_honest(tmp_path, capsys, copy_run("base", tmp_path / "honest"), MIN_POINT, 1)
    run = copy_run("base", tmp_path / "run")
    edit_results(run, _drop_failing_item)
    assert json.loads((run / "results.json").read_text())["benchmarks"][0]["avg_at_k"] > 0.5
    assert_refused_everywhere(tmp_path, capsys, run, MIN_POINT,
                              "per_item lacks items")


def test_partial_run_relabelled_complete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    honest = copy_run("partial", tmp_path / "honest")
    code, cases, _ = gate(tmp_path, OPEN, honest)
    assert code == 1 and status(cases)["run.complete"] == "failure"
    code, last, out = report(capsys, honest)
    assert code == 0 and "scorecard (partial)" in out
    assert compare(capsys, honest, built("base"))[0] == 2  # a partial run is never compared
    run = copy_run("partial", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(samples_planned=13, complete=True))
    assert_refused_everywhere(tmp_path, capsys, run, OPEN, "samples_planned is 13 in results.json")


def test_deleted_samples_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_honest(tmp_path, capsys, copy_run("base", tmp_path / "honest"), OPEN, 0)
    assert_missing_file_refused(tmp_path, capsys, "samples.jsonl")


@pytest.mark.parametrize("name", ["plan.json", "manifest.json", "scores.jsonl", "results.json"])
def test_any_file_a_check_needs_missing_is_exit_2(tmp_path: Path, name: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert_missing_file_refused(tmp_path, capsys, name)


def assert_missing_file_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                name: str) -> None:
    run = copy_run("base", tmp_path / "run")
    (run / name).unlink()
    (run / "scorecard.md").unlink()
    code, cases, summary = gate(tmp_path, OPEN, run)
    assert code == 2 and status(cases) == {"run.readable": "error"}
    assert f"{name}: missing" in summary
    assert main(["compare", str(run), str(built("base"))]) == 2
    assert main(["compare", str(built("base")), str(run)]) == 2
    assert main(["report", str(run)]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert f"{name}: missing" in out and "Traceback" not in out
    assert not (run / "scorecard.md").exists()  # nothing written it cannot vouch for


@pytest.mark.parametrize("also_edit_scores", [False, True])
def test_manifest_without_the_recorded_input_hash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], also_edit_scores: bool) -> None:
    assert_honest(tmp_path, capsys, copy_run("base", tmp_path / "honest"), OPEN, 0)
    run = copy_run("base", tmp_path / "run")
    if also_edit_scores:  # the point of removing the hash: a verdict flipped unnoticed
        scores = run / "scores.jsonl"
        scores.write_text(scores.read_text().replace('"incorrect"', '"correct"', 1))
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["stages"]["aggregate"]["inputs"]["scores.jsonl"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert_refused_everywhere(tmp_path, capsys, run, OPEN,
                              "aggregate record has no sha256 of scores.jsonl")


def _all_right(number: int, item: Item, index: int) -> tuple[str, str]:
    return f"\\boxed{{{item.answer}}}", "stop"


def test_regression_against_a_partial_baseline(tmp_path: Path) -> None:
    code, cases, _ = gate(tmp_path, REGRESSION, built("bad10"), "--baseline", str(built("good10")))
    assert code == 1 and status(cases)["regression.aime_2025"] == "failure"
    partial = make_run(tmp_path / "partial-baseline", _all_right, items=10, k=2, drop_last=3)
    code, cases, summary = gate(tmp_path, REGRESSION, built("bad10"), "--baseline", str(partial))
    assert code == 2 and status(cases)["regression"] == "error"
    assert "baseline: run" in summary and "is partial" in summary
    tampered = copy_run("good10", tmp_path / "tampered-baseline")
    edit_results(tampered, lambda d: d["benchmarks"][0].update(avg_at_k=0.5))
    code, cases, summary = gate(tmp_path, REGRESSION, built("bad10"), "--baseline", str(tampered))
    assert code == 2 and status(cases)["regression"] == "error" and "not verified" in summary
    code, cases, _ = gate(tmp_path, REGRESSION, built("bad10"))  # no baseline: not a pass
    assert code == 2 and status(cases)["regression"] == "error"


def test_report_with_an_unverified_comparison_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run("bad10", tmp_path / "run")
    code, last, out = report(capsys, run, "--compare", str(built("good10")))
    assert code == 0 and "integrity" not in out
    other = copy_run("good10", tmp_path / "other")
    edit_results(other, lambda d: d["benchmarks"][0].update(avg_at_k=0.5))
    code, last, out = report(capsys, run, "--compare", str(other))
    assert code == 2 and "comparison with" in last and "not verified" in last


ESCAPES = "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\\rmasked"


def test_show_strips_terminal_control_sequences(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    respond: Callable[[int, Item, int], tuple[str, str]] = lambda n, item, i: (
        (f"{ESCAPES} \\boxed{{{item.answer}}}" if n == 0 else f"plain \\boxed{{{item.answer}}}"),
        "stop")
    run = make_run(tmp_path / "run", respond, items=2, k=1)
    ids = [i["item_id"] for i in json.loads((run / "results.json").read_text())
           ["benchmarks"][0]["per_item"]]
    assert main(["show", str(run), "--problem", ids[0]]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\r\x9b"), repr(out)
    assert "clickmasked" in out and "6 terminal control sequences removed" in out
    assert main(["show", str(run), "--problem", ids[1]]) == 0  # honest control: untouched
    out = capsys.readouterr().out
    assert "plain \\boxed{" in out and "removed" not in out
