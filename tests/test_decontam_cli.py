"""CI gate through the real CLI: clean -> 0, contaminated -> 1, broken input -> 2; filter; scorer API."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.data import load_benchmark
from vt_eval.decontam.audit import load_clean_ids, load_contaminated_ids


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vt_eval.decontam.cli", *args],
                          capture_output=True, text=True, timeout=120)


def _aime26_question(index: int = 0) -> tuple[str, str]:
    item = load_benchmark(get_card("aime_2026")).items[index]
    return item.id, item.question


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    clean = [{"prompt": f"Compute {i} plus {i + 1} and explain every step carefully.", "answer": str(2 * i + 1)}
             for i in range(50)]
    (root / "clean.jsonl").write_text("".join(json.dumps(r) + "\n" for r in clean))
    item_id, question = _aime26_question()
    dirty = clean[:10] + [{"prompt": "Solve this: " + question, "answer": "x"}] + clean[10:20]
    (root / "dirty.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dirty))
    (root / "broken.jsonl.gz").write_bytes(gzip.compress(b"x" * 100000)[:50])
    (root / "item_id").write_text(item_id)
    return root


def test_clean_training_set_passes_the_gate(data: Path) -> None:
    out = data / "audit_clean"
    audit = run("audit", "--train", str(data / "clean.jsonl"), "--suite", "math", "--out", str(out),
                "--workers", "1", "--no-progress")
    assert audit.returncode == 0, audit.stderr
    assert "aime_2026" in audit.stdout and "0.00%" in audit.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["training"]["rows"] == 50
    assert summary["training"]["files"][0]["sha256"]
    assert summary["policy"]["minhash"]["num_perm"] == 128 and summary["versions"]["datasketch"] == "2.0.0"
    check = run("check", str(out))
    assert check.returncode == 0, check.stdout
    assert "policy holds" in check.stdout
    clean_ids = load_clean_ids(out)
    assert len(clean_ids["aime_2026"]) == 30 and load_contaminated_ids(out)["aime_2026"] == set()


def test_one_aime_2026_item_violates_the_policy_then_filter_removes_it(data: Path) -> None:
    out = data / "audit_dirty"
    item_id = (data / "item_id").read_text()
    audit = run("audit", "--train", str(data / "dirty.jsonl"), "--benchmarks", "aime_2026,aime_2025",
                "--out", str(out), "--text-field", "prompt", "--no-progress")
    assert audit.returncode == 0, audit.stderr
    check = run("check", "--policy", "decontam/policy.toml", str(out))
    assert check.returncode == 1
    assert "FAIL aime_2026: 1/30 items contaminated (3.33%), 2 evidence match(es); " \
           "rule gate.max_items.aime_2026 = 0" in check.stdout
    matches = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    assert {(m["item_id"], m["row"], m["method"]) for m in matches} == {(item_id, 10, "ngram"), (item_id, 10, "minhash")}
    assert matches[0]["row_field"] == "prompt" and matches[0]["row_field_span"][0] == len("Solve this: ")
    assert load_contaminated_ids(out)["aime_2026"] == {item_id}
    assert item_id not in load_clean_ids(out)["aime_2026"]
    filtered = data / "clean_out.jsonl"
    flt = run("filter", "--train", str(data / "dirty.jsonl"), "--audit", str(out), "--out", str(filtered))
    assert flt.returncode == 0, flt.stderr
    assert "kept 20, dropped contaminated: 1" in flt.stdout and f"aime_2026/{item_id}" in flt.stdout
    kept = filtered.read_text().splitlines()
    original = (data / "dirty.jsonl").read_text().splitlines()
    assert kept == original[:10] + original[11:]


def test_broken_input_exits_2_and_check_fails_closed(data: Path) -> None:
    out = data / "audit_broken"
    audit = run("audit", "--train", str(data / "clean.jsonl"), "--train", str(data / "broken.jsonl.gz"),
                "--suite", "math", "--out", str(out), "--workers", "1", "--no-progress")
    assert audit.returncode == 2
    assert "broken.jsonl.gz" in audit.stdout
    check = run("check", str(out))
    assert check.returncode == 2 and "fail closed" in check.stdout
    with pytest.raises(Exception, match="cannot be trusted"):
        load_clean_ids(out)


@pytest.mark.parametrize("args, message", [
    (["audit", "--train", "nope/*.jsonl", "--out", "x"], "no file matches"),
    (["audit", "--train", "README.md", "--suite", "nosuch", "--out", "x"], "unknown suite"),
    (["check", "/nonexistent/audit"], "not a readable decontam audit"),
    (["frobnicate"], "usage error"),
])
def test_usage_and_input_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_invalid_policy_is_a_usage_error(tmp_path: Path, data: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("version = 1\n[gate]\nmax_rat = 0.5\n")
    result = run("check", "--policy", str(policy), str(data / "audit_clean"))
    assert result.returncode == 2 and "unknown key(s) ['max_rat']" in result.stderr
