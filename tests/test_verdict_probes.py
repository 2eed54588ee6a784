"""The verdict's lines that need the fixture model (SmolLM2-135M, CPU; small settings so it stays
cheap). Reproducibility of a real `vt-eval run`. The memorization-probe line from a real
`vt-eval probe`: its three states, the items flagged (above every control
item, computed here directly from items.jsonl), and the scorecard's probe section (the probe's
prompt, the model's continuation, the score) with `report --probes`.

Whether AIME 2025 stands out against AIME 2026 for this model at the default margins is the
model's business; the evidence/no-evidence states are asserted on reports rebuilt from the same
probe records with margins no data can miss or reach (`probes.run.build_report`, what the probe
command itself calls)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_verdict import CUTOFF, shared, verdict, vt_eval

from vt_eval.probes.compare import STATISTICS
from vt_eval.probes.report import write
from vt_eval.probes.run import build_report
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import cut
from vt_eval.report.scorecard import write_scorecard

pytestmark = pytest.mark.slow

CONFIG = """[probe]
cuts = [0.5]
continuation_tokens = 8
continuation_words = 8
answer_tokens = 4
perturbations = 1
max_words = 40
bootstrap = 200
permutations = 200

[transformers]
threads = 1
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verdict-probes")


@pytest.fixture(scope="module")
def probe_dir(root: Path) -> Path:
    (root / "probe.toml").write_text(CONFIG)
    done = vt_eval("probe", "--benchmarks", "aime_2025,aime_2026", "--cutoff", CUTOFF,
                   "--limit", "2", "--config", str(root / "probe.toml"), "--out", str(root),
                   "--run-id", "probe")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "probe"


def records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (directory / "items.jsonl").read_text().splitlines()]


def rebuilt(source: Path, target: Path, margin: float) -> Path:
    """The same probe records, reported with every margin set to `margin`."""
    report = json.loads((source / "benchmarks.json").read_text())
    settings = ProbeSettings.model_validate({**report["settings"], **{
        f"margin_{name}": margin for name in STATISTICS if f"margin_{name}" in ProbeSettings.model_fields}})
    items = records(source)
    write(target, build_report(items, report["controls"], settings, report["model"],
                               date.fromisoformat(report["cutoff"]), report["backend"]), items)
    return target


def probe_line(run: Path, probes: Path, benchmark: str = "aime_2025") -> dict[str, Any]:
    code, data = verdict(run, "--probes", str(probes))
    assert code == 0
    bench = next(b for b in data["benchmarks"] if b["benchmark"] == benchmark)
    return next(entry for entry in bench["lines"] if entry["question"] == "probes")


def test_probe_line_states(root: Path, probe_dir: Path, tmp_path: Path) -> None:
    run = shared("run", root)
    real = probe_line(run, probe_dir)
    standing = json.loads((probe_dir / "benchmarks.json").read_text())["benchmarks"]["aime_2025"]
    assert (real["state"] == "evidence_found") == bool(standing["stands_out_on"])
    assert sorted(real["detail"]["probes_run"]) == ["completion", "likelihood", "perturbation"]
    found = probe_line(run, rebuilt(probe_dir, tmp_path / "low", -1000.0))
    assert found["state"] == "evidence_found" and "stands out on" in found["summary"]
    quiet = probe_line(run, rebuilt(probe_dir, tmp_path / "high", 1000.0))
    assert quiet["state"] == "no_evidence_found"
    assert quiet["power"]["items"] == 2 and quiet["power"]["compared_with"] == 2
    assert quiet["power"]["detectable_effect"] > 1000  # the margin is part of what it needs
    control = probe_line(run, probe_dir, "aime_2026")
    assert control["state"] == "not_checked" and "post-cutoff control" in control["reason"]
    other = tmp_path / "other-model"
    shutil.copytree(probe_dir, other)
    report = json.loads((other / "benchmarks.json").read_text())
    report["model"] = "someone-else-7b"
    (other / "benchmarks.json").write_text(json.dumps(report))
    line = probe_line(run, other)
    assert line["state"] == "not_checked" and "ran on someone-else-7b" in line["reason"]
    edited = tmp_path / "edited"
    shutil.copytree(probe_dir, edited)
    items = records(edited)
    items[0]["min_k"] = (items[0]["min_k"] or 0) + 5.0
    (edited / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    line = probe_line(run, edited)
    assert line["state"] == "not_checked" and "does not follow from items.jsonl" in line["reason"]


def test_flagged_items_are_those_above_every_control(root: Path, probe_dir: Path) -> None:
    line = probe_line(shared("run", root), probe_dir)
    items = records(probe_dir)
    controls = [i for i in items if i["benchmark"] == "aime_2026"]
    mine = [i for i in items if i["benchmark"] == "aime_2025"]
    for stat in line["detail"]["statistics"]:
        name = stat["statistic"]
        top = max(c[name] for c in controls if c[name] is not None)
        assert stat["flagged_items"] == [i["item_id"] for i in mine
                                         if i[name] is not None and i[name] > top], name
    flagged = {i for s in line["detail"]["statistics"] for i in s["flagged_items"]}
    assert {e["item_id"] for e in line["detail"]["examples"]} == flagged
    for example in line["detail"]["examples"]:
        record = next(i for i in mine if i["item_id"] == example["item_id"])
        assert example["prompt"] == cut(record["text"], 0.5)[0]
        assert example["continuation"] == record["cuts"][0]["generated"]


def test_report_probes_puts_the_probe_section_on_the_scorecard(root: Path, probe_dir: Path,
                                                               tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(shared("run", root), run)
    done = vt_eval("report", str(run), "--probes", str(probe_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    page = (run / "scorecard.html").read_text()
    assert 'id="probes-aime_2025"' in page and 'href="#probes-aime_2025"' in page
    assert 'data-statistic="min_k"' in page
    line = probe_line(run, probe_dir)
    for example in line["detail"]["examples"]:
        assert f'<tr data-item="{example["item_id"]}">' in page
    if not line["detail"]["examples"]:
        assert "No item above every control item." in page
    markdown = (run / "scorecard.md").read_text()
    assert '<a id="probes-aime_2025"></a>' in markdown and "(#probes-aime_2025)" in markdown
    card = write_scorecard(run, probes=probe_dir).card
    assert card.verdict is not None and card.verdict.inputs.probes == str(probe_dir)


def test_reproducibility_of_a_real_run(tmp_path: Path) -> None:
    (tmp_path / "eval.toml").write_text("[transformers]\nthreads = 1\n")
    done = vt_eval("run", "--config", str(tmp_path / "eval.toml"), "--benchmarks", "aime_2026",
                   "--limit", "1", "-k", "2", "--max-tokens", "4", "--out", str(tmp_path),
                   "--run-id", "real")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    code, data = verdict(tmp_path / "real")
    line = data["benchmarks"][0]["lines"][-1]
    assert code == 0 and line["question"] == "reproducibility"
    assert line["state"] == "no_evidence_found", line
    detail = line["detail"]
    assert detail["integrity_verified"] and detail["resume_exact"] is True
    assert detail["engine"] == "transformers" and detail["samples"] == detail["samples_planned"] == 2
    assert detail["versions"]["transformers"] and detail["run_seed"] == 0
    samples = (tmp_path / "real" / "samples.jsonl").read_text().splitlines()
    (tmp_path / "real" / "samples.jsonl").write_text(samples[0] + "\n")  # a sample lost
    code, data = verdict(tmp_path / "real")
    line = data["benchmarks"][0]["lines"][-1]
    assert code == 2 and line["state"] == "evidence_found"
    assert "integrity NOT verified" in line["summary"] and "partial run (1/2 samples)" in line["summary"]
