"""Generation on Ray vs one process, on this machine (issue 21).

Arms, on the same requests (PROMPTS x k, fixture model, transformers backend, batch --batch,
SPEC sampling), each through the executor the generate stage uses (vt_eval/backends/executor.py):
  - single process, 1 torch thread (LocalExecutor);
  - with --threads-arm: single process, --cores threads (one process using the whole machine;
    off by default: under contention from other work, more threads than free cores runs many
    times slower and says nothing about Ray);
  - Ray, 1 worker of 1 CPU (1 thread)     -> Ray's overhead vs the 1-thread single process;
  - Ray, --cores workers of 1 CPU each    -> the speed-up from more workers.
Ray arms start their own cluster (`--ray local`, --cores CPUs, small object store, no dashboard).
Start-up (cluster + workers with their model loaded) is timed apart from generation. Every arm's
samples are compared with the 1-thread single process's (same seeds: the backend is batch-
invariant). Prints a table and writes bench/results/scale.json.

    python bench/scale.py [--k 4] [--max-tokens 48] [--batch 2] [--unit-size 2] [--cores 2]
                          [--threads-arm]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF de-quantisation bars

from vt_eval.backends.base import Request  # noqa: E402
from vt_eval.backends.executor import make_executor  # noqa: E402
from vt_eval.backends.units import cut_units  # noqa: E402
from vt_eval.config import EvalConfig  # noqa: E402

PROMPTS = [
    "What is 7 times 8?",
    "Find the remainder when 2^10 is divided by 7.",
    "How many positive divisors does 36 have? Show your reasoning.",
    "A triangle has sides 3, 4 and 5. What is its area?",
]


def requests(k: int) -> list[Request]:
    return [Request(("bench", str(i), j), [{"role": "user", "content": p}], seed=1000 * i + j)
            for i, p in enumerate(PROMPTS) for j in range(k)]


def run_arm(name: str, config: EvalConfig, reqs: list[Request]) -> dict[str, Any]:
    started = time.perf_counter()
    executor = make_executor(config, "transformers")
    ready = time.perf_counter()
    texts: dict[Any, str] = {}
    tokens = 0
    try:
        units = cut_units(reqs, set(), executor.fixed_batch)
        for completion in executor.run(units, config.sampling):
            texts[completion.key] = completion.text
            tokens += completion.completion_tokens or 0
        generated = time.perf_counter()
        cluster = executor.cluster()
    finally:
        executor.close()
    seconds = generated - ready
    row = {"arm": name, "startup_s": round(ready - started, 2), "generate_s": round(seconds, 2),
           "tokens": tokens, "tok_per_s": round(tokens / seconds, 2), "samples": len(texts),
           "workers": len(cluster["workers"]) if cluster else 0,
           "restarts": cluster["restarts"] if cluster else 0}
    print(f"  {name}: start {row['startup_s']} s, generate {row['generate_s']} s, "
          f"{row['tok_per_s']} tok/s", flush=True)
    return {**row, "_texts": texts}


def config_for(args: argparse.Namespace, threads: int, ray_workers: int = 0) -> EvalConfig:
    overrides: dict[str, Any] = {
        "sampling.max_tokens": args.max_tokens, "transformers.batch_size": args.batch,
        "transformers.threads": threads}
    if ray_workers:
        overrides.update({"ray.address": "local", "ray.workers": ray_workers,
                          "ray.num_cpus": args.cores, "ray.unit_size": args.unit_size,
                          "ray.object_store_mib": 128})
    return EvalConfig().with_overrides(overrides)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--unit-size", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--threads-arm", action="store_true")
    args = parser.parse_args()
    reqs = requests(args.k)
    print(f"{len(reqs)} requests, max_tokens {args.max_tokens}, load average "
          f"{os.getloadavg()[0]:.1f} before", flush=True)
    arms = [("single process, 1 thread", config_for(args, 1))]
    if args.threads_arm:
        arms.append((f"single process, {args.cores} threads", config_for(args, args.cores)))
    arms += [("ray, 1 worker", config_for(args, 1, ray_workers=1)),
             (f"ray, {args.cores} workers", config_for(args, 1, ray_workers=args.cores))]
    rows = [run_arm(name, config, reqs) for name, config in arms]
    reference = rows[0]["_texts"]
    for row in rows:
        texts = row.pop("_texts")
        row["samples_differing_from_single_1_thread"] = sum(
            texts.get(key) != text for key, text in reference.items())
    by_name = {row["arm"]: row for row in rows}
    one, many = by_name["ray, 1 worker"], by_name[f"ray, {args.cores} workers"]
    single = by_name["single process, 1 thread"]
    summary = {
        "speedup_ray_workers": round(one["generate_s"] / many["generate_s"], 2),
        "ray_overhead_generate": round(one["generate_s"] / single["generate_s"], 2),
        "ray_startup_extra_s": round(one["startup_s"] - single["startup_s"], 1),
    }
    print(f"\n{'arm':<28} {'start s':>8} {'gen s':>8} {'tok/s':>8} {'differ':>7}")
    for row in rows:
        print(f"{row['arm']:<28} {row['startup_s']:>8} {row['generate_s']:>8} "
              f"{row['tok_per_s']:>8} {row['samples_differing_from_single_1_thread']:>7}")
    print(f"\nspeed-up {args.cores} workers vs 1: {summary['speedup_ray_workers']}x; Ray 1 worker / "
          f"single process (generation): {summary['ray_overhead_generate']}x; Ray start-up "
          f"+{summary['ray_startup_extra_s']} s")
    result = {"args": vars(args), "requests": len(reqs), "rows": rows, "summary": summary,
              "load_average_after": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
              "python": sys.version.split()[0], "platform": platform.platform()}
    out = Path(__file__).parent / "results" / "scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
