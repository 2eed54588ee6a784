"""Plots as base64 PNG data URIs (matplotlib, Agg canvas, no pyplot state, no network to view).

matplotlib is optional here: without it `make_plots` returns no plots and a note, and the text of
the scorecard is unaffected.
"""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta
from typing import Any

from vt_eval.report.view import BenchmarkView, Plot, Scorecard

VERDICT_COLOURS = {"correct": "#2e7d32", "incorrect": "#c62828", "no_answer": "#f9a825",
                   "truncated": "#6a1b9a", "needs_judge": "#90a4ae", "grader_timeout": "#37474f",
                   "grader_error": "#000000", "judge_error": "#546e7a"}
MISSING_COLOUR = "#eeeeee"
DPI = 90
MAX_HEIGHT = 14.0  # inches: a 400-problem benchmark still gives a readable image
MAX_LABELLED = 60  # problems labelled by id on the heat map


def _figure_class() -> Any:
    """matplotlib's Figure, or None when matplotlib cannot be imported."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def scores_plot(figure_cls: Any, card: Scorecard) -> Plot | None:
    shown = [b for b in card.benchmarks if b.avg_at_k is not None]
    if not shown:
        return None
    fig = figure_cls(figsize=(max(5.0, 1.4 * len(shown) + 2), 3.6))
    ax = fig.add_subplot()
    for x, bench in enumerate(shown):
        for ref in bench.references:
            style = dict(marker="D", color="#1565c0", s=40, zorder=3) if ref.ours else \
                dict(marker="_", color="#9e9e9e", s=120, zorder=2)
            ax.scatter([x + 0.18], [100 * ref.score], **style)
        low, high = bench.ci95 or (bench.avg_at_k, bench.avg_at_k)
        ax.errorbar([x], [100 * bench.avg_at_k], capsize=5, fmt="o", color="#d84315", zorder=4,
                    yerr=[[100 * (bench.avg_at_k - low)], [100 * (high - bench.avg_at_k)]])
    ax.set_xticks(range(len(shown)), [b.name for b in shown], rotation=20, ha="right")
    ax.set_ylabel("avg@k (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(-0.5, len(shown) - 0.5)
    ax.grid(axis="y", alpha=0.3)
    ax.scatter([], [], marker="o", color="#d84315", label="this run (95% CI)")
    ax.scatter([], [], marker="D", color="#1565c0", label=f"{card.reference_model} (published)")
    ax.scatter([], [], marker="_", color="#9e9e9e", label="peers (published)")
    ax.legend(fontsize=8, loc="lower left")
    return Plot("Scores vs published", "avg@k with 95% CI whiskers beside published figures",
                _png(fig))


def heatmap_plot(figure_cls: Any, bench: BenchmarkView) -> Plot | None:
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    if not bench.problems:
        return None
    names = list(VERDICT_COLOURS)
    grid = np.full((len(bench.problems), bench.k), len(names), dtype=float)
    for row, problem in enumerate(bench.problems):
        for sample in problem.sample_views:
            if sample.index < bench.k:
                grid[row, sample.index] = names.index(sample.verdict)
    fig = figure_cls(figsize=(min(12.0, 3 + 0.12 * bench.k),
                              min(MAX_HEIGHT, 1.2 + 0.22 * len(bench.problems))))
    ax = fig.add_subplot()
    colours = ListedColormap([VERDICT_COLOURS[n] for n in names] + [MISSING_COLOUR])
    ax.imshow(grid, aspect="auto", cmap=colours, vmin=0, vmax=len(names), interpolation="nearest")
    labels = [f"{p.item_id} ({'–' if p.accuracy is None else f'{100 * p.accuracy:.0f}%'})"
              for p in bench.problems]
    if len(labels) <= MAX_LABELLED:
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
    else:
        ax.set_ylabel(f"{len(labels)} problems (in results.json order)")
    ax.set_xlabel("sample")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    present = sorted({s.verdict for p in bench.problems for s in p.sample_views}, key=names.index)
    for name in present:
        ax.scatter([], [], marker="s", color=VERDICT_COLOURS[name], label=name)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return Plot(f"{bench.name}: per-problem verdicts",
                "problems (rows, with accuracy) by samples (columns), coloured by verdict",
                _png(fig))


def length_plot(figure_cls: Any, bench: BenchmarkView, max_tokens: int | None) -> Plot | None:
    tokens = [s.tokens for p in bench.problems for s in p.sample_views if s.tokens is not None]
    if not tokens:
        return None
    fig = figure_cls(figsize=(6, 3))
    ax = fig.add_subplot()
    ax.hist(tokens, bins=40, color="#5c6bc0")
    if max_tokens:
        ax.axvline(max_tokens, color="#c62828", linestyle="--", label=f"max tokens {max_tokens}")
        ax.legend(fontsize=8)
    ax.set_xlabel("response tokens")
    ax.set_ylabel("samples")
    return Plot(f"{bench.name}: response length", "histogram of response tokens", _png(fig))


def date_plot(figure_cls: Any, card: Scorecard) -> Plot | None:
    points = [(b.name, date.fromisoformat(p.date), p.accuracy) for b in card.benchmarks
              for p in b.problems if p.date and p.accuracy is not None]
    if not points:
        return None
    fig = figure_cls(figsize=(7, 3.2))
    ax = fig.add_subplot()
    for name in sorted({p[0] for p in points}):
        mine = [p for p in points if p[0] == name]
        ax.scatter([p[1] for p in mine], [100 * p[2] for p in mine], alpha=0.6, s=18, label=name)
    if card.cutoff:
        ax.axvline(date.fromisoformat(card.cutoff), color="#c62828", linestyle="--",
                   label=f"training cutoff {card.cutoff}")
    days = [p[1] for p in points] + ([date.fromisoformat(card.cutoff)] if card.cutoff else [])
    ax.set_xlim(min(days) - timedelta(days=30), max(days) + timedelta(days=30))
    ax.set_ylabel("problem accuracy (%)")
    ax.set_ylim(-5, 105)
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    return Plot("Accuracy against problem date", "per-problem accuracy by exam/contest date",
                _png(fig))


def make_plots(card: Scorecard, max_tokens: int | None
               ) -> tuple[list[Plot], dict[str, list[Plot]], str | None]:
    """Overview plots, plots by benchmark, and a note on what could not be drawn."""
    figure_cls = _figure_class()
    if figure_cls is None:
        return [], {}, "plots not drawn: matplotlib is not installed (pip install matplotlib)"
    overview = [p for p in (scores_plot(figure_cls, card), date_plot(figure_cls, card)) if p]
    per_bench: dict[str, list[Plot]] = {}
    for bench in card.benchmarks:
        drawn = (heatmap_plot(figure_cls, bench), length_plot(figure_cls, bench, max_tokens))
        per_bench[bench.name] = [p for p in drawn if p is not None]
    note = None if any(p.title.startswith("Accuracy against") for p in overview) else \
        "accuracy against problem date: no problem dates are known for these benchmarks"
    return overview, per_bench, note
