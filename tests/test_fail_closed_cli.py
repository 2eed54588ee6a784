"""Broken configs, data files and command lines: exit 2 with a message naming the key, file or row;
never a traceback, never a silent default, nothing already computed lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import make_sample
from vt_eval.records import Sample
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter, read_records


def vt_eval(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def assert_usage_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "Traceback" not in out, out
    flat = " ".join(out.split())
    for needle in needles:
        assert needle in flat, out


@pytest.mark.parametrize("line, key", [
    ('[grading]\nunsafe_no_sandbox = "yes"\n', "grading.unsafe_no_sandbox"),
    ("[grading]\nunsafe_no_sandbox = 1\n", "grading.unsafe_no_sandbox"),
    ("[grading]\ntimeout_s = nan\n", "grading.timeout_s"),
    ("[grading]\ntimeout_s = inf\n", "grading.timeout_s"),
    ('[run]\ncontest_after = "2025-13-45"\n', "run.contest_after"),
])
def test_bad_config_values_are_refused_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    config = tmp_path / "eval.toml"
    config.write_text(line)
    assert_usage_error(vt_eval("run", "--config", str(config), "--out", str(tmp_path / "runs")),
                       str(config), key)
    assert not (tmp_path / "runs").exists()


def test_a_non_utf8_config_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "eval.toml"
    config.write_bytes(b'[model]\nname = "caf\xe9"\n')
    assert_usage_error(vt_eval("run", "--config", str(config)), str(config), "not UTF-8")


def test_bad_dates_and_k_zero_fail_before_any_work(tmp_path: Path) -> None:
    assert_usage_error(vt_eval("run", "--suite", "code", "--contest-after", "2025-13-45",
                               "--out", str(tmp_path)), "run.contest_after", "calendar date")
    assert_usage_error(vt_eval("run", "-k", "0", "--out", str(tmp_path)), "at least 1")


@pytest.mark.parametrize("payload, where", [
    (b'{"id": "1", "problem": "p", "answer": "1"}\n{"id": "2", "problem": "caf\xe9", "answer": "2"}\n',
     "not UTF-8 at line 2"),
    (b'{"id": "1", "problem": "p", "answer": "1"}\n{"id": "2", "problem": "unterminated\n',
     "[line 2]: invalid JSON: Unterminated string starting at (column"),
])
def test_broken_benchmark_files_name_the_file_and_line(tmp_path: Path, payload: bytes,
                                                       where: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "aime_2025").mkdir()
    (data / "aime_2025" / "train.jsonl").write_bytes(payload)
    done = vt_eval("run", "--benchmarks", "aime_2025", "--data-dir", str(data), "--out",
                   str(tmp_path / "runs"))
    assert_usage_error(done, "train.jsonl", where)


def test_an_unwritable_out_is_a_usage_error_naming_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_usage_error(vt_eval("run", "--limit", "1", "-k", "1", "--out", str(blocker / "runs")),
                       "cannot write the run directory", str(blocker / "runs"))


def test_a_checkpoint_that_cannot_load_is_exit_2_and_leaves_no_run_dir(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    out = tmp_path / "runs"
    done = vt_eval("run", "--model", str(ckpt), "--backend", "transformers", "--benchmarks",
                   "aime_2025", "--limit", "1", "-k", "1", "--out", str(out))
    assert_usage_error(done, "cannot load model", str(ckpt))
    assert "resume" not in done.stdout
    assert not out.exists() or not any(out.iterdir())


def scored_run(tmp_path: Path) -> RunDir:
    from vt_eval.config import EvalConfig
    config = EvalConfig().with_overrides({"run.benchmarks": ("aime_2025",), "run.limit": 1,
                                          "run.samples": 2, "model.backend": "transformers"})
    run = RunDir(tmp_path / "run")
    run.save_config(config)
    return run


def test_score_refuses_nonsense_timeouts(tmp_path: Path) -> None:
    run = scored_run(tmp_path)
    for value in ("nan", "inf", "0"):
        assert_usage_error(vt_eval("score", str(run.path), "--timeout", value), "grading.timeout_s")


def test_lone_surrogates_are_replaced_flagged_and_never_stop_scoring(tmp_path: Path) -> None:
    run = scored_run(tmp_path)
    from vt_eval.cards import get_card
    from vt_eval.data import load_benchmark
    item = load_benchmark(get_card("aime_2025")).items[0]
    good = make_sample(item.id, f"\\boxed{{{item.answer}}}", 0, benchmark="aime_2025")
    with JsonlWriter(run.samples_path) as writer:
        writer.write(good)
    # A line as an older vt-eval (or another tool) may have written it: a lone-surrogate escape.
    bad = json.loads(make_sample(item.id, "x", 1, benchmark="aime_2025").model_dump_json())
    bad["response"] = "caf\ud800 \\boxed{1}"
    with run.samples_path.open("a") as handle:
        handle.write(json.dumps(bad) + "\n")
    done = vt_eval("score", str(run.path))
    assert done.returncode == 0, done.stdout + done.stderr
    samples = list(read_records(run.samples_path, Sample))
    assert samples[1].response == "caf\ufffd \\boxed{1}" and samples[1].replaced_surrogates == 1
    bench = json.loads(run.results_path.read_text())["benchmarks"][0]
    assert bench["samples_done"] == 2 and bench["verdicts"]["correct"] == 1
    assert bench["verdicts"]["incorrect"] == 1


def test_show_lists_the_problems_a_run_has(tmp_path: Path) -> None:
    run = scored_run(tmp_path)
    with JsonlWriter(run.samples_path) as writer:
        writer.write(make_sample("7", "\\boxed{1}", 0, benchmark="aime_2025"))
    done = vt_eval("show", str(run.path), "--problem", "3")
    assert_usage_error(done, "no samples for problem '3'", "aime_2025: 7")
