"""Terminal output keeps text that looks like rich markup (row ids, LaTeX options) intact."""

from __future__ import annotations

import io

from rich.console import Console

from vt_eval.records import Score
from vt_eval.terminal import print_sample

from helpers import make_sample


def test_brackets_in_prompts_and_explanations_survive() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    sample = make_sample("1", "so \\boxed{[1, 2]}").model_copy(
        update={"messages": [{"role": "user", "content": "Draw [asy] size(3); [/asy] then answer"}]})
    score = Score(benchmark="b", item_id="1", sample_index=0, verdict="incorrect",
                  extracted="[1, 2]", gold="[imo-bench-algebra-036]",
                  explanation="file.csv [imo-bench-algebra-036]: empty", grader="math/1")
    print_sample(console, sample, score, tail_chars=100)
    out = buffer.getvalue()
    assert "[asy] size(3); [/asy]" in out
    assert "file.csv [imo-bench-algebra-036]: empty" in out
    assert "'[imo-bench-algebra-036]'" in out


# The results table at common terminal widths: names whole, `%` on percentages, columns folded.

from vt_eval.results import BenchmarkResult, RunResults  # noqa: E402
from vt_eval.terminal import COLUMNS, layout, print_results  # noqa: E402


def _bench(name: str, complete: bool = True) -> BenchmarkResult:
    return BenchmarkResult(
        benchmark=name, title=name, grader="math/1", k=64, complete=complete, items_planned=30,
        items_scored=30, items_needing_judge=0, samples_planned=1920,
        samples_done=1920 if complete else 100, avg_at_k=0.9141, ci95=(0.8812, 0.9433),
        pass_at_k={"pass@1": 0.9141, "pass@64": 1.0}, maj_at_k=0.9333,
        verdicts={"correct": 1755, "incorrect": 160, "truncated": 5}, no_answer_rate=0.0,
        truncation_rate=5 / 1920, ungraded_samples=0, mean_response_tokens=14321.4,
        reference={"VibeThinker-3B": 91.4}, reference_citation="paper", warnings=[], per_item=[])


def _results() -> RunResults:
    return RunResults(run_id="r", scored_at="now", graders={}, policies={}, warnings=[],
                      benchmarks=[_bench("aime_2025"), _bench("aime_2026"),
                                  _bench("hmmt_feb_2025", complete=False),
                                  _bench("imo_answerbench")])


def _render(width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    print_results(console, _results())
    return console.export_text()


def test_at_120_columns_names_whole_and_percent_signs() -> None:
    text = _render(120)
    for name in ("aime_2025", "aime_2026", "hmmt_feb_2025 (partial)", "imo_answerbench"):
        assert name in text
    assert "…" not in text
    assert "91.4%" in text and "88.1–94.3%" in text and "93.3%" in text and "100.0% @64" in text
    assert all(len(line) <= 120 for line in text.splitlines())
    groups = layout(_results(), 120)
    assert [c.header for c in groups[0]][:6] == ["avg@k", "95% CI", "VibeThinker-3B", "items",
                                                 "k", "maj@k"]
    assert len(groups) == 2  # 120: no answer, ungraded, mean tokens fold into a second table
    assert "120 columns: no answer, ungraded, mean tokens moved to the table below" in text


def test_at_80_columns_low_priority_columns_fold_into_further_tables() -> None:
    text = _render(80)
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    groups = layout(_results(), 80)
    assert [c.header for c in groups[0]] == ["avg@k", "95% CI", "VibeThinker-3B", "items", "k"]
    for group in groups[1:]:
        assert f"80 columns: {', '.join(c.header for c in group)} moved to the table below" in text
    # every column is printed exactly once, every table has every benchmark, names whole
    optional = {"CLR"}  # shown only when a benchmark has it
    assert sorted(c.header for g in groups for c in g) == sorted(
        c.header for c in COLUMNS if c.header not in optional)
    assert text.count("hmmt_feb_2025 (partial)") == len(groups)
    assert "14321" in text and "0.3%" in text and "93.3%" in text


def test_clr_column_appears_only_when_a_benchmark_has_clr() -> None:
    results = _results()
    assert "CLR" not in _render(120)
    with_clr = results.model_copy(update={"benchmarks": [
        results.benchmarks[0].model_copy(update={"extra_metrics": {"clr": {"clr_accuracy": 0.95}}}),
        *results.benchmarks[1:]]})
    console = Console(width=120, record=True, file=io.StringIO())
    print_results(console, with_clr)
    text = console.export_text()
    assert "CLR" in text and "95.0%" in text and "…" not in text
