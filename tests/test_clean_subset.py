"""Re-scoring on the clean subset: a real audit marks an item contaminated, `score --exclude`
reports the metrics without it. No model is needed: the run dir is written by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vt_eval.cards import get_card
from vt_eval.config import EvalConfig
from vt_eval.data import load_benchmark
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter

from helpers import make_sample


def test_score_exclude_uses_the_audits_contaminated_items(tmp_path: Path) -> None:
    items = load_benchmark(get_card("aime_2025")).items[:2]
    config = EvalConfig().with_overrides({"run.benchmarks": ("aime_2025",), "run.limit": 2,
                                          "run.samples": 2, "model.backend": "transformers"})
    run = RunDir(tmp_path / "run")
    run.save_config(config)
    with JsonlWriter(run.samples_path) as writer:
        for index in range(2):  # item 1 always right, item 2 always wrong
            writer.write(make_sample(items[0].id, f"\\boxed{{{items[0].answer}}}", index, benchmark="aime_2025"))
            writer.write(make_sample(items[1].id, "\\boxed{1}", index, benchmark="aime_2025"))
    train = tmp_path / "sft.jsonl"
    train.write_text(json.dumps({"text": "Problem: " + items[0].question + " Solution: ..."}) + "\n")
    audit = subprocess.run([sys.executable, "-m", "vt_eval.cli", "decontam", "audit", "--train",
                            str(train), "--benchmarks", "aime_2025", "--out", str(tmp_path / "audit")],
                           capture_output=True, text=True, timeout=300)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    scored = subprocess.run([sys.executable, "-m", "vt_eval.cli", "score", str(run.path),
                             "--exclude", str(tmp_path / "audit")],
                            capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    bench = json.loads(run.results_path.read_text())["benchmarks"][0]
    assert bench["avg_at_k"] == 0.5
    assert bench["clean"]["excluded_items"] == [items[0].id]
    assert bench["clean"]["items"] == 1 and bench["clean"]["avg_at_k"] == 0.0
    assert "clean subset (1 items, 1 excluded): avg@k 0.0" in scored.stdout
    page = (run.path / "scorecard.html").read_text()  # the audit's evidence reaches the scorecard
    assert "<h3>Contamination (1/30 items;" in page
    assert f'class="problem contaminated" data-item="{items[0].id}"' in page
