"""decontam reads every text (issue 22): each hostile way of hiding a benchmark problem in a
training row is either found (check exits 1) or a counted skip (check exits 2), never "policy
holds"; and each is followed by an honest control (a clean row still passes, a plain copy is
still found). Nothing ends in a traceback."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, run_audit, write_outputs
from vt_eval.decontam.cli import main as decontam_main
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.policy import load_policy
from vt_eval.decontam.scan import ScanOptions

COPY = ("Let $N$ be the number of ways to tile a $3\\times 7$ board with dominoes and trominoes so "
        "that no two trominoes touch. Find the remainder when $N$ is divided by 1000.")
CLEAN = ("A short note about gardening: water the tomatoes early in the morning and keep the soil "
         "loose so that the roots can breathe during the hot summer weeks.")
BENCH = BenchmarkSet((BenchItem("aime_2026", "q1", COPY),), {"aime_2026": {"items": 1}})
HOLDS, VIOLATED, ERROR = 0, 1, 2


def verdict(tmp_path: Path, paths: list[Path], capsys: pytest.CaptureFixture[str],
            **options: object) -> tuple[int, dict]:
    """Audit `paths` and run `decontam check` on the result; (exit code, summary)."""
    outcome = run_audit(paths, BENCH, load_policy(), AuditConfig(
        workers=1, hash_files=False, options=ScanOptions(**options)))  # type: ignore[arg-type]
    out = tmp_path / f"audit-{paths[0].stem}"
    write_outputs(outcome, out)
    code = decontam_main(["check", str(out)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, outcome.summary


def jsonl(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", errors="surrogatepass")
    return path


def skipped(summary: dict) -> dict[str, int]:
    return summary["training"]["files"][0]["skipped"]


def parquet(tmp_path: Path, name: str, table: pa.Table) -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


# --- Parquet binary and map columns ------------------------------------------------------------

def test_copy_in_a_parquet_binary_column_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = pa.table({"id": [1, 2], "blob": pa.array([CLEAN.encode(), COPY.encode()], pa.binary())})
    code, summary = verdict(tmp_path, [parquet(tmp_path, "bin.parquet", table)], capsys)
    assert code == VIOLATED and summary["benchmarks"]["aime_2026"]["contaminated_ids"] == ["q1"]
    # honest control: the same column with clean bytes passes
    clean = pa.table({"id": [1, 2], "blob": pa.array([CLEAN.encode(), CLEAN.encode()], pa.binary())})
    assert verdict(tmp_path, [parquet(tmp_path, "bin_clean.parquet", clean)], capsys)[0] == HOLDS


def test_parquet_binary_that_is_not_utf8_is_a_counted_skip(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    table = pa.table({"blob": pa.array([CLEAN.encode(), b"\xff\xfe" + COPY.encode("utf-16-le")], pa.binary())})
    code, summary = verdict(tmp_path, [parquet(tmp_path, "latin.parquet", table)], capsys)
    assert code == ERROR and skipped(summary) == {"invalid_utf8": 1}
    assert "blob: binary value is not UTF-8" in summary["training"]["files"][0]["skip_examples"][0]


@pytest.mark.parametrize("where", ["value", "key"])
def test_copy_in_a_parquet_map_column_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               where: str) -> None:
    entry = ("note", COPY) if where == "value" else (COPY, "note")
    maps = pa.array([[("a", CLEAN)], [entry]], pa.map_(pa.string(), pa.string()))
    code, summary = verdict(tmp_path, [parquet(tmp_path, f"map_{where}.parquet", pa.table({"m": maps}))], capsys)
    assert code == VIOLATED and summary["training"]["rows"] == 2
    clean = pa.array([[("a", CLEAN)], [("b", CLEAN)]], pa.map_(pa.string(), pa.string()))
    assert verdict(tmp_path, [parquet(tmp_path, f"map_clean_{where}.parquet", pa.table({"m": clean}))],
                   capsys)[0] == HOLDS


def test_parquet_row_pyarrow_cannot_convert_is_a_counted_skip(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    stamps = pa.array([0, 2 ** 62], pa.timestamp("ms"))  # the second is far past year 9999
    table = pa.table({"t": stamps, "text": [COPY, CLEAN]})
    code, summary = verdict(tmp_path, [parquet(tmp_path, "stamps.parquet", table)], capsys)
    assert code == ERROR and skipped(summary) == {"unreadable_row": 1}
    assert summary["benchmarks"]["aime_2026"]["contaminated_ids"] == ["q1"]  # the readable row is audited


# --- JSON object keys and duplicate keys ------------------------------------------------------

def test_copy_as_a_json_object_key_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = jsonl(tmp_path, "keys.jsonl", [json.dumps({"text": CLEAN}), json.dumps({"meta": {COPY: 1}})])
    code, summary = verdict(tmp_path, [path], capsys)
    assert code == VIOLATED
    clean = jsonl(tmp_path, "keys_clean.jsonl", [json.dumps({"text": CLEAN}), json.dumps({"meta": {"score": 1}})])
    assert verdict(tmp_path, [clean], capsys)[0] == HOLDS


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_duplicate_json_key_is_an_invalid_row_not_an_overwrite(tmp_path: Path, fmt: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    hidden = '{"text": %s, "text": %s}' % (json.dumps(COPY), json.dumps(CLEAN))  # json.loads keeps the last
    clean_row = json.dumps({"text": CLEAN})
    lines = [clean_row, hidden]
    path = (jsonl(tmp_path, "dup.jsonl", lines) if fmt == "jsonl"
            else jsonl(tmp_path, "dup.json", ["[" + ", ".join(lines) + "]"]))
    code, summary = verdict(tmp_path, [path], capsys)
    assert code == ERROR and skipped(summary) == {"duplicate_key": 1}
    assert "key 'text' appears twice" in summary["training"]["files"][0]["skip_examples"][0]
    # honest control: the same two texts under distinct keys are both read; the copy is found
    distinct = '{"text": %s, "text2": %s}' % (json.dumps(COPY), json.dumps(CLEAN))
    assert verdict(tmp_path, [jsonl(tmp_path, "distinct.jsonl", [clean_row, distinct])], capsys)[0] == VIOLATED


# --- rows the JSON parser cannot read ----------------------------------------------------------

@pytest.mark.parametrize("hostile, reason", [
    ('{"n": %s, "text": "%s"}' % ("7" * 5000, CLEAN), "unparseable_value"),
    ('{"text": "\\ud800 %s"}' % CLEAN, "invalid_unicode"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "too_deep"),
    ('{"text": "%s", "x": {"y": "\\udfff"}}' % CLEAN, "invalid_unicode"),
])
def test_row_the_parser_cannot_read_is_a_counted_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      hostile: str, reason: str) -> None:
    path = jsonl(tmp_path, "hostile.jsonl", [json.dumps({"text": COPY}), hostile, json.dumps({"text": CLEAN})])
    code, summary = verdict(tmp_path, [path], capsys)
    assert code == ERROR and skipped(summary) == {reason: 1}
    assert summary["training"]["rows"] == 3
    assert summary["benchmarks"]["aime_2026"]["contaminated_ids"] == ["q1"]  # row 0 still audited


def test_readable_neighbours_of_the_hostile_rows_are_read(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Controls: a 40-digit integer, a valid surrogate pair and 200-deep nesting are read, and a
    copy inside the deep nesting is found."""
    nested: object = COPY
    for _ in range(200):
        nested = [nested]
    rows = [json.dumps({"n": int("7" * 40), "text": CLEAN}), '{"text": "\\ud83d\\ude00 %s"}' % CLEAN,
            json.dumps({"deep": nested})]
    code, summary = verdict(tmp_path, [jsonl(tmp_path, "fine.jsonl", rows)], capsys)
    assert code == VIOLATED and skipped(summary) == {} and summary["training"]["rows"] == 3


def test_lone_surrogate_in_a_streamed_long_line_is_a_counted_skip(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    filler = "filler words " * 800
    bad = '{"text": "%s \\ud800 %s"}' % (filler, COPY)
    good = '{"text": "%s \\ud83d\\ude00 %s"}' % (filler, COPY)
    code, summary = verdict(tmp_path, [jsonl(tmp_path, "long.jsonl", [bad])], capsys, max_line_bytes=1 << 12)
    assert code == ERROR and skipped(summary) == {"invalid_unicode": 1}
    code, summary = verdict(tmp_path, [jsonl(tmp_path, "long_ok.jsonl", [good])], capsys, max_line_bytes=1 << 12)
    assert code == VIOLATED and summary["training"]["files"][0]["oversized_rows"] == 1


def test_random_byte_edits_never_end_in_a_traceback(tmp_path: Path) -> None:
    """Every mutated row is audited or a counted skip; the audit itself never raises."""
    rng = random.Random(22)
    base = json.dumps({"messages": [{"role": "user", "content": COPY}], "n": 12, "ok": True})
    lines = []
    for _ in range(300):
        chars = list(base)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[]":,\\u0d8ef7\u0301\u3164 ')
        lines.append("".join(chars))
    path = jsonl(tmp_path, "fuzz.jsonl", lines)
    outcome = run_audit([path], BENCH, load_policy(), AuditConfig(workers=1, hash_files=False))
    record = outcome.summary["training"]["files"][0]
    assert outcome.errors == [] and record["rows"] == 300 and sum(record["skipped"].values()) > 0


# --- the normaliser: combining marks and space fillers -----------------------------------------

@pytest.mark.parametrize("disguise", [
    lambda t: "".join(c + "\u0301" if c.isalpha() else c for c in t),  # a mark after each letter
    lambda t: "".join(c + "\u0336" if c.isalnum() else c for c in t),  # strike-through overlay
    lambda t: t.replace(" ", "\u3164"),   # Hangul filler as the space
    lambda t: t.replace(" ", "\u2800"),   # braille blank
    lambda t: t.replace(" ", "\u115f"),
    lambda t: t.replace(" ", "\uffa0"),
], ids=["acute", "overlay", "hangul_filler", "braille_blank", "choseong_filler", "halfwidth_filler"])
def test_disguised_copy_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str], disguise) -> None:  # type: ignore[no-untyped-def]
    path = jsonl(tmp_path, "disguised.jsonl", [json.dumps({"text": CLEAN}),
                                                json.dumps({"text": "see: " + disguise(COPY)})])
    code, summary = verdict(tmp_path, [path], capsys)
    assert code == VIOLATED and summary["benchmarks"]["aime_2026"]["contaminated_ids"] == ["q1"]
    # honest control: the same disguise on clean text passes
    control = jsonl(tmp_path, "disguised_clean.jsonl", [json.dumps({"text": disguise(CLEAN)})])
    assert verdict(tmp_path, [control], capsys)[0] == HOLDS


# --- plain text and Markdown: hard wrapping ----------------------------------------------------

@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_copy_hard_wrapped_at_40_columns_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  suffix: str) -> None:
    wrapped = textwrap.fill(COPY, 40)
    assert wrapped.count("\n") >= 4
    body = f"# Notes\n\n{textwrap.fill(CLEAN, 40)}\n\n> {wrapped.replace(chr(10), chr(10) + '> ')}\n"
    path = tmp_path / f"wrapped{suffix}"
    path.write_text(body, encoding="utf-8")
    code, summary = verdict(tmp_path, [path], capsys)
    assert code == VIOLATED and summary["training"]["rows"] == 3  # three paragraphs
    # honest control: the clean paragraphs alone pass
    clean = tmp_path / f"clean{suffix}"
    clean.write_text(f"# Notes\n\n{textwrap.fill(CLEAN, 40)}\n", encoding="utf-8")
    assert verdict(tmp_path, [clean], capsys)[0] == HOLDS


def test_wrapped_paragraph_longer_than_the_line_limit_is_streamed(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    text = textwrap.fill(("filler words " * 600) + COPY + (" filler" * 300), 40)
    path = tmp_path / "big.md"
    path.write_text(text + "\n", encoding="utf-8")
    code, summary = verdict(tmp_path, [path], capsys, max_line_bytes=1 << 12)
    assert code == VIOLATED and summary["training"]["files"][0]["oversized_rows"] == 1


def test_filter_writes_long_paragraphs_as_json_rows(tmp_path: Path) -> None:
    """`filter` on a .md file whose paragraphs are streamed: valid JSON rows, the copy dropped."""
    from vt_eval.decontam.filter import run_filter

    long_clean = textwrap.fill("filler words " * 600 + "\u00e9t\u00e9 \"quoted\"", 40)
    path = tmp_path / "notes.md"
    path.write_text(f"{long_clean}\n\n{textwrap.fill(COPY, 40)}\n\n{CLEAN}\n", encoding="utf-8")
    outcome = run_audit([path], BENCH, load_policy(), AuditConfig(
        workers=1, hash_files=False, options=ScanOptions(max_line_bytes=1 << 12)))
    write_outputs(outcome, tmp_path / "audit")
    reports = run_filter([path], tmp_path / "audit", tmp_path / "clean.jsonl", False)
    rows = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text(encoding="utf-8").splitlines()]
    assert reports[0].dropped == {"contaminated": 1} and len(rows) == 2
    assert rows[0]["text"] == long_clean and rows[1]["text"] == CLEAN
