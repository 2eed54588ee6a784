"""Generation throughput of the transformers backend on the fixture model (issue 14).

Three arms on the same 8 prompts x k samples, same sampling settings (SPEC: T=1.0, top_p=0.95,
top_k off) and the same torch thread count:
  - vt-eval serial: the transformers backend at batch_size 1 (what it did before batching);
  - vt-eval batched: the backend at --batch (continuous batching);
  - bare model.generate: HF `model.generate` on the same rows in batches of --batch, sorted and
    left-padded the same way, one `torch.manual_seed` per batch (no per-row seeds).
Throughput counts each row's real new tokens (through its EOS, none of the padding after it).
It also states how many samples differ between vt-eval serial and batched (same seeds).
Prints a table and writes bench/results/generate.json.

    python bench/generate.py [--k 4] [--max-tokens 32] [--batch 8] [--threads 0] [--repeats 2]

Recorded (results/generate.json; results/generate-96.json with --max-tokens 96 --repeats 1):
--threads 1, because the shared 2-core machine was under load average 4-8 from other work
(2 threads under contention ran several times slower). Absolute tok/s are therefore low and noisy;
the ratios are what is asserted: batched / bare 0.99 (32 tokens) and 1.08 (96 tokens), batched /
serial 3.45 and 3.59.
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

import torch

from vt_eval.backends.base import Request
from vt_eval.backends.transformers_backend import TransformersBackend
from vt_eval.config import SamplingParams, TransformersConfig
from vt_eval.models import resolve_model

PROMPTS = [
    "What is 7 times 8?",
    "Find the remainder when 2^10 is divided by 7.",
    "How many positive divisors does 36 have? Show your reasoning.",
    "A triangle has sides 3, 4 and 5. What is its area?",
    "Solve for x: 3x + 5 = 20. Explain each step of the solution.",
    "What is the sum of the first 10 positive integers? Use the formula for an arithmetic series.",
    "A rectangle has a perimeter of 30 and a length twice its width. Find its width and length.",
    "Two fair dice are rolled. What is the probability that the sum is 7? Give the answer as a "
    "fraction in lowest terms and explain how you counted the outcomes.",
]


def requests(k: int) -> list[Request]:
    return [Request(("bench", str(i), j), [{"role": "user", "content": p}], seed=1000 * i + j)
            for i, p in enumerate(PROMPTS) for j in range(k)]


def run_backend(backend: TransformersBackend, reqs: list[Request], params: SamplingParams,
                batch: int) -> tuple[float, int, dict[Any, str]]:
    backend.batch_size = batch
    started = time.perf_counter()
    done = list(backend.generate(reqs, params))
    elapsed = time.perf_counter() - started
    return elapsed, sum(c.completion_tokens or 0 for c in done), {c.key: c.text for c in done}


def run_bare(backend: TransformersBackend, reqs: list[Request], params: SamplingParams,
             batch: int) -> tuple[float, int]:
    tok, model = backend.tokenizer, backend.model
    prompts = sorted((tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
                      for r in reqs), key=lambda p: len(tok(p, add_special_tokens=False)["input_ids"]))
    tok.padding_side = "left"
    eos = tok.eos_token_id
    tokens = 0
    started = time.perf_counter()
    for start in range(0, len(prompts), batch):
        encoded = tok(prompts[start:start + batch], return_tensors="pt", padding=True,
                      add_special_tokens=False)
        torch.manual_seed(start)
        with torch.inference_mode():
            out = model.generate(**encoded, do_sample=True, temperature=params.temperature,
                                 top_p=params.top_p, top_k=0, max_new_tokens=params.max_tokens,
                                 pad_token_id=eos)
        for row in out[:, encoded["input_ids"].shape[1]:].tolist():
            tokens += row.index(eos) + 1 if eos in row else len(row)
    return time.perf_counter() - started, tokens


def best(runs: list[tuple[float, int]]) -> dict[str, float]:
    seconds, tokens = min(runs)
    return {"seconds": round(seconds, 2), "tokens": tokens, "tok_per_s": round(tokens / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="0 = the cores this process may use")
    parser.add_argument("--repeats", type=int, default=2, help="best of N per arm")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generate.json")
    args = parser.parse_args()

    backend = TransformersBackend(resolve_model("smollm2-135m"), TransformersConfig(threads=args.threads))
    params = SamplingParams(temperature=1.0, top_p=0.95, top_k=-1, max_tokens=args.max_tokens)
    reqs = requests(args.k)
    run_backend(backend, reqs[:2], params, 2)  # warm-up
    load_before = os.getloadavg()
    serial, batched, bare = [], [], []
    texts: dict[str, dict[Any, str]] = {}
    for _ in range(args.repeats):
        seconds, tokens, texts["serial"] = run_backend(backend, reqs, params, 1)
        serial.append((seconds, tokens))
        seconds, tokens, texts["batched"] = run_backend(backend, reqs, params, args.batch)
        batched.append((seconds, tokens))
        bare.append(run_bare(backend, reqs, params, args.batch))
        print(f"serial {serial[-1]}  batched {batched[-1]}  bare {bare[-1]}", file=sys.stderr, flush=True)
    arms = {"vt-eval serial (batch 1)": best(serial), f"vt-eval batched (batch {args.batch})": best(batched),
            f"bare model.generate (batch {args.batch})": best(bare)}
    rates = [arm["tok_per_s"] for arm in arms.values()]
    differ = sum(texts["serial"][key] != texts["batched"][key] for key in texts["serial"])
    result = {
        "setup": {"model": "smollm2-135m", "prompts": len(PROMPTS), "k": args.k,
                  "max_tokens": args.max_tokens, "batch": args.batch, "threads": backend.threads,
                  "repeats": args.repeats, "cpu": platform.processor() or platform.machine(),
                  "loadavg_before": [round(x, 2) for x in load_before],
                  "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "arms": arms,
        "batched_vs_bare": round(rates[1] / rates[2], 3),
        "batched_vs_serial": round(rates[1] / rates[0], 3),
        "samples_differing_batch1_vs_batched": f"{differ}/{len(reqs)}",
    }
    print(f"{'arm':<34}{'seconds':>9}{'tokens':>8}{'tok/s':>8}")
    for name, arm in arms.items():
        print(f"{name:<34}{arm['seconds']:>9}{arm['tokens']:>8}{arm['tok_per_s']:>8}")
    print(f"batched / bare = {result['batched_vs_bare']}  batched / serial = {result['batched_vs_serial']}  "
          f"samples differing batch 1 vs {args.batch}: {differ}/{len(reqs)}  "
          f"(threads {backend.threads}, load {result['setup']['loadavg_before']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
