"""The normaliser folds what scraped web copies of benchmark items really contain: HTML entities,
soft hyphens and zero-width characters inside words, NFKC forms, homoglyphs. A copy disguised so
must be found by the n-gram pass with its span pointing into the original row text."""

from __future__ import annotations

from pathlib import Path

import pytest

from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, run_audit
from vt_eval.decontam.hashing import token_arrays, token_strings
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.normalize import confusables_table, prepare, tokenize, tokenize_with_offsets
from vt_eval.decontam.policy import load_policy

ITEM = BenchItem("demo", "q1", "Find the number of ordered pairs of integers such that 12 divides "
                 "the sum of their squares and the difference of their cubes is positive.")


def _disguise(kind: str) -> str:
    text = ITEM.text
    if kind == "nbsp_entities":
        return text.replace(" ", "&nbsp;").replace("Find", "&#70;ind").replace("12", "&#x31;&#x32;")
    if kind == "soft_hyphens":
        return text.replace("number", "num\u00adber").replace("integers", "in\u00adte\u00adgers")
    if kind == "zero_width":
        return text.replace("ordered", "or\u200bde\u200cred").replace("squares", "squ\u2060ares\ufeff")
    if kind == "nfkc":  # full-width digits and letters, ligatures
        return text.replace("12", "\uff11\uff12").replace("Find", "\uff26ind").replace("difference", "di\ufb00erence")
    if kind == "homoglyphs":  # Cyrillic and Greek look-alikes
        return text.replace("a", "\u0430").replace("o", "\u03bf").replace("e", "\u0435")
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["nbsp_entities", "soft_hyphens", "zero_width", "nfkc", "homoglyphs"])
def test_disguised_copy_is_found_with_exact_span(tmp_path: Path, kind: str) -> None:
    disguised = _disguise(kind)
    assert tokenize(disguised) == tokenize(ITEM.text)
    row = f"Intro line. {disguised} Outro."
    path = tmp_path / "web.txt"
    path.write_text(row + "\n", encoding="utf-8")
    outcome = run_audit([path], BenchmarkSet((ITEM,), {"demo": {"items": 1}}), load_policy(),
                        AuditConfig(workers=1, hash_files=False))
    ngram = [m for m in outcome.matches if m["method"] == "ngram"]
    assert len(ngram) == 1 and ngram[0]["ngram"]["13"]["containment"] == 1.0 and ngram[0]["counts_by"]
    start, end = ngram[0]["row_span"]
    assert row[start:end] == ngram[0]["row_text"] and start == len("Intro line. ")
    assert tokenize(row[start:end]) == tokenize(ITEM.text)[:len(tokenize(row[start:end]))]


@pytest.mark.parametrize("text, tokens", [
    ("a&nbsp;b &#65;&#x42; &amp;nbsp;", ["a", "b", "ab", "nbsp"]),  # unescaped exactly once
    ("AT&T &lt;x&gt; R&D", ["at", "t", "x", "r", "d"]),
    ("inte\u00adger ze\u200bro j\u200doin", ["integer", "zero", "join"]),
    ("\uff11\uff12\uff13 \ufb01nd x\u00b2", ["123", "find", "x", "2"]),
    ("\u0422\u041d\u0415 \u0440\u0456\u0435", ["the", "pie"]),
])
def test_normaliser_folds(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    buf = prepare(text).encode("utf-8")
    assert token_strings(buf, token_arrays(buf)) == tokens
    offsets = tokenize_with_offsets(text)
    assert list(offsets.words) == tokens
    for word, start, end in zip(offsets.words, offsets.starts, offsets.ends):
        assert tokenize(text[start:end]) == [word]


def test_confusables_fold_only_non_ascii_letters_and_digits_of_the_same_kind() -> None:
    table = confusables_table()
    assert all(c > 127 and t.isascii() and t.isalnum() and t == t.lower() for c, t in table.items())
    assert table[ord("\u0430")] == "a" and table[ord("\u0399")] == "i"  # Cyrillic a; Greek capital iota
    assert tokenize("Ι ι I i") == ["i", "i", "i", "i"]
