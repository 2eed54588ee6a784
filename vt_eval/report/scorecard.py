"""Build and write a run's scorecard.html and scorecard.md (the report stage and command)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from vt_eval.report.assemble import build_scorecard
from vt_eval.report.compare import compare_runs, untrusted
from vt_eval.report.markdown import write_markdown
from vt_eval.report.plots import make_plots
from vt_eval.report.render import write_html
from vt_eval.report.verify import VerifiedRun, verify_run
from vt_eval.report.view import CompareView, Scorecard
from vt_eval.verdict.build import build_verdict

HTML_NAME, MD_NAME = "scorecard.html", "scorecard.md"


@dataclass(frozen=True)
class Written:
    html: Path
    markdown: Path
    card: Scorecard


def _comparison(verified: VerifiedRun, other: Path, intersection: bool
                ) -> tuple[CompareView | None, str | None]:
    """The comparison section, or why it cannot be shown (an integrity problem)."""
    theirs = verify_run(other)
    why = untrusted(theirs) or untrusted(verified)
    if why is not None:
        return None, f"comparison with {other} not shown: {why}"
    return compare_runs(verified, theirs, intersection,
                        seed=verified.data.manifest.seeds.run_seed), None


def make_scorecard(run_dir: Path, audit: Path | None = None, other: Path | None = None,
                   cutoff: date | None = None, intersection: bool = False,
                   probes: Path | None = None, claims: Mapping[str, float] | None = None
                   ) -> Scorecard:
    """The scorecard of a run after the gate's checks (`verify_run`): its figures are the ones
    recomputed from the per-sample files; every problem found is on the page's integrity banner
    and the status is "unverified"."""
    verified = verify_run(run_dir, with_tails=True)
    run, integrity = verified.recomputed_data(), list(verified.problems)
    view = None
    if other is not None:
        view, refused = _comparison(verified, other, intersection)
        integrity += [refused] if refused else []
    card = build_scorecard(run, integrity, audit, view, cutoff)
    card = replace(card, verdict=build_verdict(run_dir, audit, probes, claims, verified=verified))
    if integrity:
        card = replace(card, status="unverified")
    max_tokens = run.config.sampling.max_tokens if run.config is not None else None
    overview, per_bench, note = make_plots(card, max_tokens)
    return replace(card, plots=overview, bench_plots=per_bench, plots_note=note)


def write_scorecard(run_dir: Path, audit: Path | None = None, other: Path | None = None,
                    cutoff: date | None = None, intersection: bool = False,
                    probes: Path | None = None, claims: Mapping[str, float] | None = None
                    ) -> Written:
    card = make_scorecard(run_dir, audit, other, cutoff, intersection, probes, claims)
    html, markdown = Path(run_dir) / HTML_NAME, Path(run_dir) / MD_NAME
    write_html(card, html)
    write_markdown(card, markdown)
    return Written(html, markdown, card)
