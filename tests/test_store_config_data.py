"""Run-dir files, config validation and data loading: the bad-input paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from vt_eval.cards import get_card, select_cards
from vt_eval.config import load_config
from vt_eval.data import load_benchmark
from vt_eval.errors import ConfigError, DataError
from vt_eval.records import Sample
from vt_eval.store import JsonlWriter, read_records, repair_tail

from helpers import make_sample


def test_partial_last_line_is_cut_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(make_sample("1", "a"))
        writer.write(make_sample("2", "b"))
    good_size = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(b'{"benchmark": "hmmt_feb_2025", "item_id": "3", "resp')  # killed mid-write
    repair = repair_tail(path)
    assert repair is not None and repair.dropped_bytes == path.stat().st_size - good_size + repair.dropped_bytes
    assert path.stat().st_size == good_size
    assert [s.item_id for s in read_records(path, Sample)] == ["1", "2"]
    assert repair_tail(path) is None  # idempotent


def test_corrupt_line_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text(make_sample("1", "a").model_dump_json() + "\n{oops}\n"
                    + make_sample("2", "b").model_dump_json() + "\n")
    assert repair_tail(path) is None
    with pytest.raises(DataError, match=r"samples.jsonl:2"):
        list(read_records(path, Sample))


def test_broken_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "eval.toml"
    bad.write_text("[sampling]\ntemprature = 0.5\n")
    with pytest.raises(ConfigError, match=r"sampling.temprature.*did you mean 'temperature'"):
        load_config(bad)
    bad.write_text("[sampling]\ntop_p = 'hot'\n")
    with pytest.raises(ConfigError, match=r"sampling.top_p"):
        load_config(bad)
    bad.write_text("[sampling\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)


def test_shipped_eval_toml_is_valid() -> None:
    config = load_config(Path(__file__).parents[1] / "eval.toml")
    assert (config.sampling.temperature, config.sampling.top_p, config.sampling.top_k) == (1.0, 0.95, -1)


def test_unknown_benchmark_and_suite_suggest_the_nearest_name() -> None:
    with pytest.raises(ConfigError, match="did you mean 'aime_2025'"):
        select_cards(None, ("aim_2025",))
    with pytest.raises(ConfigError, match="did you mean 'math'"):
        select_cards("maths")


def test_imo_answerbench_malformed_rows_are_reported_not_dropped_silently() -> None:
    loaded = load_benchmark(get_card("imo_answerbench"))
    assert len(loaded.items) == 398
    reported = {p.row: p for p in loaded.problems}
    assert set(reported) == {"imo-bench-algebra-036", "imo-bench-geometry-004"}
    assert all(p.action == "skipped" for p in loaded.problems)
    assert "Excel" in reported["imo-bench-geometry-004"].reason
    assert loaded.sha256 == get_card("imo_answerbench").local.sha256


def test_card_that_says_stop_stops_on_a_bad_row(tmp_path: Path) -> None:
    card = get_card("aime_2025")
    data = tmp_path / "aime_2025"
    data.mkdir()
    (data / "train.jsonl").write_text('{"problem_idx": 1, "problem": "p", "answer": 3}\nnot json\n')
    with pytest.raises(DataError, match=r"train.jsonl \[line 2\]: invalid JSON"):
        load_benchmark(card, data_dir=tmp_path)


def test_data_dir_wins_over_the_snapshot_and_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "aime_2025").mkdir()
    (tmp_path / "aime_2025" / "train.jsonl").write_text('{"problem_idx": 7, "problem": "p", "answer": 3}\n')
    loaded = load_benchmark(get_card("aime_2025"), data_dir=tmp_path)
    assert loaded.source_kind == "user-path" and [i.id for i in loaded.items] == ["7"]
    assert loaded.revision.startswith("unknown")


def test_offline_download_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    card = get_card("aime_2026")
    missing = card.model_copy(update={"local": card.local.model_copy(update={"file": "data/none.jsonl"})})
    with pytest.raises(DataError, match=r"no local copy and the download of MathArena/aime_2026.*--data-dir"):
        load_benchmark(missing)


def test_suite_skips_a_benchmark_without_data_but_a_named_one_must_load(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from vt_eval.config import EvalConfig
    from vt_eval.planning import load_selected
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    suite = EvalConfig().with_overrides({"run.suite": "code"})
    loaded, skipped = load_selected(suite, None)
    assert [b.card.name for b in loaded] == ["leetcode_contests"]
    assert list(skipped) == ["livecodebench_v6"] and "--data-dir" in skipped["livecodebench_v6"]
    named = suite.with_overrides({"run.benchmarks": ("livecodebench_v6",)})
    with pytest.raises(DataError, match="livecodebench_v6"):
        load_selected(named, None)
