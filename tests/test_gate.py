"""`vt-eval gate`: exit 0 pass / 1 violated / 2 input error; JUnit one test case per rule;
strict policy values; fail closed on partial, tampered, older-schema runs; regression against a
baseline; provenance, sandbox and (delegated) contamination rules."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vt_eval.cards import get_card
from vt_eval.cli import main
from vt_eval.data import load_benchmark
from vt_eval.rundir import RunDir

from test_report_rundir import built, copy_run, edit_results

LENIENT = """version = 1
[scores]
basis = "point"
[scores.min]
aime_2025 = 0.30
[rates]
max_truncation = 0.10
max_ungraded = 0.0
"""


def gate(tmp_path: Path, policy: str, run: Path, *extra: str) -> tuple[int, list[ET.Element], str]:
    policy_path = tmp_path / "gate.toml"
    policy_path.write_text(policy)
    junit, summary = tmp_path / "out" / "junit.xml", tmp_path / "out" / "summary.md"
    code = main(["gate", "--policy", str(policy_path), str(run), "--junit", str(junit),
                 "--summary", str(summary), *extra])
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    return code, cases, summary.read_text()


def status(cases: list[ET.Element]) -> dict[str, str]:
    out = {}
    for case in cases:
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        out[case.get("name", "")] = kinds[0] if kinds else "pass"
    return out


def test_passing_run_exits_0_with_one_testcase_per_rule(tmp_path: Path) -> None:
    code, cases, summary = gate(tmp_path, LENIENT, built("base"))
    assert code == 0, summary
    assert status(cases) == {"run.readable": "pass", "run.integrity": "pass",
                             "run.complete": "pass", "scores.min.aime_2025": "pass",
                             "rates.max_truncation.aime_2025": "pass",
                             "rates.max_ungraded.aime_2025": "pass", "sandbox": "pass"}
    assert summary.startswith("## vt-eval gate: PASS")


def test_minimum_on_ci_lower_bound_is_violated(tmp_path: Path) -> None:
    policy = LENIENT.replace('basis = "point"', 'basis = "ci_low"')
    code, cases, summary = gate(tmp_path, policy, built("base"))
    assert code == 1 and status(cases)["scores.min.aime_2025"] == "failure"
    assert "95% CI lower bound" in summary and "FAIL" in summary


def test_partial_run_fails(tmp_path: Path) -> None:
    code, cases, _ = gate(tmp_path, LENIENT, built("partial"))
    assert code == 1 and status(cases)["run.complete"] == "failure"


def test_tampered_run_is_an_input_error(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(avg_at_k=0.95))
    code, cases, _ = gate(tmp_path, LENIENT, run)
    assert code == 2 and status(cases)["run.integrity"] == "error"


def test_complete_flag_forged_is_an_input_error(tmp_path: Path) -> None:
    run = copy_run("partial", tmp_path / "run")
    edit_results(run, lambda d: d["benchmarks"][0].update(complete=True))
    code, cases, _ = gate(tmp_path, LENIENT, run)
    assert code == 2 and status(cases)["run.integrity"] == "error"


def test_missing_or_older_results_are_input_errors(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    edit_results(run, lambda d: d.update(schema_version=1))
    code, cases, _ = gate(tmp_path, LENIENT, run)
    assert code == 2 and status(cases) == {"run.readable": "error"}
    (run / "results.json").unlink()
    assert gate(tmp_path, LENIENT, run)[0] == 2
    assert gate(tmp_path, LENIENT, tmp_path / "nowhere")[0] == 2


@pytest.mark.parametrize("bad", [
    "[rates]\nmax_truncation = true",  # bool for a number
    "[rates]\nmax_truncation = nan",
    "[rates]\nmax_truncation = 1.5",  # rate outside [0, 1]
    "[rates]\nmax_truncation = \"0.1\"",  # string for a number
    "[scores.min]\naime_2025 = inf",
    "[scores]\nbasis = \"mean\"",
    "[rates]\nmax_truncaton = 0.1",  # typo: unknown key
    "[regression]\nalpha = 0",
])
def test_invalid_policy_values_are_input_errors(tmp_path: Path, bad: str) -> None:
    code, cases, summary = gate(tmp_path, "version = 1\n" + bad + "\n", built("base"))
    assert code == 2 and status(cases) == {"policy.valid": "error"}, summary


def test_policy_without_version_is_refused(tmp_path: Path) -> None:
    assert gate(tmp_path, "[rates]\nmax_truncation = 0.1\n", built("base"))[0] == 2


def test_significant_regression_against_baseline_fails(tmp_path: Path) -> None:
    policy = "version = 1\n[regression]\nmax_drop = 0.02\nalpha = 0.05\n"
    code, cases, summary = gate(tmp_path, policy, built("bad10"), "--baseline", str(built("good10")))
    assert code == 1 and status(cases)["regression.aime_2025"] == "failure", summary
    code, cases, _ = gate(tmp_path, policy, built("good10"), "--baseline", str(built("bad10")))
    assert code == 0 and status(cases)["regression.aime_2025"] == "pass"
    code, cases, _ = gate(tmp_path, policy, built("bad8"), "--baseline", str(built("good10")))
    assert code == 2 and status(cases)["regression"] == "error"  # different problems
    required = policy + "require_baseline = true\n"
    assert gate(tmp_path, required, built("good10"))[0] == 2


def test_provenance_and_sandbox_rules(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    policy = ('version = 1\n[provenance]\nrequired = ["config.sampling.seed", '
              '"datasets.*.revision", "model.chat_template_sha256"]\n')
    code, cases, _ = gate(tmp_path, policy, run)
    found = status(cases)
    assert code == 1 and found["provenance.model.chat_template_sha256"] == "failure"
    assert found["provenance.config.sampling.seed"] == "pass"
    assert found["provenance.datasets.*.revision"] == "pass"
    RunDir(run).update_manifest(grading={"unsafe_no_sandbox": True})
    code, cases, _ = gate(tmp_path, "version = 1\n", run)
    assert code == 1 and status(cases)["sandbox"] == "failure"


def test_contamination_is_delegated_to_the_decontam_policy(tmp_path: Path) -> None:
    item = load_benchmark(get_card("aime_2025")).items[1]
    train = tmp_path / "sft.jsonl"
    train.write_text(json.dumps({"prompt": item.question, "answer": f"It is {item.answer}."}) + "\n")
    audit = tmp_path / "audit"
    made = subprocess.run([sys.executable, "-m", "vt_eval.cli", "decontam", "audit", "--train",
                           str(train), "--benchmarks", "aime_2025", "--out", str(audit),
                           "--workers", "1", "--no-progress"], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    # the shipped decontam policy caps aime_2026, which this audit did not cover: fail closed
    shipped = "version = 1\n[contamination]\npolicy = \"default\"\n"
    code, cases, _ = gate(tmp_path, shipped, built("base"), "--audit", str(audit))
    assert code == 2 and status(cases)["contamination"] == "error"
    (tmp_path / "decontam.toml").write_text("version = 1\n[gate]\nmax_rate = 0.01\n")
    policy = "version = 1\n[contamination]\npolicy = \"decontam.toml\"\n"
    code, cases, summary = gate(tmp_path, policy, built("base"), "--audit", str(audit))
    assert code == 1 and status(cases)["contamination.policy"] == "failure", summary
    assert status(cases)["contamination.coverage"] == "pass"
    assert gate(tmp_path, policy, built("base"))[0] == 2  # audit required by default
    # the scorecard lists the item with its evidence, as question-and-answer overlap
    from vt_eval.report.scorecard import write_scorecard
    run = copy_run("base", tmp_path / "run")
    written = write_scorecard(run, audit=audit)
    contamination = written.card.benchmarks[0].contamination
    assert contamination is not None and contamination.contaminated == 1
    assert [c.item_id for c in contamination.question_and_answer] == [item.id]
    assert "<mark>" in written.html.read_text()
    clean = written.card.benchmarks[0].clean  # the clean subset the audit implies
    assert clean is not None and clean.excluded == [item.id] and clean.items == 3
    train.write_text(json.dumps({"prompt": item.question}) + "\n")  # the same row, no answer
    written = write_scorecard(run, audit=audit)
    assert [c.item_id for c in written.card.benchmarks[0].contamination.question_only] == [item.id]
