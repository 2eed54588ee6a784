"""Policy sanity (issue 22): a rule threshold below the bound the audit recorded evidence at, and a
policy that checks nothing, are exit-2 errors that say why, never "policy holds". Each refusal is
followed by the honest control that still works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vt_eval.decontam import cli as decontam_cli
from vt_eval.decontam.audit import AuditConfig, BenchmarkSet, run_audit, write_outputs
from vt_eval.decontam.ngram_index import BenchItem
from vt_eval.decontam.policy import load_policy

TEXTS = ("Let $N$ be the number of ways to tile a $3\\times 7$ board with dominoes and trominoes so "
         "that no two trominoes touch. Find the remainder when $N$ is divided by $1000$.",
         "A frog jumps on the lattice points of a regular hexagon, never visiting a vertex twice "
         "in a row. In how many ways can it return to its start after exactly twelve jumps?")


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aime_2026: 1 of 2 items copied; aime_2025: clean (2 items)."""
    root = tmp_path_factory.mktemp("sanity")
    others = ("How many primes below one hundred are one more than a perfect square of an integer?",
              "What is the largest area of a triangle whose sides are consecutive integers below twenty?")
    items = (tuple(BenchItem("aime_2026", f"q{i}", t) for i, t in enumerate(TEXTS)) +
             tuple(BenchItem("aime_2025", f"p{i}", t) for i, t in enumerate(others)))
    train = root / "train.jsonl"
    train.write_text(json.dumps({"text": "copied: " + TEXTS[0]}) + "\n" +
                     json.dumps({"text": "harmless words about nothing " * 5}) + "\n")
    bench = BenchmarkSet(items, {"aime_2026": {"items": 2}, "aime_2025": {"items": 2}})
    outcome = run_audit([train], bench, load_policy(), AuditConfig(workers=1, hash_files=False))
    assert outcome.errors == []
    write_outputs(outcome, root / "audit")
    return root / "audit"


def check(audit_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str) -> tuple[int, str]:
    policy = tmp_path / "policy.toml"
    policy.write_text("version = 1\n" + toml + "\n")
    code = decontam_cli.main(["check", str(audit_dir), "--policy", str(policy)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.mark.parametrize("toml, message", [
    ("[[rules]]\nmethod = 'minhash'\nmin_jaccard = 0.3",
     "asks for min_jaccard = 0.3, below the bound the audit records MinHash evidence at (0.5"),
    ("[[rules]]\nmethod = 'minhash'\nmin_jaccard = 0.45",
     "asks for min_jaccard = 0.45, below the bound"),
    ("[minhash]\nmin_jaccard = 0.3\nlsh_threshold = 0.4", "minhash.min_jaccard = 0.3 is below minhash.lsh_threshold"),
    ("[minhash]\nmin_jaccard = 0.0", "min_jaccard = 0.0: Input should be greater than 0"),
])
def test_threshold_below_the_recorded_bound_exits_2(audit_dir: Path, tmp_path: Path, toml: str, message: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(audit_dir, tmp_path, capsys, toml)
    assert code == 2 and message in text


def test_rule_at_or_above_the_recorded_bound_is_applied(audit_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    rules = ("[[rules]]\nmethod = 'ngram'\nn = 13\nmin_shared = 1\n"
             "[[rules]]\nmethod = 'minhash'\nmin_jaccard = 0.5\n")
    code, text = check(audit_dir, tmp_path, capsys, rules + "[gate]\nmax_rate = 0.0")
    assert code == 1 and "FAIL aime_2026: 1/2 items contaminated" in text and "policy violated" in text
    code, text = check(audit_dir, tmp_path, capsys, rules + "[gate]\nmax_rate = 0.5")
    assert code == 0 and "policy holds" in text


@pytest.mark.parametrize("toml, message", [
    ("rules = []\n[gate]\nmax_rate = 0.0", "rules = [] counts no match as contamination, so the policy checks nothing"),
    ("[gate]\nmax_rate = 1.0", "cannot fail (no benchmark can exceed 100% contaminated), so the policy checks nothing"),
    ("[gate]\nmax_rate = 1.0\n[gate.max_items]\naime_2026 = 2\naime_2025 = 5", "checks nothing on this audit"),
])
def test_policy_that_checks_nothing_exits_2(audit_dir: Path, tmp_path: Path, toml: str, message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(audit_dir, tmp_path, capsys, toml)
    assert code == 2 and message in text and "policy holds" not in text


def test_benchmark_the_gate_cannot_fail_is_shown_not_checked(audit_dir: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Control: a gate that can fail for one benchmark applies there and says "not checked" for
    the other (never "ok")."""
    code, text = check(audit_dir, tmp_path, capsys, "[gate]\nmax_rate = 1.0\n[gate.max_items]\naime_2026 = 0")
    assert code == 1 and "FAIL aime_2026: 1/2 items contaminated" in text
    assert "not checked aime_2025: 0/2 items contaminated" in text and "ok   aime_2025" not in text
    code, text = check(audit_dir, tmp_path, capsys, "[gate]\nmax_rate = 0.0\n")  # rules omitted: defaults
    assert code == 1 and "ok   aime_2025: 0/2" in text


def test_gate_junit_shows_the_refusal_as_an_error(tmp_path: Path) -> None:
    """`vt-eval gate` delegates contamination to `decontam check`: a decontam policy that checks
    nothing is an error test case in the JUnit file, with the reason; a sane one is applied."""
    import xml.etree.ElementTree as ET

    from test_report_rundir import built

    from vt_eval.cards import get_card
    from vt_eval.cli import main
    from vt_eval.data import load_benchmark

    item = load_benchmark(get_card("aime_2025")).items[1]
    train = tmp_path / "sft.jsonl"
    train.write_text(json.dumps({"prompt": item.question}) + "\n")
    bench = BenchmarkSet((BenchItem("aime_2025", item.id, item.question),), {"aime_2025": {"items": 1}})
    write_outputs(run_audit([train], bench, load_policy(), AuditConfig(workers=1, hash_files=False)),
                  tmp_path / "audit")
    gate_policy = tmp_path / "gate.toml"
    gate_policy.write_text('version = 1\n[contamination]\npolicy = "decontam.toml"\n')
    junit = tmp_path / "junit.xml"

    def contamination(decontam_toml: str) -> tuple[int, ET.Element]:
        (tmp_path / "decontam.toml").write_text("version = 1\n" + decontam_toml)
        code = main(["gate", "--policy", str(gate_policy), str(built("base")), "--audit",
                     str(tmp_path / "audit"), "--junit", str(junit), "--summary", str(tmp_path / "s.md")])
        case = next(c for c in ET.parse(junit).getroot().iter("testcase")
                    if c.get("name", "").startswith("contamination"))
        return code, case

    code, case = contamination("rules = []\n")
    error = case.find("error")
    assert code == 2 and error is not None
    assert "checks nothing" in (error.get("message", "") + (error.text or ""))
    code, case = contamination("[gate]\nmax_rate = 0.0\n")  # control: a sane policy is applied
    assert code == 1 and case.find("failure") is not None
