"""Per-item outcomes of a scored run (plan.json + scores.jsonl), dated from the benchmark cards."""

from __future__ import annotations

from pathlib import Path

from vt_eval.dates import difficulty, item_date
from vt_eval.errors import DataError
from vt_eval.planning import reload_benchmark, require_plan
from vt_eval.probes.freshness import UNSETTLED, ItemOutcome
from vt_eval.records import Score
from vt_eval.store import read_records


def read_scores(path: Path) -> dict[tuple[str, str, int], Score]:
    """The last verdict per sample (the judge rewrites the file; a later line wins)."""
    if not path.is_file():
        raise DataError(f"{path} is missing: score the run first (vt-eval score RUN_DIR)")
    return {score.key: score for score in read_records(path, Score)}


def run_outcomes(run_dir: Path) -> list[ItemOutcome]:
    plan = require_plan(run_dir)
    scores = read_scores(run_dir / "scores.jsonl")
    by_item: dict[tuple[str, str], list[Score]] = {}
    for score in scores.values():
        by_item.setdefault((score.benchmark, score.item_id), []).append(score)
    outcomes = []
    for planned in plan.benchmarks:
        data = reload_benchmark(planned)
        for item in data.loaded.items:
            verdicts = [s.verdict for s in by_item.get((planned.name, item.id), [])]
            settled = [v for v in verdicts if v not in UNSETTLED]
            outcomes.append(ItemOutcome(planned.name, item.id, item_date(data.card, item),
                                        difficulty(data.card, item),
                                        sum(v == "correct" for v in settled), len(settled),
                                        len(verdicts) - len(settled)))
    return outcomes
