"""The probe library's pure parts: texts, seeded perturbations, overlap, statistics, dates and the
benchmark comparison (no model)."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

from vt_eval.cards import get_card
from vt_eval.data import Item, load_benchmark
from vt_eval.probes.compare import STATISTICS, compare
from vt_eval.probes.completion import answer_hit, score_continuation
from vt_eval.dates import difficulty, item_date
from vt_eval.probes.overlap import longest_common_substring, ngram_overlap, numbers_recalled, rouge_l
from vt_eval.probes.perturb import change_numbers, perturbed_copies, reorder_sentences
from vt_eval.probes.settings import ProbeSettings, load_probe_settings
from vt_eval.probes.stats import (diff_ci, mean_ci, permutation_p, stratified_diff_ci,
                                  stratified_permutation_p)
from vt_eval.probes.texts import ProbeItem, before_question, cut, normalize, numbers, sentences
from vt_eval.errors import ConfigError

PROBLEM = ("Let $N$ be the number of ordered pairs $(a,b)$ with $1 \\le a, b \\le 20$. "
           "Each pair is written on a card. Find the remainder when $N$ is divided by $1000$.")


def test_cut_normalize_and_question() -> None:
    assert normalize(" a \n\n  b\tc ") == "a b c"
    prefix, rest = cut("one two three four", 0.5)
    assert (prefix, rest) == ("one two", " three four")
    assert cut("one two", 0.99) == ("one", " two")  # the continuation never empty
    assert numbers(PROBLEM) == ["1", "20", "1000"]
    assert len(sentences(PROBLEM)) == 3
    assert before_question(PROBLEM) == ("Let $N$ be the number of ordered pairs $(a,b)$ with "
                                        "$1 \\le a, b \\le 20$. Each pair is written on a card.")
    assert before_question("Find $x$ if $x+1=2$.") is None  # nothing before the question


def test_perturbations_are_seeded_different_and_keep_shape() -> None:
    item = ProbeItem("b", "7", PROBLEM)
    first, again = perturbed_copies(item, 2, seed=3), perturbed_copies(item, 2, seed=3)
    assert first == again and len(first) == 4
    assert perturbed_copies(item, 2, seed=4) != first
    changed = change_numbers(PROBLEM, random.Random(0))
    assert changed is not None and changed != PROBLEM
    assert [len(n) for n in numbers(changed)] == [len(n) for n in numbers(PROBLEM)]
    assert all(a != b for a, b in zip(numbers(changed), numbers(PROBLEM)))
    reordered = reorder_sentences(PROBLEM, random.Random(0))
    assert reordered is not None and reordered != PROBLEM
    assert sorted(sentences(reordered)) == sorted(sentences(PROBLEM))
    assert change_numbers("no digits here", random.Random(0)) is None
    assert reorder_sentences("One sentence only.", random.Random(0)) is None


def test_overlap_measures() -> None:
    ref = "the Free Software Foundation, either version 3 of the License"
    assert rouge_l(ref, ref) == pytest.approx(1.0)
    assert rouge_l(ref, "completely unrelated words here") == 0.0
    assert ngram_overlap(ref, ref, 3) == 1.0
    assert ngram_overlap(ref, "the Free Software Foundation, or so", 3) == pytest.approx(2 / 8)
    assert ngram_overlap("two words", "two words", 3) is None
    assert longest_common_substring("abcdef", "xxcdexx") == pytest.approx(3 / 6)
    assert numbers_recalled(ref, "version 3") == 1.0 and numbers_recalled("no numbers", "1") is None
    settings = ProbeSettings(continuation_words=3)
    scored = score_continuation(" a b c d e", " a b c x y", settings)
    assert scored["reference"] == "a b c" and scored["rouge_l"] == pytest.approx(1.0)


def test_answer_hit_is_exact() -> None:
    assert answer_hit("70", " $70$. The sum")
    assert answer_hit("70", " 070")  # same integer
    assert not answer_hit("70", " 7 or 70")  # only the first answer-like token counts
    assert answer_hit("\\frac{1}{576}", " \\frac{1}{576}.")
    assert not answer_hit("", " 70")


def test_bootstrap_and_permutation_are_seeded_and_sane() -> None:
    rng = np.random.default_rng(0)
    a, b = list(rng.normal(1.0, 1, 40)), list(rng.normal(0.0, 1, 40))
    one, two = mean_ci(a, 500, 0.95, 1, "x"), mean_ci(a, 500, 0.95, 1, "x")
    assert one == two and one.low < one.value < one.high and one.n == 40
    assert mean_ci([None, None], 500, 0.95, 0, "x").value is None
    diff = diff_ci(a, b, 1000, 0.95, 0, "d")
    assert diff.low > 0.1 and diff.value == pytest.approx(np.mean(a) - np.mean(b))
    assert permutation_p(a, b, 999, 0, "p") < 0.01
    assert permutation_p(b, a, 999, 0, "p") > 0.9  # one-sided: the wrong direction is not evidence
    same = list(rng.normal(0, 1, 30))
    assert permutation_p(same[:15], same[15:], 999, 0, "p", alternative="two-sided") > 0.05


def test_stratified_statistics_control_for_difficulty() -> None:
    # Before-items are all easy and after-items all hard: the raw gap is large, but within each
    # stratum there is none, which the stratified statistic must show.
    values = [0.9, 0.9, 0.9, 0.9, 0.2, 0.9, 0.2, 0.2, 0.2, 0.2]
    before = [True, True, True, True, True, False, False, False, False, False]
    strata = ["easy"] * 4 + ["hard"] + ["easy"] + ["hard"] * 4
    adjusted = stratified_diff_ci(values, before, strata, 500, 0.95, 0, "s")
    assert adjusted.value == pytest.approx(0.0)
    assert diff_ci([v for v, b in zip(values, before) if b], [v for v, b in zip(values, before) if not b],
                   500, 0.95, 0, "r").value == pytest.approx(0.42)
    assert stratified_permutation_p(values, before, strata, 499, 0, "s") > 0.5


def test_item_dates_and_difficulty_from_cards() -> None:
    aime = get_card("aime_2025")
    assert item_date(aime, Item("3", "q", "1")) == date(2025, 2, 6)
    assert item_date(aime, Item("16", "q", "1")) == date(2025, 2, 12)
    assert difficulty(aime, Item("16", "q", "1")) == "position 1-5"
    assert difficulty(aime, Item("30", "q", "1")) == "position 11-15"
    assert item_date(get_card("hmmt_feb_2025"), Item("9", "q", "1")) == date(2025, 2, 15)
    leetcode = get_card("leetcode_contests")
    first = load_benchmark(leetcode).items[0]
    assert item_date(leetcode, first) == date.fromisoformat(first.row["date"])
    assert difficulty(leetcode, first) == f"difficulty={first.row['difficulty'].lower()}"
    assert item_date(get_card("gpqa_diamond"), Item("x", "q", "a")) is None


def test_compare_flags_only_a_clear_gap_and_says_what_it_means() -> None:
    settings = ProbeSettings(bootstrap=500, permutations=500)
    seen = [{"mean_logprob": -1.0 + 0.01 * i, "rouge_l": 0.6} for i in range(12)]
    fresh = [{"mean_logprob": -2.0 + 0.01 * i, "rouge_l": 0.1} for i in range(12)]
    similar = [{"mean_logprob": -2.0 + 0.012 * i, "rouge_l": 0.1} for i in range(12)]
    out = compare({"seen": seen, "similar": similar, "control": fresh}, ["control"], settings)
    assert out["control"]["role"] == "control" and "vs_controls" not in out["control"]
    assert set(out["seen"]["stands_out_on"]) == {"mean_logprob", "rouge_l"}
    assert out["similar"]["stands_out_on"] == []
    assert out["seen"]["vs_controls"]["mean_logprob"]["p_value"] < 0.01
    assert set(out["seen"]["statistics"]) == set(STATISTICS)


def test_settings_from_a_probe_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "probe.toml"
    path.write_text("[model]\nname = 'x'\n[probe]\nmin_k = 0.5\nmargin_rouge_l = 0.2\n")
    settings = load_probe_settings(path)
    assert settings.min_k == 0.5 and settings.margin("rouge_l") == 0.2
    path.write_text("[probe]\nmin_kk = 0.5\n")
    with pytest.raises(ConfigError, match="min_kk"):
        load_probe_settings(path)
    path.write_text("[probe]\ncuts = [0.5, 1.0]\n")
    with pytest.raises(ConfigError, match="cuts"):
        load_probe_settings(path)
