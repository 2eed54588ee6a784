"""The gate's `[evidence]` rules on the verdict's lines: `require` fails a question that was not
checked, `fail_on` fails evidence found; the JUnit test case names the line (question and
benchmark). Real `vt-eval gate` on the hand-written run of test_verdict, with the real audit and
freshness."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_verdict import CUTOFF, shared, vt_eval

POLICY = """version = 1
[evidence]
require = ["overlap", "freshness"]
fail_on = ["overlap", "claim"]
claims = { aime_2025 = 91.4 }
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verdict-gate")


def gate(run: Path, tmp_path: Path, policy: str, *args: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """Exit code and JUnit cases: name -> (status, message)."""
    (tmp_path / "gate.toml").write_text(policy)
    junit = tmp_path / "junit.xml"
    done = vt_eval("gate", str(run), "--policy", str(tmp_path / "gate.toml"), "--junit", str(junit),
                   "--summary", str(tmp_path / "summary.md"), *args)
    assert "Traceback" not in done.stderr, done.stderr
    cases = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        child = next(iter(case), None)
        status = child.tag if child is not None and child.tag != "system-out" else "pass"
        message = (child.get("message") if child is not None and child.tag != "system-out"
                   else (child.text if child is not None else "")) or ""
        cases[case.get("name", "")] = (status, message)
    return done.returncode, cases


def test_require_fails_what_was_not_checked(root: Path, tmp_path: Path) -> None:
    code, cases = gate(shared("run", root), tmp_path, POLICY)
    assert code == 1
    for name in ("aime_2025", "aime_2026"):
        status, message = cases[f"evidence.require.overlap.{name}"]
        assert status == "failure" and message.startswith("training overlap: not checked")
        assert cases[f"evidence.require.freshness.{name}"][0] == "failure"
        assert cases[f"evidence.fail_on.overlap.{name}"][0] == "skipped"  # never a pass
    status, message = cases["evidence.fail_on.claim.aime_2025"]
    assert status == "failure" and "claimed 91.4% (gate policy [evidence] claims)" in message
    assert cases["evidence.fail_on.claim.aime_2026"][0] == "pass"  # [claims] 25.0: consistent


def test_fail_on_fails_evidence_found(root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(shared("run", root), run)
    assert vt_eval("freshness", str(run), "--cutoff", CUTOFF).returncode == 0
    policy = POLICY.replace('fail_on = ["overlap", "claim"]', 'fail_on = ["overlap"]')
    code, cases = gate(run, tmp_path, policy, "--audit", str(shared("audit", root)))
    assert code == 1
    for name in ("aime_2025", "aime_2026"):
        assert cases[f"evidence.require.overlap.{name}"][0] == "pass"
        assert cases[f"evidence.require.freshness.{name}"][0] == "pass"
    status, message = cases["evidence.fail_on.overlap.aime_2025"]
    assert status == "failure" and "question and answer 1, question only 1" in message
    status, message = cases["evidence.fail_on.overlap.aime_2026"]
    assert status == "pass" and "power: n=30" in message
    assert not any(name.startswith("evidence.fail_on.claim") for name in cases)


def test_an_unknown_question_is_a_policy_error(root: Path, tmp_path: Path) -> None:
    code, cases = gate(shared("run", root), tmp_path, POLICY.replace('"freshness"]', '"fresh"]'))
    assert code == 2
    status, message = cases["policy.valid"]
    assert status == "error" and "evidence.require" in message
