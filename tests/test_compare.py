"""`vt-eval compare`: paired difference over the same problems, refusal on different item sets
(unless --intersection), config fields that differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from vt_eval.cli import main
from vt_eval.errors import DataError
from vt_eval.report.compare import compare_runs
from vt_eval.report.scorecard import write_scorecard
from vt_eval.report.stats import paired_test
from vt_eval.report.verify import verify_run
from vt_eval.rundir import RunDir

from test_report_rundir import built, copy_run


def test_paired_test_is_seeded_and_sensible() -> None:
    same = paired_test([0.5, 0.25, 1.0], [0.5, 0.25, 1.0])
    assert same.difference == 0 and same.p_value == 1.0 and same.ci95 == (0.0, 0.0)
    worse = paired_test([0.0] * 10, [1.0] * 10, seed=3)
    assert worse.difference == -1 and worse.ci95 == (-1.0, -1.0)
    assert worse.p_value < 0.01 and worse.significant
    assert paired_test([0.1, 0.9, 0.5], [0.2, 0.4, 0.3], seed=7) == \
        paired_test([0.1, 0.9, 0.5], [0.2, 0.4, 0.3], seed=7)


def test_compare_two_runs_on_the_same_problems(capsys: pytest.CaptureFixture[str]) -> None:
    view = compare_runs(verify_run(built("bad10")), verify_run(built("good10")))
    row = view.rows[0]
    assert (row.benchmark, row.items, row.ours, row.other) == ("aime_2025", 10, 0.0, 1.0)
    assert row.difference == -1.0 and row.p_value < 0.01
    assert main(["compare", str(built("bad10")), str(built("good10"))]) == 0
    out = capsys.readouterr().out
    assert "-100.0 pp" in out and f"{row.p_value:.3f}" in out and row.p_value < 0.005


def test_different_item_sets_are_refused_unless_intersection(
        capsys: pytest.CaptureFixture[str]) -> None:
    a, b = verify_run(built("bad8")), verify_run(built("good10"))
    with pytest.raises(DataError, match="scored different problems.*--intersection"):
        compare_runs(a, b)
    assert main(["compare", str(built("bad8")), str(built("good10"))]) == 2
    assert "--intersection" in capsys.readouterr().out
    view = compare_runs(a, b, intersection=True)
    assert view.rows[0].items == 8
    assert any("compared on the 8 problems both runs scored" in r for r in view.refused)


def test_config_differences_are_listed(tmp_path: Path) -> None:
    other = copy_run("good10", tmp_path / "other")
    run = RunDir(other)
    config = run.load_config().with_overrides({"sampling.temperature": 0.6,
                                               "model.name": "other-model"})
    run.save_config(config)
    run.update_manifest(model={"chat_template_sha256": "abc"})
    diffs = compare_runs(verify_run(built("bad10")), verify_run(other)).config_differences
    assert "config.sampling.temperature: 1.0 → 0.6" in diffs
    assert "config.model.name: smollm2-135m → other-model" in diffs
    assert "model.chat_template_sha256: (unset) → abc" in diffs


def test_scorecard_carries_the_comparison(tmp_path: Path) -> None:
    run = copy_run("bad10", tmp_path / "run")
    written = write_scorecard(run, other=built("good10"))
    page = written.html.read_text()
    assert 'id="compare"' in page and "-100.0 pp" in page
    assert "Compared with" in written.markdown.read_text()
