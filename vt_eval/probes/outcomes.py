"""Per-item outcomes of a scored run (plan.json + scores.jsonl), dated from the benchmark cards."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from vt_eval.errors import DataError
from vt_eval.planning import read_plan, reload_benchmark
from vt_eval.dates import difficulty, item_date
from vt_eval.probes.freshness import UNSETTLED, ItemOutcome
from vt_eval.records import Score


def read_scores(path: Path) -> dict[tuple[str, str, int], Score]:
    """The last verdict per sample (the judge rewrites the file; a later line wins)."""
    if not path.is_file():
        raise DataError(f"{path} is missing: score the run first (vt-eval score RUN_DIR)")
    scores: dict[tuple[str, str, int], Score] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            score = Score.model_validate_json(line)
        except ValidationError as exc:
            raise DataError(f"{path} line {number}: not a score record ({exc.errors()[0]['msg']})") from exc
        scores[score.key] = score
    return scores


def run_outcomes(run_dir: Path) -> list[ItemOutcome]:
    plan = read_plan(run_dir / "plan.json")
    if plan is None:
        raise DataError(f"{run_dir} has no plan.json: not a vt-eval run directory")
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
