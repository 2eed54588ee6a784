"""Decontamination throughput: n-gram pass and MinHash pass, per core and total, vs baselines.

Generates a JSONL corpus of chat rows resembling math problems and solutions (--size-mb, default
1024) with 100 planted benchmark items (60 as the user turn, 40 embedded inside long solutions),
then times:
  - n-gram pass (MinHash off) on 1 process and on --workers processes (the 1-process run also per
    CPU second, for loaded machines);
  - full audit (n-gram + MinHash) on 1 and on --workers processes; MinHash pass = full - n-gram;
    each audit runs --repeat times and the best time is kept (wall and CPU separately);
  - baselines on a sample: pure-Python xxhash 13-gram set lookup, and datasketch MinHash
    (update_batch with xxhash, the usual "bulk" recipe) + MinHashLSH query per row. They do not
    change with our code, so our rates are also given as ratios to them; the baselines are timed
    before and after the audits and the faster of the two is used (the conservative ratio), by
    wall clock and by CPU seconds (the CPU ratio is the steadier one on a shared machine).
Prints a table and writes bench/results/decontam.json.

    python bench/decontam.py --size-mb 16     # CI-sized, well under a minute
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import xxhash
from datasketch import MinHash, MinHashLSH

from vt_eval.decontam.audit import AuditConfig, load_benchmark_items, run_audit
from vt_eval.decontam.ngram_index import ngrams
from vt_eval.decontam.normalize import tokenize
from vt_eval.decontam.policy import load_policy

VOCAB = ("we have so the sum of all terms is equal to hence by symmetry it follows that each "
         "integer solution must satisfy the congruence modulo prime factor therefore substituting "
         "back gives the value of the expression and the answer is").split()
LATEX = ("$x^2+y^2=z^2$", "$\\frac{a}{b}$", "$\\sqrt{n+1}$", "$2^{k}$", "$\\binom{n}{k}$",
         "$a_n = a_{n-1} + 3$", "$\\pmod{7}$", "$f(x) = 3x - 5$")


def _sentence_pool(rng: random.Random, size: int = 4000) -> list[str]:
    pool = []
    for _ in range(size):
        words = [rng.choice(VOCAB) for _ in range(rng.randint(8, 20))]
        words.insert(rng.randint(0, len(words)), rng.choice(LATEX))
        words.insert(rng.randint(0, len(words)), str(rng.randint(2, 9999)))
        pool.append(" ".join(words).capitalize() + ".")
    return pool


def make_corpus(path: Path, size_mb: float, items: list, seed: int = 1) -> dict[int, str]:
    """Write the corpus; return planted row -> 'benchmark/item_id'."""
    rng = random.Random(seed)
    pool = _sentence_pool(rng)
    target = int(size_mb * (1 << 20))
    planted_items = rng.sample(items, 100)
    plant_rows = sorted(rng.sample(range(max(200, target // 2600)), 100))
    planted: dict[int, str] = {}
    written, row = 0, 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target or len(planted) < len(plant_rows):
            problem = " ".join(rng.choices(pool, k=rng.randint(2, 5)))
            solution = " ".join(rng.choices(pool, k=rng.randint(10, 40)))
            if len(planted) < len(plant_rows) and row == plant_rows[len(planted)]:
                item = planted_items[len(planted)]
                if len(planted) < 60:
                    problem = item.text
                else:
                    cut = len(solution) // 2
                    solution = f"{solution[:cut]} {item.text} {solution[cut:]}"
                planted[row] = f"{item.benchmark}/{item.item_id}"
            line = json.dumps({"messages": [{"role": "user", "content": problem},
                                            {"role": "assistant", "content": solution}]}) + "\n"
            out.write(line)
            written += len(line)
            row += 1
    return planted


def _timed_audit(path: Path, bench, policy, workers: int, repeat: int):
    """Best wall seconds and best CPU seconds of this process (all the work when workers == 1)
    over `repeat` runs, and the first run's outcome (best-of-N: the machine may be shared)."""
    walls, cpus, outcome = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = run_audit([path], bench, policy, AuditConfig(workers=workers, hash_files=False))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        outcome = outcome or result
    return min(walls), min(cpus), outcome


def _recall(outcome, planted: dict[int, str]) -> int:
    hits = {(m["row"], f"{m['benchmark']}/{m['item_id']}") for m in outcome.matches if m["counts_by"]}
    return sum((row, key) in hits for row, key in planted.items())


def _baselines(path: Path, bench, sample_rows: int, params) -> dict[str, float]:
    texts = []
    with open(path, encoding="utf-8") as handle:
        for _, line in zip(range(sample_rows), handle):
            row = json.loads(line)
            texts.append("\n".join(m["content"] for m in row["messages"]))
    mb = sum(len(t.encode()) for t in texts) / 1e6
    keys = {xxhash.xxh3_64_intdigest(" ".join(g).encode()) for it in bench.items for g in ngrams(tokenize(it.text), 13)}
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        words = tokenize(text)
        any(xxhash.xxh3_64_intdigest(" ".join(words[i:i + 13]).encode()) in keys for i in range(len(words) - 12))
    python_ngram, python_ngram_cpu = mb / (time.perf_counter() - start), mb / (time.process_time() - cpu)
    lsh = MinHashLSH(threshold=params.lsh_threshold, num_perm=params.num_perm)
    for i, it in enumerate(bench.items):
        m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=xxhash.xxh32_intdigest)
        m.update_batch([" ".join(g).encode() for g in ngrams(tokenize(it.text), params.shingle)])
        lsh.insert(str(i), m)
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=xxhash.xxh32_intdigest)
        m.update_batch([" ".join(g).encode() for g in ngrams(tokenize(text), params.shingle)])
        lsh.query(m)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    return {"python_xxhash_13gram_mb_s": python_ngram, "python_xxhash_13gram_mb_cpu_s": python_ngram_cpu,
            "datasketch_minhash_mb_s": mb / seconds, "datasketch_minhash_mb_cpu_s": mb / cpu_seconds,
            "datasketch_minhash_docs_s": len(texts) / seconds, "sample_rows": len(texts)}


def _best(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    """The faster of two baseline measurements, per figure (our ratio to it is the lower one)."""
    return {key: max(first[key], second[key]) for key in first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=1024.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sample-rows", type=int, default=3000, help="rows for the baselines")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each audit; the best is kept")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "decontam.json")
    args = parser.parse_args()
    bench = load_benchmark_items(["aime_2025", "aime_2026", "brumo_2025", "hmmt_feb_2025", "imo_answerbench"])
    policy = load_policy()
    ngram_only = replace(policy, minhash=replace(policy.minhash, enabled=False),
                         rules=tuple(r for r in policy.rules if r.method == "ngram"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        start = time.perf_counter()
        planted = make_corpus(path, args.size_mb, list(bench.items))
        gen_s = time.perf_counter() - start
        base_before = _baselines(path, bench, args.sample_rows, policy.minhash)
        runs = {}
        for label, pol in (("ngram", ngram_only), ("full", policy)):
            for workers in sorted({1, args.workers}):
                seconds, cpu, outcome = _timed_audit(path, bench, pol, workers, args.repeat)
                runs[f"{label}_{workers}"] = {"seconds": seconds, "cpu": cpu, "outcome": outcome}
        text_mb = runs["ngram_1"]["outcome"].summary["training"]["text_bytes"] / 1e6
        file_mb = path.stat().st_size / 1e6
        base = _best(base_before, _baselines(path, bench, args.sample_rows, policy.minhash))
    w = args.workers
    minhash_cpu = runs["full_1"]["cpu"] - runs["ngram_1"]["cpu"]
    result = {
        "corpus": {"file_mb": round(file_mb, 1), "text_mb": round(text_mb, 1),
                   "rows": runs["ngram_1"]["outcome"].summary["training"]["rows"],
                   "planted": len(planted), "generate_s": round(gen_s, 1)},
        "workers": w,
        "ngram_mb_s_per_core": round(text_mb / runs["ngram_1"]["seconds"], 1),
        # per CPU second of the 1-process run: the same number on a quiet machine, and still
        # meaningful on a loaded one where wall-clock rates fall with the share of the CPU we get
        "ngram_mb_s_per_cpu_second": round(text_mb / runs["ngram_1"]["cpu"], 1),
        "ngram_mb_s_total": round(text_mb / runs[f"ngram_{w}"]["seconds"], 1),
        # the MinHash pass alone, per CPU second: full minus n-gram (None when noise hides it)
        "minhash_pass_mb_s_per_cpu_second": round(text_mb / minhash_cpu, 1) if minhash_cpu > 0 else None,
        "full_audit_mb_s_per_core": round(text_mb / runs["full_1"]["seconds"], 1),
        "full_audit_mb_s_per_cpu_second": round(text_mb / runs["full_1"]["cpu"], 1),
        "full_audit_mb_s_total": round(text_mb / runs[f"full_{w}"]["seconds"], 1),
        "baseline_python_xxhash_13gram_mb_s": round(base["python_xxhash_13gram_mb_s"], 1),
        "baseline_datasketch_minhash_mb_s": round(base["datasketch_minhash_mb_s"], 1),
        "ngram_vs_xxhash_baseline": round(text_mb / runs["ngram_1"]["seconds"] / base["python_xxhash_13gram_mb_s"], 2),
        "full_vs_datasketch": round(text_mb / runs["full_1"]["seconds"] / base["datasketch_minhash_mb_s"], 2),
        "ngram_vs_xxhash_baseline_cpu": round(text_mb / runs["ngram_1"]["cpu"] / base["python_xxhash_13gram_mb_cpu_s"], 2),
        "full_vs_datasketch_cpu": round(text_mb / runs["full_1"]["cpu"] / base["datasketch_minhash_mb_cpu_s"], 2),
        "baseline_datasketch_minhash_docs_s": round(base["datasketch_minhash_docs_s"]),
        "recall_ngram_only": f"{_recall(runs['ngram_1']['outcome'], planted)}/{len(planted)}",
        "recall_full": f"{_recall(runs['full_1']['outcome'], planted)}/{len(planted)}",
        "identical_across_workers": all(runs[f"{k}_1"]["outcome"].matches == runs[f"{k}_{w}"]["outcome"].matches
                                        for k in ("ngram", "full")),
        "seconds": {k: round(v["seconds"], 2) for k, v in runs.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
