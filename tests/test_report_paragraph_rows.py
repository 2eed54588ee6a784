"""The scorecard re-reads a matched training row to tell question+answer from question-only
overlap. In a .txt/.md file the audit's row is a paragraph (hard wrapping cannot hide a copy):
the scorecard must read the same paragraph, not the line with that number."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from vt_eval.cards import get_card
from vt_eval.data import load_benchmark
from vt_eval.report.contamination import read_rows


def test_the_audited_paragraph_is_the_row_read_back(tmp_path: Path) -> None:
    item = load_benchmark(get_card("aime_2025")).items[0]
    wrapped = "\n".join(textwrap.wrap(item.question, 40))
    train = tmp_path / "notes.md"
    train.write_text(f"# Notes\n\nUnrelated first paragraph\nover two lines.\n\n{wrapped}\n"
                     f"The answer is {item.answer}.\n\nA last paragraph.\n")
    done = subprocess.run([sys.executable, "-m", "vt_eval.cli", "decontam", "audit", "--train",
                           str(train), "--benchmarks", "aime_2025", "--out", str(tmp_path / "audit")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    matches = [json.loads(line) for line in (tmp_path / "audit" / "matches.jsonl").read_text().splitlines()]
    rows = {m["row"] for m in matches if m.get("item_id") == item.id}
    assert rows == {2}  # heading, first paragraph, then the copy
    (text,) = read_rows(str(train), rows).values()
    assert text.startswith(wrapped.splitlines()[0]) and f"The answer is {item.answer}." in text


def test_jsonl_rows_are_still_lines(tmp_path: Path) -> None:
    train = tmp_path / "sft.jsonl"
    train.write_text("\n".join(json.dumps({"text": f"row {i}"}) for i in range(3)) + "\n")
    assert read_rows(str(train), {1}) == {1: "row 1"}
