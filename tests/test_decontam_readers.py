"""Fail closed on inputs the audit cannot vouch for: each is an audit error (exit 2) or a counted
skip that the gate refuses (`gate.max_skipped_rows`), never a silent "policy holds"."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import zstandard

from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, run_audit, write_outputs
from vt_eval.decontam.cli import main as decontam_main
from vt_eval.decontam.filter import run_filter
from vt_eval.decontam.jsonstream import JsonLineValidator, JsonStreamError
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.policy import load_policy
from vt_eval.decontam.scan import ScanOptions

ITEM = BenchItem("aime_2026", "q1", "Let $N$ be the number of ways to tile a $3\\times 7$ board with "
                 "dominoes and trominoes so that no two trominoes touch. Find the remainder of $N$.")
BENCH = BenchmarkSet((ITEM,), {"aime_2026": {"items": 1}})
PIECE = 1 << 12


def audit(paths: list[Path], **options: object):
    return run_audit(paths, BENCH, load_policy(),
                     AuditConfig(workers=1, hash_files=False, options=ScanOptions(**options)))  # type: ignore[arg-type]


def check_exit(outcome, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    write_outputs(outcome, out)
    code = decontam_main(["check", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _rows(count: int, plant_at: int | None = None) -> bytes:
    rows = [{"text": f"row {i}: " + ("the copy " + ITEM.text if i == plant_at else "harmless words " * 8)}
            for i in range(count)]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _blocks(data: bytes, block: int = 1 << 14) -> tuple[bytes, list[int]]:
    """One zstd frame written in flushed blocks; also the compressed offsets of block boundaries."""
    cobj = zstandard.ZstdCompressor().compressobj()
    out, bounds = b"", []
    for start in range(0, len(data), block):
        out += cobj.compress(data[start:start + block]) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        bounds.append(len(out))
    return out + cobj.flush(), bounds


@pytest.mark.parametrize("where", ["block_boundary", "mid_frame"])
def test_truncated_zstd_is_an_audit_error(tmp_path: Path, where: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, bounds = _blocks(_rows(2000, plant_at=1900))
    cut = bounds[len(bounds) // 2] if where == "block_boundary" else len(data) // 2 + 3
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(data[:cut])
    outcome = audit([path])
    assert len(outcome.errors) == 1 and f"{path}: unreadable" in outcome.errors[0]
    assert "truncated" in outcome.errors[0]
    code, text = check_exit(outcome, tmp_path / "audit", capsys)
    assert code == 2 and "fail closed" in text


def test_every_frame_of_a_multi_frame_zstd_is_read(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "frames.jsonl.zst"
    path.write_bytes(compressor.compress(_rows(50)) + compressor.compress(_rows(50, plant_at=10)))
    outcome = audit([path])
    assert outcome.errors == [] and outcome.summary["training"]["rows"] == 100
    assert {m["row"] for m in outcome.matches} == {60}


def test_file_with_zero_rows_is_an_audit_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, empty = tmp_path / "good.jsonl", tmp_path / "empty.jsonl.zst"
    good.write_bytes(_rows(5))
    empty.write_bytes(zstandard.ZstdCompressor().compress(b""))
    outcome = audit([good, empty])
    assert outcome.errors == [f"{empty}: no rows (an empty training file cannot be audited)"]
    assert check_exit(outcome, tmp_path / "audit", capsys)[0] == 2


def test_file_with_zero_audited_text_is_an_audit_error(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_text("{}\n" * 4)  # (object keys are audited text: {"id": 1} has text)
    outcome = audit([path])
    assert outcome.errors == [f"{path}: 4 row(s) but no audited text (skipped: {{'no_text': 4}})"]
    assert check_exit(outcome, tmp_path / "audit", capsys)[0] == 2


@pytest.mark.parametrize("fields, value, reason", [
    (None, {}, "no_text"),
    (("text",), 123, "non_string_text_field"), (("text",), None, "non_string_text_field"),
    (("text",), [1, 2], "non_string_text_field"), (("text",), ["ok", 5], "non_string_text_field"),
    (("text",), [], "non_string_text_field"),
])
def test_row_whose_text_is_not_a_string_is_counted_and_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: tuple[str, ...] | None,
        value: object, reason: str) -> None:
    path = tmp_path / "mixed.jsonl"
    row = value if fields is None else {"text": value}  # without fields, "text" is audited text
    path.write_bytes(_rows(3) + json.dumps(row).encode() + b"\n")
    outcome = audit([path], text_fields=fields)
    assert outcome.errors == []
    record = outcome.summary["training"]["files"][0]
    assert record["skipped"] == {reason: 1} and record["skip_examples"][0].startswith(f"{path}:line 4: {reason}")
    code, text = check_exit(outcome, tmp_path / "audit", capsys)
    assert code == 2 and "1 training row(s) skipped" in text and "gate.max_skipped_rows" in text


def test_long_line_of_binary_garbage_is_counted_and_refused(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    garbage = bytes(b for b in range(1, 256) if b != 10) * 200  # no NUL or newline, invalid UTF-8
    path = tmp_path / "junk.txt"
    # three paragraphs: the garbage one is skipped, the others are audited
    path.write_bytes(b"a fine first line\n\n" + garbage + b"\n\n" + ITEM.text.encode() + b"\n")
    outcome = audit([path], max_line_bytes=PIECE)
    record = outcome.summary["training"]["files"][0]
    assert outcome.errors == [] and record["skipped"] == {"invalid_utf8": 1} and record["rows"] == 3
    assert [m["row"] for m in outcome.matches if m["method"] == "ngram"] == [2]
    assert check_exit(outcome, tmp_path / "audit", capsys)[0] == 2


@pytest.mark.parametrize("tail, reason", [(b'"}', None), (b"", "invalid_json"), (b'"', "invalid_json"),
                                          (b'", "x": tru}', "invalid_json")])
def test_long_json_line_is_checked_to_its_last_byte(tmp_path: Path, tail: bytes, reason: str | None) -> None:
    body = ("filler words " * 900 + ITEM.text).encode()
    path = tmp_path / "long.jsonl"
    path.write_bytes(_rows(2) + b'{"text": "' + body + tail + b"\n" + _rows(1))
    outcome = audit([path], max_line_bytes=PIECE)
    record = outcome.summary["training"]["files"][0]
    assert outcome.errors == [] and record["rows"] == 4 and record["oversized_rows"] == 1
    found = [m["row"] for m in outcome.matches if m["method"] == "ngram"]
    assert record["skipped"] == ({reason: 1} if reason else {})
    assert found == ([] if reason else [2])


def test_filter_takes_back_the_pieces_of_a_long_line_that_went_bad(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(_rows(2) + b'{"text": "' + b"words " * 2000 + b"\n" + _rows(1))
    outcome = audit([path], max_line_bytes=PIECE)
    write_outputs(outcome, tmp_path / "audit")
    out = tmp_path / "clean.jsonl"
    reports = run_filter([path], tmp_path / "audit", out, drop_all_matches=False)
    assert reports[0].dropped == {"not audited (invalid_json)": 1} and reports[0].kept == 3
    assert out.read_bytes() == _rows(2) + _rows(1)


def test_planted_copy_in_a_zstd_file_still_fails_the_gate(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.jsonl.zst"
    path.write_bytes(_blocks(_rows(300, plant_at=299))[0])
    outcome = audit([path])
    assert outcome.errors == [] and outcome.summary["training"]["rows"] == 300
    code, text = check_exit(outcome, tmp_path / "audit", capsys)
    assert code == 1 and "FAIL aime_2026: 1/1 items contaminated" in text


def _random_json(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        return rng.choice([1, -2.5e-3, 0, True, None, 'q"\\\n\x01é', "", 10**20, float("nan")])
    if roll < 0.7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i}": _random_json(rng, depth + 1) for i in range(rng.randint(0, 3))}


def _streamed_verdict(text: str, rng: random.Random, most: int) -> bool:
    validator = JsonLineValidator()
    try:
        start = 0
        while start < len(text):
            size = rng.randint(1, most)
            validator.feed(text[start:start + size])
            start += size
        validator.finish()
    except JsonStreamError:
        return False
    return True


def test_streamed_json_check_agrees_with_json_loads() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        text = json.dumps({"a": _random_json(rng), "b": _random_json(rng)}, indent=rng.choice([None, 1]))
        text = text.replace("\n", " ")
        edit = rng.randrange(len(text))
        text = rng.choice([text, text[:edit], text[:edit] + rng.choice('{}[]",:\\ 0e.-t') + text[edit + 1:]])
        try:
            expected = isinstance(json.loads(text), dict)
        except ValueError:
            expected = False
        assert all(_streamed_verdict(text, rng, most) == expected for most in (3, 64, 1 << 20)), text
