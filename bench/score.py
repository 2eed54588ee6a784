"""`vt-eval score` wall time for 1, 5 and 8 benchmarks with 1 sample each (the shipped ones: every
benchmark but LiveCodeBench), for this checkout and optionally an older one (`--before REV`: a git
revision checked out in a temporary worktree and put first on PYTHONPATH).

Each run dir holds config.toml and samples.jsonl only (what `run` leaves before scoring); the
timed command is the whole `python -m vt_eval.cli score RUN` process. Prints a table and writes
bench/results/score.json.

    python bench/score.py [--before fdc9f96] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vt_eval.cards import get_card
from vt_eval.config import EvalConfig
from vt_eval.data import load_benchmark
from vt_eval.planning import make_plan, planned_samples, reload_benchmark
from vt_eval.records import Sample
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter

ORDER = ("aime_2025", "gpqa_diamond", "ifeval", "leetcode_contests", "hmmt_feb_2025",
         "aime_2026", "brumo_2025", "imo_answerbench")
ROOT = Path(__file__).resolve().parent.parent


def make_run(path: Path, names: tuple[str, ...]) -> Path:
    config = EvalConfig().with_overrides({"run.benchmarks": names, "run.limit": 1,
                                          "run.samples": 1, "model.backend": "transformers"})
    run = RunDir(path)
    run.save_config(config)
    loaded = [load_benchmark(get_card(name)) for name in names]
    plan = make_plan(config, loaded, {}, None)
    with JsonlWriter(run.samples_path) as writer:
        for p in planned_samples(plan, [reload_benchmark(b) for b in plan.benchmarks]):
            writer.write(Sample(benchmark=p.card.name, item_id=p.item.id, sample_index=0,
                                seed=p.seed, messages=p.prompt.messages, prompt_extra=p.prompt.extra,
                                response="Reasoning... the answer is \\boxed{1}.\n```python\n"
                                         "print(1)\n```", finish_reason="stop",
                                completion_tokens=20, created_at="2026-11-30T00:00:00+00:00"))
    return path


def time_score(run: Path, pythonpath: str | None) -> float:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vt_eval.cli", "score", str(run)], env=env,
                          capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"score failed ({pythonpath or 'this checkout'}):\n{done.stdout}{done.stderr}")
    return elapsed


def worktree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], cwd=ROOT, check=True,
                   capture_output=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="git revision to compare with (e.g. fdc9f96)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = worktree(args.before, Path(tmp) / "before") if args.before else None
        try:
            for count in (1, 5, 8):
                names = ORDER[:count]
                row = {"benchmarks": count}
                for label, path in (("after", None), ("before", old)):
                    if label == "before" and path is None:
                        continue
                    runs = [make_run(Path(tmp) / f"{label}-{count}-{r}", names)
                            for r in range(args.repeats)]
                    times = [time_score(run, str(path) if path else None) for run in runs]
                    row[f"{label}_s"] = round(min(times), 2)
                    if label == "after":
                        best = runs[times.index(min(times))]
                        stages = json.loads((best / "manifest.json").read_text())["stages"]
                        row["after_stages_s"] = {k: v["seconds"] for k, v in stages.items()}
                        row["after_grade_by_benchmark_s"] = stages["grade"]["details"]["seconds"]
                rows.append(row)
        finally:
            if old is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                               capture_output=True)
    print(f"{'benchmarks':>10} {'before (s)':>11} {'after (s)':>10}  after, by stage (s)")
    for row in rows:
        stages = ", ".join(f"{k} {v}" for k, v in row["after_stages_s"].items())
        print(f"{row['benchmarks']:>10} {row.get('before_s', '–'):>11} {row['after_s']:>10}  {stages}")
    print("grade stage by benchmark (8 benchmarks): " + ", ".join(
        f"{k} {v}" for k, v in rows[-1]["after_grade_by_benchmark_s"].items()))
    load = os.getloadavg()[0]
    print(f"best of {args.repeats}; whole `vt-eval score` process; load average {load:.1f}")
    out = ROOT / "bench" / "results" / "score.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "repeats": args.repeats, "before": args.before,
                               "load_average": load}, indent=2))


if __name__ == "__main__":
    main()
