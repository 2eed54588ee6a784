"""Scorecard size and speed for a full AIME avg@64 run (30 problems x 64 samples), synthetic.

Builds a run dir without a model (samples written by hand: 20K-character responses, per-problem
accuracies spread from 0 to 1, a few truncated / no-answer samples, one response with <script>),
grades and aggregates it with `vt-eval score` (which also writes the scorecard), then times
rendering alone, and opens the page in headless chromium (load time measured by an onload handler
in a wrapper page; the browser's start-up is excluded). Prints a table and writes
bench/results/scorecard.json.

    python bench/scorecard.py [--out /tmp/vt-eval-scorecard-bench] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vt_eval.cards import get_card
from vt_eval.config import EvalConfig
from vt_eval.data import Item, load_benchmark
from vt_eval.pipeline import score_run
from vt_eval.records import Sample
from vt_eval.report.scorecard import write_scorecard
from vt_eval.rundir import RunDir
from vt_eval.store import JsonlWriter

K, CHARS, MAX_TOKENS = 64, 20_000, 32_768
FILLER = ("We consider $\\frac{a+b}{2}$ and apply $x^2 + y^2 \\geq 2xy$, so "
          "$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$. ")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def sample(item: Item, index: int, accuracy: float, rng: random.Random) -> Sample:
    body = (FILLER * (CHARS // len(FILLER) + 1))[: CHARS - 200]
    roll = rng.random()
    finish = "stop"
    if roll < accuracy:
        tail = f"So the answer is \\boxed{{{item.answer}}}."
    elif roll < accuracy + 0.03:
        tail, finish = "and therefore", "length"
    elif roll < accuracy + 0.05:
        tail = "I could not finish."
    else:
        tail = f"So the answer is \\boxed{{{rng.randint(1, 999)}}}."
    if index == 0 and item.id == "2":
        tail = "<script>alert(1)</script> " + tail
    tokens = MAX_TOKENS if finish == "length" else rng.randint(4_000, 24_000)
    return Sample(benchmark="aime_2025", item_id=item.id, sample_index=index, seed=index,
                  messages=[{"role": "user", "content": item.question}], response=body + tail,
                  finish_reason=finish, completion_tokens=tokens,
                  created_at="2026-11-30T00:00:00+00:00")


def build_run(path: Path, seed: int = 0) -> RunDir:
    rng = random.Random(seed)
    items = load_benchmark(get_card("aime_2025")).items
    config = EvalConfig().with_overrides({"run.benchmarks": ("aime_2025",), "run.samples": K,
                                          "model.backend": "transformers",
                                          "sampling.max_tokens": MAX_TOKENS})
    run = RunDir(path)
    run.save_config(config)
    with JsonlWriter(run.samples_path) as writer:
        for number, item in enumerate(items):
            accuracy = min(1.0, max(0.0, rng.betavariate(3, 1) if number % 7 else 0.1))
            for index in range(K):
                writer.write(sample(item, index, accuracy, rng))
    return run


def browser_load_ms(page: Path, work: Path) -> float:
    """Milliseconds from navigation start to the scorecard's load event, inside a wrapper page."""
    wrapper = work / "wrapper.html"
    wrapper.write_text(f'<!doctype html><body><iframe id="f" src="{page.resolve().as_uri()}" '
                       f'onload="document.body.setAttribute(\'data-ms\', performance.now())">'
                       f'</iframe></body>')
    binary = shutil.which("chromium")
    if binary is None:
        return float("nan")
    done = subprocess.run([binary, *FLAGS, f"--user-data-dir={work / 'profile'}",
                           "--allow-file-access-from-files", "--dump-dom", wrapper.as_uri()],
                          capture_output=True, text=True, timeout=300)
    found = re.search(r'data-ms="([0-9.]+)"', done.stdout)
    return float(found.group(1)) if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="run dir (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vt-eval-scorecard-bench-"))
    path = args.out or work / "aime_avg64"
    if path.exists():
        shutil.rmtree(path)
    clock = time.perf_counter()
    run = build_run(path)
    built = time.perf_counter() - clock
    clock = time.perf_counter()
    score_run(run, Console(file=io.StringIO()))
    scored = time.perf_counter() - clock
    renders = []
    for _ in range(args.repeats):
        clock = time.perf_counter()
        written = write_scorecard(path)
        renders.append(time.perf_counter() - clock)
    loads = [browser_load_ms(written.html, work) for _ in range(args.repeats)]
    html = written.html.read_text(encoding="utf-8")
    result = {
        "run": "synthetic AIME 2025 avg@64: 30 problems x 64 samples, 20K-character responses",
        "samples": 30 * K,
        "samples_jsonl_mb": round(run.samples_path.stat().st_size / 1e6, 1),
        "html_bytes": written.html.stat().st_size,
        "html_mb": round(written.html.stat().st_size / 1e6, 2),
        "markdown_bytes": written.markdown.stat().st_size,
        "plots": len(written.card.plots) + sum(len(p) for p in written.card.bench_plots.values()),
        "plot_bytes": sum(len(m) for m in re.findall(r'src="(data:image/png[^"]+)"', html)),
        "details_elements": html.count("<details"),
        "build_s": round(built, 2),
        "score_s (grade + aggregate + report)": round(scored, 2),
        "render_s (min of repeats)": round(min(renders), 2),
        "browser_load_ms (median)": round(sorted(loads)[len(loads) // 2], 1),
        "browser_load_ms (all)": [round(x, 1) for x in loads],
        "machine": "2 shared cores, no GPU",
    }
    table = Table(title="scorecard: full AIME avg@64 run (synthetic)", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
    out = Path(__file__).parent / "results" / "scorecard.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}; page: {written.html}")


if __name__ == "__main__":
    main()
