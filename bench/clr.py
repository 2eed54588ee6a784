"""CLR's cost: aggregation speed, the model calls and tokens it adds per problem, measured on the
fixture model and projected for a 3B reasoning model on vLLM. Prints tables; writes
bench/results/clr.json.

    python bench/clr.py [--problems 300] [--samples 4] [--max-tokens 32] [--no-model]

(--no-model keeps the fixture-model measurement already in bench/results/clr.json.)

Aggregation: synthetic problems (K = 64 trajectories, M = 5 verdicts each, 6 answer clusters),
R = 8 repetitions each: reliabilities, seeded draws, the choice and the benchmark metrics.
Fixture model: one AIME 2025 problem, `--samples` trajectories, their extraction calls and M
verification calls each, every call capped at `--max-tokens` (the 135M model rarely writes M
parsable claims, so each trajectory's claims are padded with its own sentences to M: the point
is the cost of K*(1+M) calls). The projection's assumptions are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vt_eval.clr.aggregation import Trajectory, problem_rng, reliability, run_problem
from vt_eval.clr.metrics import ProblemRun, benchmark_metrics
from vt_eval.records import GOLD_CLUSTER

K, M, R = 64, 5, 8
CLUSTERS = [GOLD_CLUSTER, *(f"math:{n}" for n in range(5))]


def synthetic_problem(rng: np.random.Generator, index: int) -> list[Trajectory]:
    clusters = rng.choice(len(CLUSTERS), size=K, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    verdicts = rng.random((K, M)) < np.where(clusters == 0, 0.9, 0.6)[:, None]
    return [Trajectory(index=i, cluster=CLUSTERS[c], answer=CLUSTERS[c],
                       reliability=reliability([int(v) for v in verdicts[i]], M),
                       generation_tokens=18_000, clr_prompt_tokens=20_000,
                       clr_completion_tokens=3_000, calls=1 + M)
            for i, c in enumerate(clusters)]


def aggregation_speed(problems: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    pools = [synthetic_problem(rng, i) for i in range(problems)]
    started = time.perf_counter()
    runs = [ProblemRun(str(i), tuple(pool), tuple(run_problem(
                pool, K, [problem_rng(0, r, "bench", str(i)) for r in range(R)])))
            for i, pool in enumerate(pools)]
    metrics = benchmark_metrics(runs, K, 0)
    seconds = time.perf_counter() - started
    return {"problems": problems, "k": K, "m": M, "repetitions": R, "pool": K,
            "seconds": round(seconds, 3), "problems_per_s": round(problems / seconds, 1),
            "clr_accuracy": metrics["clr_accuracy"], "maj_at_k": metrics["maj_at_k"]}


@dataclass
class Step:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def row(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "seconds": round(self.seconds, 2)}


def _timed(backend: Any, requests: list[Any], max_tokens: int) -> tuple[Step, dict[Any, Any]]:
    from vt_eval.config import SamplingParams
    step, out = Step(), {}
    started = time.perf_counter()
    for c in backend.generate(requests, SamplingParams(max_tokens=max_tokens, seed=0)):
        out[c.key] = c
        step.calls += 1
        step.prompt_tokens += c.prompt_tokens or 0
        step.completion_tokens += c.completion_tokens or 0
    step.seconds = time.perf_counter() - started
    return step, out


def fixture_model(samples: int, max_tokens: int) -> dict[str, Any]:
    from vt_eval.backends.base import Request
    from vt_eval.backends.transformers_backend import TransformersBackend
    from vt_eval.cards import get_card
    from vt_eval.clr.calls import CallSettings, extraction_request, verification_request
    from vt_eval.clr.parsing import parse_claims
    from vt_eval.config import SamplingParams, TransformersConfig
    from vt_eval.data import load_benchmark
    from vt_eval.grading import get_grader
    from vt_eval.models import resolve_model
    from vt_eval.records import Sample

    card = get_card("aime_2025")
    item = load_benchmark(card).items[0]
    prompt = get_grader(card.grader).prompt(card, item, 0, 0)
    backend = TransformersBackend(resolve_model("smollm2-135m"),
                                  TransformersConfig(batch_size=samples, threads=1))
    try:
        gen, done = _timed(backend, [Request((card.name, item.id, i), prompt.messages, i)
                                     for i in range(samples)], max_tokens)
        trajectories = [Sample(benchmark=card.name, item_id=item.id, sample_index=key[2], seed=0,
                               messages=prompt.messages, response=c.text,
                               finish_reason=c.finish_reason, created_at="bench")
                        for key, c in sorted(done.items())]
        params = SamplingParams(max_tokens=max_tokens)
        extract = CallSettings("clr-extract/v1", params, M)
        ext, replies = _timed(backend, [extraction_request(s, extract, 0) for s in trajectories],
                              max_tokens)
        verify = CallSettings("clr-verify/v1", params)
        requests = []
        for s in trajectories:
            claims = list(parse_claims(replies[s.key].text, M).claims)
            claims += [p for p in re.split(r"(?<=[.!?])\s+", s.response) if p][: M - len(claims)]
            claims += ["The solution is correct."] * (M - len(claims))
            requests += [verification_request(s, i, c, verify, 0) for i, c in enumerate(claims)]
        ver, _ = _timed(backend, requests, max_tokens)
    finally:
        backend.close()
    clr_seconds = ext.seconds + ver.seconds
    return {"samples": samples, "max_tokens": max_tokens, "m": M, "generation": gen.row(),
            "extraction": ext.row(), "verification": ver.row(),
            "clr_calls": ext.calls + ver.calls,
            "clr_over_generation_seconds": round(clr_seconds / gen.seconds, 2),
            "clr_over_generation_completion_tokens": round(
                (ext.completion_tokens + ver.completion_tokens) / max(1, gen.completion_tokens), 2)}


# Projection for a 3B reasoning model on vLLM: assumptions (none measured here; no GPU).
ASSUMPTIONS = {
    "trajectory_tokens": 18_686,  # VibeThinker-1.5B official AIME25 mean response; 3B assumed alike
    "problem_prompt_tokens": 200,
    "extraction_template_tokens": 300,
    "verification_prompt_tokens": 400,  # template + problem + one claim
    "decode_tokens_per_s": 12_000,  # aggregate, 3B bf16, one H100, vLLM, >= 256 concurrent rows
    "prefill_tokens_per_s": 60_000,
    "scenarios": {"concise replies": {"extraction": 400, "verification": 800},
                  "reasoning replies (verify at max_tokens 4096)": {"extraction": 2000,
                                                                    "verification": 4096}},
}


def projection(k: int) -> dict[str, Any]:
    a = ASSUMPTIONS
    gen_decode = k * a["trajectory_tokens"]
    gen_prefill = k * a["problem_prompt_tokens"]
    gen_s = gen_decode / a["decode_tokens_per_s"] + gen_prefill / a["prefill_tokens_per_s"]
    rows = {}
    for name, replies in a["scenarios"].items():
        decode = k * (replies["extraction"] + M * replies["verification"])
        prefill = k * (a["trajectory_tokens"] + a["extraction_template_tokens"]
                       + M * a["verification_prompt_tokens"])
        seconds = decode / a["decode_tokens_per_s"] + prefill / a["prefill_tokens_per_s"]
        rows[name] = {"calls": k * (1 + M), "clr_decode_tokens": decode,
                      "clr_prefill_tokens": prefill, "clr_seconds": round(seconds, 1),
                      "generation_decode_tokens": gen_decode, "generation_seconds": round(gen_s, 1),
                      "clr_over_generation_seconds": round(seconds / gen_s, 2),
                      "equal_token_k": round(k * (gen_decode + decode) / gen_decode)}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=300)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--no-model", action="store_true")
    args = parser.parse_args()
    speed = aggregation_speed(args.problems)
    print(f"aggregation (K={K}, M={M}, R={R}, synthetic): {speed['problems']} problems in "
          f"{speed['seconds']} s = {speed['problems_per_s']} problems/s")
    print(f"calls CLR adds per problem: K*(1+M) = {32 * (1 + M)} at K=32, {64 * (1 + M)} at K=64")
    out = Path(__file__).parent / "results" / "clr.json"
    fixture = fixture_model(args.samples, args.max_tokens) if not args.no_model else \
        json.loads(out.read_text()).get("fixture_model") if out.is_file() else None  # keep it
    if fixture:
        print(f"\nfixture model (smollm2-135m, CPU, 1 thread), {fixture['samples']} trajectories, "
              f"every call <= {fixture['max_tokens']} new tokens:")
        print(f"{'step':<14}{'calls':>6}{'prompt tok':>11}{'compl tok':>10}{'seconds':>9}")
        for step in ("generation", "extraction", "verification"):
            row = fixture[step]
            print(f"{step:<14}{row['calls']:>6}{row['prompt_tokens']:>11}"
                  f"{row['completion_tokens']:>10}{row['seconds']:>9}")
        print(f"CLR / generation: {fixture['clr_over_generation_seconds']}x the seconds, "
              f"{fixture['clr_over_generation_completion_tokens']}x the completion tokens")
    projected = {k: projection(k) for k in (32, 64)}
    print("\nprojection, 3B reasoning model on vLLM (assumptions in the JSON and the source):")
    print(f"{'K':>3} {'scenario':<46}{'calls':>6}{'CLR s':>8}{'gen s':>8}{'ratio':>7}{'K eq':>6}")
    for k, rows in projected.items():
        for name, row in rows.items():
            print(f"{k:>3} {name:<46}{row['calls']:>6}{row['clr_seconds']:>8}"
                  f"{row['generation_seconds']:>8}{row['clr_over_generation_seconds']:>7}"
                  f"{row['equal_token_k']:>6}")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"aggregation": speed, "calls_per_problem": {
        "formula": "K*(1+M)", "k32": 32 * (1 + M), "k64": 64 * (1 + M)},
        "fixture_model": fixture, "projection_3b_vllm": {"assumptions": ASSUMPTIONS,
                                                         "per_problem": projected}}, indent=2))


if __name__ == "__main__":
    main()
