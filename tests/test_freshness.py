"""`vt-eval freshness`: a synthetic scored run (real plan.json and scores.jsonl schemas, the
shipped AIME snapshots) with a planted pattern, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.cli import main
from vt_eval.data import load_benchmark
from vt_eval.planning import PlannedBenchmark, PlanRecord
from vt_eval.records import Score

K = 4


def make_run(tmp_path: Path, correct: dict[str, Callable[[str], int]],
             keep: Callable[[str, str], bool] = lambda name, item_id: True) -> Path:
    """A run dir over aime_2025 and aime_2026; correct[benchmark](item_id) -> correct samples;
    `keep(benchmark, item_id)` picks the planned items."""
    run = tmp_path / "run"
    run.mkdir()
    planned, lines = [], []
    for name, rule in correct.items():
        loaded = load_benchmark(get_card(name))
        ids = [item.id for item in loaded.items if keep(name, item.id)]
        planned.append(PlannedBenchmark(name=name, grader="math/1", k=K, item_ids=ids,
                                        dataset=loaded.provenance()))
        for item_id in ids:
            wins = rule(item_id)
            for index in range(K):
                verdict = "correct" if index < wins else "incorrect"
                if name == "aime_2026" and item_id == "30" and index == K - 1:
                    verdict = "needs_judge"  # unsettled: left out of the denominator
                lines.append(Score(benchmark=name, item_id=item_id, sample_index=index,
                                   verdict=verdict, extracted="1", gold="1", explanation="",
                                   grader="math/1").model_dump_json())
    plan = PlanRecord(fingerprint="x", run_seed=0, benchmarks=planned)
    (run / "plan.json").write_text(plan.model_dump_json())
    (run / "scores.jsonl").write_text("\n".join(lines) + "\n")
    return run


def position(item_id: str) -> int:
    return (int(item_id) - 1) % 15 + 1


def freshness(run: Path, cutoff: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(["freshness", str(run), "--cutoff", cutoff, "--permutations", "999",
                 "--bootstrap", "500"])
    out = capsys.readouterr().out
    data = json.loads((run / "freshness.json").read_text()) if (run / "freshness.json").exists() else {}
    return code, data, out


def test_planted_leak_on_old_items_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Same difficulty profile (by position) in both years, but every 2025 item is solved 3/4 more.
    run = make_run(tmp_path, {"aime_2025": lambda i: 4 if position(i) <= 10 else 3,
                              "aime_2026": lambda i: 1 if position(i) <= 10 else 0})
    code, data, out = freshness(run, "2025-06-30", capsys)
    assert code == 0 and "freshness.json" in out
    assert data["schema_version"] == 1 and data["cutoff"] == "2025-06-30"
    assert data["before"]["items"] == 30 and data["after"]["items"] == 30
    assert data["before"]["dates"] == ["2025-02-06", "2025-02-12"]
    assert data["difference"]["value"] == pytest.approx(0.75, abs=0.02)
    assert data["difference"]["ci_low"] > 0.6 and data["difference"]["p_value"] < 0.01
    adjusted = data["adjusted_difference"]
    assert adjusted["strata_compared"] == ["position 1-5", "position 11-15", "position 6-10"]
    assert adjusted["value"] == pytest.approx(0.75, abs=0.02) and adjusted["p_value"] < 0.01
    assert data["unsettled_samples"] == 1
    item30 = next(i for i in data["items"] if i["benchmark"] == "aime_2026" and i["item_id"] == "30")
    assert item30["graded"] == K - 1 and item30["unsettled"] == 1 and item30["stratum"] == "position 11-15"


def test_difficulty_difference_is_not_called_leakage(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Accuracy depends only on problem position, but the old items planned are mostly easy ones
    # and the new ones mostly hard: the raw gap is large, the difficulty-adjusted one is not.
    def by_position(item_id: str) -> int:
        return {1: 4, 2: 2, 3: 0}[(position(item_id) - 1) // 5 + 1] if int(item_id) % 2 else \
            {1: 3, 2: 2, 3: 1}[(position(item_id) - 1) // 5 + 1]

    def unbalanced(name: str, item_id: str) -> bool:
        band = (position(item_id) - 1) // 5 + 1
        return band == 1 or int(item_id) in (8, 13, 23) if name == "aime_2025" else \
            band == 3 or int(item_id) in (2, 7, 17, 22)

    run = make_run(tmp_path, {"aime_2025": by_position, "aime_2026": by_position}, unbalanced)
    code, data, _ = freshness(run, "2025-06-30", capsys)
    assert code == 0
    assert data["difference"]["value"] > 0.3 and data["difference"]["p_value"] < 0.01
    adjusted = data["adjusted_difference"]
    assert abs(adjusted["value"]) < 0.1 and adjusted["p_value"] > 0.2
    assert adjusted["ci_low"] < 0 < adjusted["ci_high"]


def test_cutoff_before_everything_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path, {"aime_2025": lambda i: 2, "aime_2026": lambda i: 2})
    code, data, out = freshness(run, "2020-01-01", capsys)
    assert code == 0 and data["before"]["items"] == 0 and data["difference"]["value"] is None
    assert "no comparison" in out
    assert main(["freshness", str(run), "--cutoff", "2025-13-01"]) == 2
    assert main(["freshness", str(tmp_path), "--cutoff", "2025-01-01"]) == 2  # not a run dir
    assert "no plan.json" in capsys.readouterr().out


def test_leetcode_contest_dates_and_difficulty_strata() -> None:
    """Per-row contest dates and LeetCode difficulty: accuracy that depends only on difficulty,
    with more easy problems before the cutoff, is not a freshness effect once stratified."""
    from vt_eval.dates import difficulty, item_date
    from vt_eval.probes.freshness import FreshnessSettings, ItemOutcome, analyze

    card = get_card("leetcode_contests")
    items = load_benchmark(card).items
    cutoff = sorted(item_date(card, i) for i in items)[len(items) // 2]
    solved = {"difficulty=easy": 4, "difficulty=medium": 2, "difficulty=hard": 0}
    outcomes = []
    for item in items:
        when, level = item_date(card, item), difficulty(card, item)
        if when <= cutoff and level == "difficulty=hard" and int(item.id) % 3:
            continue  # fewer hard problems before the cutoff: an unbalanced design
        outcomes.append(ItemOutcome(card.name, item.id, when, level, solved[level] - int(item.id) % 2, 4, 0))
    result = analyze(outcomes, cutoff, FreshnessSettings(bootstrap=300, permutations=300))
    assert result["before"]["items"] > 50 and result["after"]["items"] > 50
    assert result["adjusted_difference"]["strata_compared"] == sorted(solved)
    assert abs(result["adjusted_difference"]["value"]) < abs(result["difference"]["value"])
    assert result["adjusted_difference"]["ci_low"] < 0 < result["adjusted_difference"]["ci_high"]
