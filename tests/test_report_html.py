"""The scorecard's content: escaped model text, partial runs, missing published figures, CLR,
plots without matplotlib, the Markdown twin, older results schemas."""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

import pytest

from vt_eval.cli import main
from vt_eval.errors import DataError
from vt_eval.report.markdown import cell
from vt_eval.report.rundata import load_results
from vt_eval.report.scorecard import make_scorecard, write_scorecard

from test_report_rundir import SCRIPT, built, copy_run, edit_results


def test_model_text_is_escaped_never_markup(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    page = write_scorecard(run).html.read_text()
    assert "<script" not in page.lower()  # the page itself has no script at all
    assert "<b>bold</b>" not in page
    assert html.escape(SCRIPT, quote=False) in page.replace("&#34;", '"')


def test_numbers_on_the_page_are_results_json(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    card = make_scorecard(run)
    result = json.loads((run / "results.json").read_text())["benchmarks"][0]
    view = card.benchmarks[0]
    assert view.avg_at_k == result["avg_at_k"] and view.ci95 == tuple(result["ci95"])
    assert [p.item_id for p in view.problems] == [i["item_id"] for i in result["per_item"]]
    assert sum(len(p.sample_views) for p in view.problems) == 16
    assert card.status == "complete" and card.integrity == []
    ref = next(r for r in view.references if r.ours)
    assert ref.score == pytest.approx(0.914) and ref.difference == pytest.approx(
        result["avg_at_k"] - 0.914)


def test_partial_run_is_shown_as_partial() -> None:
    written = write_scorecard(built("partial"))
    assert written.card.status == "partial"
    page = written.html.read_text()
    assert 'id="partial"' in page and "partial: 13/16 samples" in page
    assert "(partial)" in written.markdown.read_text()


def test_no_published_figure_is_shown_as_such(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(reference={}))
    written = write_scorecard(run)
    assert "No published figure for this benchmark." in written.html.read_text()
    assert "no published figure" in written.markdown.read_text()


def test_clr_is_shown_when_present(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    clr = {"items": 4, "k": 4, "repetitions": 2, "clr_accuracy": 0.625, "clr_ci95": [0.25, 1.0],
           "maj_at_k": 0.5, "avg_at_k": 0.4375, "pool": {"min": 4, "max": 4},
           "clr_per_repetition": [0.5, 0.75]}  # the CLR stage's shape (vt_eval/clr/metrics.py)
    edit_results(run, lambda d: d["benchmarks"][0]["extra_metrics"].update(clr=clr))
    written = write_scorecard(run)
    assert written.card.benchmarks[0].clr == 0.625
    page = written.html.read_text()
    assert "62.5%" in page and "clr_ci95: [0.25, 1]" in page and "repetitions: 2" in page
    assert "62.5%" in written.markdown.read_text()


def test_missing_matplotlib_never_breaks_the_text(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run = copy_run("base", tmp_path / "run")
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import raises ImportError
    written = write_scorecard(run)
    assert written.card.plots == [] and "matplotlib is not installed" in written.card.plots_note
    page = written.html.read_text()
    assert "matplotlib is not installed" in page and "data:image/png" not in page
    assert "Published figures" in page


def test_plots_are_embedded_and_cutoff_marked(tmp_path: Path) -> None:
    from datetime import date
    run = copy_run("base", tmp_path / "run")
    card = make_scorecard(run, cutoff=date(2024, 12, 31))
    titles = [p.title for p in card.plots] + [p.title for p in card.bench_plots["aime_2025"]]
    assert titles == ["Scores vs published", "Accuracy against problem date",
                      "aime_2025: per-problem verdicts", "aime_2025: response length"]
    assert all(p.data_uri.startswith("data:image/png;base64,") for p in card.plots)
    assert [p.date for p in card.benchmarks[0].problems] == ["2025-02-06"] * 4


def test_markdown_cells_cannot_break_the_table() -> None:
    assert cell("a | b\n<script>") == "a \\| b &lt;script&gt;"


def test_older_results_schema_is_a_clear_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d.pop("schema_version"))
    with pytest.raises(DataError, match="no schema_version .written by vt-eval 0.1.*vt-eval score"):
        load_results(run / "results.json")
    assert main(["report", str(run)]) == 2
    assert "reads results schema 2" in capsys.readouterr().out
    edit_results(run, lambda d: d.update(schema_version=1))
    with pytest.raises(DataError, match="schema_version 1; this vt-eval reads results schema 2"):
        load_results(run / "results.json")


def test_freshness_is_shown_when_the_run_has_it(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    assert make_scorecard(run).freshness is None
    assert main(["freshness", str(run), "--cutoff", "2025-02-10", "--permutations", "100",
                 "--bootstrap", "100"]) == 0
    data = json.loads((run / "freshness.json").read_text())
    written = write_scorecard(run)
    fresh = written.card.freshness
    assert fresh is not None and fresh.cutoff == "2025-02-10"
    assert fresh.before_items == data["before"]["items"] and fresh.after_items == data["after"]["items"]
    assert fresh.difference == data["difference"]["value"]
    page = written.html.read_text()
    assert 'id="freshness"' in page and "before vs after 2025-02-10" in page
    assert "## Freshness: before vs after 2025-02-10" in written.markdown.read_text()


def test_an_unreadable_freshness_file_is_a_clear_error(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    (run / "freshness.json").write_text('{"cutoff": "2025-01-01"}')
    with pytest.raises(DataError, match="freshness.json"):
        make_scorecard(run)
