"""`decontam check` fails closed: it verifies the audit folder against itself (sha256 and counts
sealed in summary.json), refuses policies it cannot apply exactly, and never exits 0 or 1 on a
missing key or an unexpected exception."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from vt_eval.decontam import cli as decontam_cli
from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, read_audit, run_audit, write_outputs
from vt_eval.decontam.integrity import ids_sha256
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.policy import load_policy

TEXTS = ("Let $N$ be the number of ways to tile a $3\\times 7$ board with dominoes and trominoes so "
         "that no two trominoes touch. Find the remainder when $N$ is divided by $1000$.",
         "A frog jumps on the lattice points of a regular hexagon, never visiting a vertex twice "
         "in a row. In how many ways can it return to its start after exactly twelve jumps?")
ITEMS = tuple(BenchItem("aime_2026", f"q{i}", t) for i, t in enumerate(TEXTS))


def _audit(root: Path, name: str, benchmark: str) -> Path:
    items = tuple(BenchItem(benchmark, it.item_id, it.text) for it in ITEMS)
    train = root / f"{name}.jsonl"
    # U+2028 inside the copied span: matches.jsonl must still read back line by line
    rows = [{"text": "harmless words about nothing " * 5},
            {"text": "copied: " + TEXTS[0].replace(" ways ", " ways\u2028")}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = BenchmarkSet(items, {benchmark: {"items": len(items)}})
    outcome = run_audit([train], bench, load_policy(), AuditConfig(workers=1, hash_files=False))
    assert outcome.errors == []
    write_outputs(outcome, root / name)
    return root / name


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check")
    _audit(root, "dirty", "aime_2026")
    _audit(root, "other", "aime_2025")
    return root


@pytest.fixture()
def dirty(audits: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(audits / "dirty", tmp_path / "audit"))


def check(audit_dir: Path, capsys: pytest.CaptureFixture[str], *policy: str) -> tuple[int, str]:
    code = decontam_cli.main(["check", str(audit_dir), *(["--policy", policy[0]] if policy else [])])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    summary = json.loads(path.read_text())
    change(summary)
    path.write_text(json.dumps(summary))


def test_summary_seals_matches_and_contaminated_ids(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = json.loads((dirty / "summary.json").read_text())
    data = (dirty / "matches.jsonl").read_bytes()
    assert summary["integrity"] == {
        "matches_sha256": hashlib.sha256(data).hexdigest(), "matches_lines": 2,
        "contaminated_ids_sha256": {"aime_2026": ids_sha256(["q0"])}}
    assert summary["benchmarks"]["aime_2026"]["contaminated_ids"] == ["q0"]
    assert "\u2028" in data.decode("utf-8") and len(data.decode("utf-8").splitlines()) > 2
    code, text = check(dirty, capsys)
    assert code == 1 and "FAIL aime_2026: 1/2 items contaminated" in text


def test_emptied_matches_file_exits_2(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (dirty / "matches.jsonl").write_text("")
    code, text = check(dirty, capsys)
    assert code == 2
    assert "matches.jsonl: sha256" in text and "integrity.matches_sha256" in text and "0 line(s) now" in text


@pytest.mark.parametrize("path", ["training.skipped_rows", "benchmarks.aime_2026.items", "integrity",
                                  "ok", "policy.rules", "training.files.0.skipped"])
def test_summary_missing_key_exits_2_naming_it(dirty: Path, capsys: pytest.CaptureFixture[str],
                                               path: str) -> None:
    def drop(summary: dict) -> None:
        *parents, last = path.split(".")
        node = summary
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    _edit(dirty / "summary.json", drop)
    code, text = check(dirty, capsys)
    assert code == 2 and f"missing key '{path}'" in text and "summary.json" in text


def test_contaminated_ids_rewritten_to_clean_exit_2(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def launder(summary: dict) -> None:
        bench = summary["benchmarks"]["aime_2026"]
        bench.update(contaminated=0, rate=0.0, contaminated_ids=[], clean_ids=["q0", "q1"])
        summary["integrity"]["contaminated_ids_sha256"]["aime_2026"] = ids_sha256([])

    _edit(dirty / "summary.json", launder)
    code, text = check(dirty, capsys)
    assert code == 2 and "contaminated_ids differ from the counting matches" in text


@pytest.mark.parametrize("key, value, message", [
    ("skipped", {"invalid_json": 3}, "training.skipped_rows = 0, but its files add up to 3"),
    ("errors", ["x.jsonl: unreadable"], "ok = True with 1 error(s) listed"),
])
def test_summary_totals_that_disagree_exit_2(dirty: Path, capsys: pytest.CaptureFixture[str],
                                             key: str, value: object, message: str) -> None:
    def edit(summary: dict) -> None:
        if key == "errors":
            summary["errors"] = value
        else:
            summary["training"]["files"][0][key] = value

    _edit(dirty / "summary.json", edit)
    code, text = check(dirty, capsys)
    assert code == 2 and message in text


def test_audit_refuses_a_policy_capping_an_unknown_benchmark(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("version = 1\n[gate.max_items]\naime_2062 = 0\n")
    train = tmp_path / "t.jsonl"
    train.write_text('{"text": "hello"}\n')
    code = decontam_cli.main(["audit", "--train", str(train), "--benchmarks", "aime_2026", "--policy",
                              str(policy), "--out", str(tmp_path / "audit"), "--no-progress"])
    assert code == 2 and "unknown benchmark(s) ['aime_2062']" in capsys.readouterr().err
    assert not (tmp_path / "audit").exists()


def test_unexpected_exception_exits_2(dirty: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(decontam_cli, "check", boom)
    code = decontam_cli.main(["check", str(dirty)])
    err = capsys.readouterr().err
    assert code == 2 and "internal error (KeyError: 'surprise')" in err


@pytest.mark.parametrize("toml, message", [
    ("[gate]\nmax_rate = nan", "max_rate = nan: Input should be a finite number"),
    ("[gate]\nmax_rate = inf", "max_rate = inf: Input should be a finite number"),
    ("[gate]\nmax_rate = true", "max_rate = True: Input should be a valid number"),
    ("[gate]\nmax_rate = 2.0", "max_rate = 2.0: Input should be less than or equal to 1"),
    ("[gate]\nmax_rate = '0.5'", "max_rate = '0.5': Input should be a valid number"),
    ("[gate.max_items]\naime_2026 = nan", "max_items.aime_2026 = nan: Input should be a valid integer"),
    ("[gate]\nmax_skipped_rows = nan", "max_skipped_rows = nan: Input should be a valid integer"),
    ("[gate]\nmax_skipped_rows = -1", "max_skipped_rows = -1: Input should be greater than or equal to 0"),
    ("[gate]\nmax_skipped_rows = 1.5", "max_skipped_rows = 1.5: Input should be a valid integer"),
    ("[ngram]\nmin_content_fraction = nan", "min_content_fraction = nan: Input should be a finite number"),
    ("[[rules]]\nmethod = 'ngram'\nn = 13\nmin_containment = 1.5", "min_containment = 1.5"),
    ("[[rules]]\nmethod = 'minhash'\nn = 13", "['n'] do not apply to method 'minhash'"),
    ("[gate]\nmax_rate = 0.5\n[gate.max_items]\nnosuch = 0", "gate.max_items names unknown benchmark(s) ['nosuch']"),
])
def test_policy_values_are_validated_strictly(dirty: Path, tmp_path: Path, toml: str, message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"version = 1\n{toml}\n")
    code, text = check(dirty, capsys, str(policy))
    assert code == 2 and message in text and str(policy) in text


@pytest.mark.parametrize("head, shown", [("", "missing"), ("version = 2\n", "2"), ("version = true\n", "True"),
                                         ("version = '1'\n", "'1'")])
def test_unknown_policy_version_exits_2(dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        head: str, shown: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(head + "[gate]\nmax_rate = 0.5\n")
    code, text = check(dirty, capsys, str(policy))
    assert code == 2 and f"version: {shown}; this vt-eval reads policy version(s) [1]" in text


def test_cap_on_a_benchmark_the_audit_did_not_cover_exits_2(audits: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(audits / "other", capsys)  # default policy: aime_2026 = 0; audit: aime_2025
    assert code == 2 and "gate.max_items caps ['aime_2026'], which the audit did not cover" in text


def test_relaxed_policy_still_passes_a_verified_audit(dirty: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("version = 1\n[gate]\nmax_rate = 0.5\n[gate.max_items]\naime_2026 = 1\n")
    code, text = check(dirty, capsys, str(policy))
    assert code == 0 and "policy holds" in text
    summary, matches = read_audit(dirty)
    assert len(matches) == summary["matches"]["total"] == 2
