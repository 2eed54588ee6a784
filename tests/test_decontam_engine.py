"""Engine-level tests: tokenizer agreement, datasketch identity, streaming, formats, engines."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from datasketch import MinHash

from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, run_audit
from vt_eval.decontam.hashing import token_arrays, token_strings
from vt_eval.decontam.minhash import Signer
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.normalize import prepare, tokenize, tokenize_with_offsets
from vt_eval.decontam.policy import load_policy
from vt_eval.decontam.readers import PieceEvent, Task, detect_shard, iter_events
from vt_eval.decontam.scan import ScanOptions

ITEM = BenchItem("demo", "q7", "Let $S$ be the set of lattice points $(x,y)$ with $0\\le x,y\\le 20$ such "
                 "that the distance from $(x,y)$ to the origin is an integer. Find the number of "
                 "elements of $S$ whose coordinates are both prime.")
BENCH = BenchmarkSet((ITEM,), {"demo": {"items": 1}})


def _audit(paths: list[Path], **kw):
    options = kw.pop("options", ScanOptions())
    return run_audit(paths, BENCH, load_policy(), AuditConfig(hash_files=False, options=options, **kw))


@pytest.mark.parametrize("text", [
    ITEM.text, "Ünïcode café ﬁnd x² ½ — ‘quoted’ Straße İstanbul e\u0301t\u00e9 ８９",
    "\\frac{1}{2}+\\sqrt{x_1}\\cdot\\left(a^{10}\\right) 17_b 0x1F a-b_c", "", "   \n\t ",
    "inte\u00adger&nbsp;x&#8203;y &#65;B &amp;nbsp; AT&T &lt;x&gt; Fіnd ΤΗΕ \u200dsum\ufeff",
])
def test_numpy_tokenizer_equals_canonical(text: str) -> None:
    buf = prepare(text).encode("utf-8")
    assert token_strings(buf, token_arrays(buf)) == tokenize(text)
    offsets = tokenize_with_offsets(text)
    assert list(offsets.words) == tokenize(text)
    for word, start, end in zip(offsets.words, offsets.starts, offsets.ends):
        assert prepare(text[start:end]).strip() != "" and word in prepare(text[start:end])


def test_minhash_signatures_are_datasketch_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**32, size=700, dtype=np.uint64).astype(np.uint32)
    offsets = np.array([0, 3, 400, 401, 700])
    signer = Signer(128, 1)
    a, b = signer.permutations()
    sigs = signer.sign(hashes, offsets, a, b)
    for r in range(4):
        ref = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=int)
        ref.update_batch(hashes[offsets[r]:offsets[r + 1]].tolist())
        assert np.array_equal(ref.hashvalues, sigs[r])


def _corpus(path: Path, rows: int, plant_at: set[int]) -> None:
    rng = random.Random(3)
    words = "alpha beta gamma delta prime integer sum product lattice origin distance".split()
    with open(path, "w", encoding="utf-8") as out:
        for i in range(rows):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 200)))
            if i in plant_at:
                text = f"{text} {ITEM.text} {text}"
            out.write(json.dumps({"prompt": text, "id": i}) + "\n")


def test_process_pool_and_chunks_give_identical_results(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    _corpus(path, 3000, {5, 1234, 2999})
    single = _audit([path], workers=1)
    multi = _audit([path], workers=2, chunk_bytes=1 << 18)
    assert single.errors == multi.errors == []
    assert single.matches == multi.matches
    assert sorted({m["row"] for m in single.matches}) == [5, 1234, 2999]
    assert single.summary["training"]["rows"] == multi.summary["training"]["rows"] == 3000


def test_ray_engine_gives_identical_results(tmp_path: Path) -> None:
    pytest.importorskip("ray.data")
    path = tmp_path / "c.jsonl"
    _corpus(path, 600, {17, 599})
    local = _audit([path], workers=1, chunk_bytes=1 << 16)
    ray_run = _audit([path], workers=2, chunk_bytes=1 << 16, engine="ray")
    assert ray_run.errors == [] and len(local.matches) >= 2
    assert ray_run.matches == local.matches


def test_huge_single_line_is_streamed_with_overlap(tmp_path: Path) -> None:
    piece = 1 << 16
    filler = ("the quick brown fox jumps over the lazy dog " * 20000)
    cut = piece * 5 - 40  # the item straddles the boundary between piece 5 and 6
    line = filler[:cut] + ITEM.text + filler[cut:]
    path = tmp_path / "big.txt"
    path.write_text(line + "\n", encoding="utf-8")
    options = ScanOptions(max_line_bytes=piece)
    events = list(iter_events(Task(detect_shard(0, path)), None, piece))
    assert all(isinstance(e, PieceEvent) and len(e.raw) <= piece for e in events)
    assert "".join(e.text for e in events) == line
    outcome = _audit([path], workers=1, options=options)
    ngram = [m for m in outcome.matches if m["method"] == "ngram"]
    assert len(ngram) == 1 and ngram[0]["ngram"]["13"]["containment"] == 1.0
    item_end = len(ITEM.text) - 1  # the last token "prime" ends before the final "."
    assert ngram[0]["row_span"] == [cut, cut + item_end]
    assert ngram[0]["row_text"] == ITEM.text[:item_end]
    assert outcome.summary["training"]["files"][0]["oversized_rows"] == 1


def _write_formats(tmp_path: Path) -> list[Path]:
    rows = [{"messages": [{"role": "user", "content": "hi " + ITEM.text}]}, {"messages": []}]
    lines = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    (tmp_path / "c.json").write_text(json.dumps(rows))
    (tmp_path / "e.txt").write_text("nothing\n\n" + ITEM.text + "\n")  # two paragraphs
    pq.write_table(pa.table({"text": ["x", ITEM.text]}), tmp_path / "d.parquet")
    return [tmp_path / n for n in ("a.jsonl.gz", "b.jsonl.zst", "c.json", "d.parquet", "e.txt")]


def test_every_format_finds_the_copy(tmp_path: Path) -> None:
    paths = _write_formats(tmp_path)
    outcome = _audit(paths, workers=1)
    assert outcome.errors == []
    found = sorted((Path(m["file"]).name, m["row"]) for m in outcome.matches if m["method"] == "ngram")
    assert found == [("a.jsonl.gz", 0), ("b.jsonl.zst", 0), ("c.json", 0), ("d.parquet", 1), ("e.txt", 1)]


def test_bad_inputs_fail_closed_or_are_counted(tmp_path: Path) -> None:
    corrupt = tmp_path / "bad.jsonl.gz"
    corrupt.write_bytes(gzip.compress(json.dumps({"text": str(random.Random(1).random())}).encode() * 5000)[:300])
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    invalid = tmp_path / "inv.jsonl"
    invalid.write_text('{"text": "ok"}\n{broken\n[1, 2]\n\n')
    outcome = _audit([corrupt, binary, empty, invalid], workers=1)
    assert len(outcome.errors) == 3
    assert "bad.jsonl.gz" in outcome.errors[0] and "binary data" in outcome.errors[1]
    assert outcome.errors[2] == f"{empty}: no rows (an empty training file cannot be audited)"
    files = {Path(f["path"]).name: f for f in outcome.summary["training"]["files"]}
    assert files["empty.jsonl"]["rows"] == 0 and outcome.summary["training"]["empty_files"]
    assert files["inv.jsonl"]["skipped"] == {"blank_line": 1, "invalid_json": 1, "not_an_object": 1}
    assert files["inv.jsonl"]["skip_examples"][0] == (
        f"{invalid}:line 2: invalid_json (Expecting property name enclosed in double quotes: "
        f"line 1 column 2 (char 1))")
    assert not outcome.summary["ok"]


def test_unknown_text_field_lists_the_available_ones(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps({"question": "q", "solution": "s"}) + "\n")
    outcome = _audit([path], workers=1, options=ScanOptions(text_fields=("problem",)))
    assert len(outcome.errors) == 1
    assert "['problem'] not found" in outcome.errors[0] and "question, solution" in outcome.errors[0]


def test_benchmark_without_items_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps({"text": "q"}) + "\n")
    outcome = run_audit([path], BenchmarkSet((), {}), load_policy(), AuditConfig(hash_files=False))
    assert outcome.errors == ["no benchmark items to audit"]
