"""Build and write a run's scorecard.html and scorecard.md (the report stage and command)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from vt_eval.report.assemble import build_scorecard
from vt_eval.report.compare import compare_runs
from vt_eval.report.integrity import consistency_problems
from vt_eval.report.markdown import write_markdown
from vt_eval.report.plots import make_plots
from vt_eval.report.render import write_html
from vt_eval.report.rundata import load_run
from vt_eval.report.view import Scorecard

HTML_NAME, MD_NAME = "scorecard.html", "scorecard.md"


@dataclass(frozen=True)
class Written:
    html: Path
    markdown: Path
    card: Scorecard


def make_scorecard(run_dir: Path, audit: Path | None = None, other: Path | None = None,
                   cutoff: date | None = None, intersection: bool = False) -> Scorecard:
    run = load_run(run_dir)
    view = None
    if other is not None:
        view = compare_runs(run, load_run(other, with_samples=False), intersection,
                            seed=run.manifest.seeds.run_seed)
    card = build_scorecard(run, consistency_problems(run), audit, view, cutoff)
    max_tokens = run.config.sampling.max_tokens if run.config is not None else None
    overview, per_bench, note = make_plots(card, max_tokens)
    return replace(card, plots=overview, bench_plots=per_bench, plots_note=note)


def write_scorecard(run_dir: Path, audit: Path | None = None, other: Path | None = None,
                    cutoff: date | None = None, intersection: bool = False) -> Written:
    card = make_scorecard(run_dir, audit, other, cutoff, intersection)
    html, markdown = Path(run_dir) / HTML_NAME, Path(run_dir) / MD_NAME
    write_html(card, html)
    write_markdown(card, markdown)
    return Written(html, markdown, card)
