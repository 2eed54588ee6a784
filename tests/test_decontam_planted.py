"""Planted contamination: real benchmark items copied, embedded, edited; decoys of boilerplate.

Asserts exact recall per edit type and method, exact precision, and exact evidence spans.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest

from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, load_benchmark_items, run_audit
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.policy import load_policy

FILLER_WORDS = ("we compute the derivative and substitute back so the expression simplifies "
                "consider the case where each term is positive then by induction the claim holds "
                "for every step of the argument hence summing gives a bound which is tight").split()
STOCK = ("Find the remainder when $2^{2024}$ is divided by $1000$.",
         "The probability can be written as $\\frac{m}{n}$, where $m$ and $n$ are relatively prime "
         "positive integers. Find $m+n$.",
         "Let's think step by step and output the final answer within \\boxed{}.",
         "Find the number of ordered pairs $(x,y)$ of integers such that",
         "Let $ABC$ be a triangle with side lengths",
         "Find the sum of all positive integers $n$ such that")


def filler(rng: random.Random, words: int) -> str:
    sentences = []
    for _ in range(words // 12):
        body = " ".join(rng.choice(FILLER_WORDS) for _ in range(11))
        sentences.append(f"{body.capitalize()} with $x_{rng.randint(1, 9)} = {rng.randint(2, 999)}$.")
    return " ".join(sentences)


def _change_number(text: str) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 7), text, count=1)


def _reorder(text: str) -> str:
    parts = re.split(r"(?<=[.?!])\s+", text.strip())
    return " ".join(reversed(parts)) if len(parts) > 1 else text


def _near_duplicate(text: str) -> str:
    words = text.split(" ")
    return " ".join("quantity" if i % 9 == 4 else w for i, w in enumerate(words))


EDITS = {
    "verbatim": lambda t, rng: t,
    "embedded": lambda t, rng: f"{filler(rng, 1500)} {t} {filler(rng, 1500)}",
    "whitespace": lambda t, rng: re.sub(r" ", lambda m: rng.choice(["  ", "\n", " \t "]), t),
    "latex_spacing": lambda t, rng: re.sub(r"([\^_{}=+\-])", r" \1 ", t),
    "case": lambda t, rng: t.upper(),
    "changed_number": lambda t, rng: _change_number(t),
    "reordered_sentences": lambda t, rng: _reorder(t),
    "near_duplicate": lambda t, rng: _near_duplicate(t),
}
PER_EDIT = 10


def build(path: Path, items: list[BenchItem]) -> tuple[dict[int, tuple[str, BenchItem]], int]:
    """Write the planted set; return row -> (edit type, planted item) and the number of decoys."""
    rng = random.Random(20260904)
    rows: list[dict] = []
    truth: dict[int, tuple[str, BenchItem]] = {}
    for e, (edit, fn) in enumerate(EDITS.items()):
        for item in [items[(e * 7 + k * 3) % len(items)] for k in range(PER_EDIT)]:
            truth[len(rows)] = (edit, item)
            rows.append({"messages": [{"role": "user", "content": fn(item.text, rng)},
                                      {"role": "assistant", "content": filler(rng, 60)}]})
    decoys = 0
    for _ in range(40):
        stock = rng.sample(STOCK, 3)
        rows.append({"text": f"{stock[0]} {filler(rng, 24)} {stock[1]} {stock[2]}"})
        decoys += 1
    for _ in range(30):
        rows.append({"text": filler(rng, 400)})
    rng.shuffle(order := list(range(len(rows))))
    with open(path, "w", encoding="utf-8") as handle:
        for new, old in enumerate(order):
            handle.write(json.dumps(rows[old]) + "\n")
    return {new: truth[old] for new, old in enumerate(order) if old in truth}, decoys


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    bench = load_benchmark_items(["aime_2025", "aime_2026", "hmmt_feb_2025"])
    path = tmp_path_factory.mktemp("planted") / "sft.jsonl"
    pool = [it for it in bench.items if it.benchmark == "aime_2025"]
    truth, _ = build(path, pool)
    outcome = run_audit([path], bench, load_policy(), AuditConfig(workers=1, hash_files=False))
    assert outcome.errors == []
    return truth, outcome, path


def _detected(outcome, truth, method: str | None):
    found = defaultdict(set)
    for m in outcome.matches:
        if m["counts_by"] and (method is None or m["method"] == method):
            found[m["row"]].add((m["benchmark"], m["item_id"]))
    return found


def recall_table(outcome, truth) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for method in ("ngram", "minhash", None):
        found = _detected(outcome, truth, method)
        per = defaultdict(int)
        for row, (edit, item) in truth.items():
            per[edit] += (item.benchmark, item.item_id) in found.get(row, set())
        table[method or "any"] = dict(per)
    return table


# out of PER_EDIT = 10 planted rows per edit type. MinHash LSH is probabilistic over the shingle
# hashes: near_duplicate recall moved from 3 to 5 when the token hash changed (issue 22).
EXPECTED_RECALL = {
    "ngram": {"verbatim": 10, "embedded": 10, "whitespace": 10, "latex_spacing": 10, "case": 10,
              "changed_number": 10, "reordered_sentences": 10, "near_duplicate": 4},
    "minhash": {"verbatim": 10, "embedded": 0, "whitespace": 10, "latex_spacing": 10, "case": 10,
                "changed_number": 10, "reordered_sentences": 10, "near_duplicate": 5},
    "any": {"verbatim": 10, "embedded": 10, "whitespace": 10, "latex_spacing": 10, "case": 10,
            "changed_number": 10, "reordered_sentences": 10, "near_duplicate": 7},
}


def test_recall_per_edit_type_and_method(planted) -> None:
    truth, outcome, _ = planted
    assert recall_table(outcome, truth) == EXPECTED_RECALL


def _is_true(match, truth) -> bool:
    return match["row"] in truth and (truth[match["row"]][1].benchmark,
                                      truth[match["row"]][1].item_id) == (match["benchmark"], match["item_id"])


def test_precision_is_exact_and_decoys_are_clean(planted) -> None:
    truth, outcome, _ = planted
    counting = [m for m in outcome.matches if m["counts_by"]]
    correct = [m for m in counting if _is_true(m, truth)]
    assert (len(correct), len(counting)) == (139, 139)  # precision 1.0 (ngram 74 + minhash 65 pairs)
    # Below-policy matches are kept as evidence but never count: 17 n-gram matches on shared letter
    # lists like "A, B, C, D". MinHash evidence is recorded only at exact Jaccard >= min_jaccard, so
    # the LSH candidates with a low exact Jaccard (8 of them on decoy/filler rows) are not recorded.
    weak = [m for m in outcome.matches if not _is_true(m, truth)]
    assert (len(weak), sum(m["row"] not in truth for m in weak)) == (17, 0)
    assert all(m["method"] == "ngram" for m in weak)
    assert not any(m["counts_by"] for m in weak)


def test_evidence_spans_point_into_the_original_texts(planted) -> None:
    truth, outcome, path = planted
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    checked = 0
    for m in (m for m in outcome.matches if _is_true(m, truth)):
        edit, item = truth[m["row"]]
        s, e = m["item_span"]
        assert item.text[s:e] == m["item_text"]
        field_text = rows[m["row"]]["messages"][0]["content"]
        fs, fe = m["row_field_span"]
        assert m["row_field"] == "messages[0].content"
        assert field_text[fs:fe] == m["row_text"]
        if edit in ("verbatim", "embedded") and m["method"] == "ngram":
            start = field_text.index(item.text)
            assert (fs, fe) == (start + s, start + e)
            assert m["containment"] == 1.0
            checked += 1
    assert checked == 2 * PER_EDIT


def test_exact_span_of_one_embedded_copy(tmp_path: Path) -> None:
    item = BenchItem("demo", "q1", "Let $N$ be the number of ways to tile a $3\\times 7$ board "
                     "with dominoes and trominoes so that no two trominoes touch. Find $N$.")
    doc = "Intro words here. " * 50 + "PROBLEM: " + item.text.replace("tile", "TILE") + " Outro." * 40
    path = tmp_path / "d.txt"
    path.write_text(doc + "\n", encoding="utf-8")
    bench = BenchmarkSet((item,), {"demo": {"items": 1}})
    outcome = run_audit([path], bench, load_policy(), AuditConfig(workers=1, hash_files=False))
    match = next(m for m in outcome.matches if m["method"] == "ngram")
    start = doc.index("Let $N$")
    assert match["item_span"] == [0, len(item.text) - 2]  # up to the last token "n" of "$N$."
    assert match["row_span"] == [start, start + len(item.text) - 2]
    assert match["row_text"] == doc[start:start + len(item.text) - 2]
    assert match["row"] == 0 and match["ngram"]["13"]["containment"] == 1.0
