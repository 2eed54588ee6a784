"""Likelihood-probe throughput on the fixture model (CPU) vs a bare forward pass over the same texts.

Three timings over AIME 2026 problems (clipped as the probe clips them):
- bare forward: one `model(input_ids)` per text, logits only (the floor);
- probe, no copies: `likelihood_probe` with perturbations = 0 (per-token log p, the full-vocabulary
  moments for Min-K%++, through the transformers backend);
- probe, default: perturbations = 2 (each item also scores 4 perturbed copies, i.e. 5 texts).
Prints a table and writes bench/results/probe.json (with the load average: the machine is shared).

    python bench/probe.py [--items 12] [--threads 1] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from vt_eval.backends.transformers_backend import TransformersBackend
from vt_eval.cards import get_card
from vt_eval.config import TransformersConfig
from vt_eval.models import resolve_model
from vt_eval.probes.likelihood import likelihood_probe
from vt_eval.probes.run import card_items
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem


def best_of(repeats: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def bare_forward(backend: TransformersBackend, items: list[ProbeItem]) -> None:
    with torch.inference_mode():
        for item in items:
            ids = backend.tokenizer(item.text, add_special_tokens=True)["input_ids"]
            backend.model(input_ids=torch.tensor([ids], device=backend.device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    backend = TransformersBackend(resolve_model("smollm2-135m"),
                                  TransformersConfig(threads=args.threads, batch_size=8))
    plain, default = ProbeSettings(perturbations=0), ProbeSettings()
    items = card_items(get_card("aime_2026"), default, limit=args.items)
    tokens = sum(len(backend.tokenizer(i.text)["input_ids"]) for i in items)
    bare_forward(backend, items[:2])  # warm-up
    rows = {
        "bare forward": (best_of(args.repeats, lambda: bare_forward(backend, items)), 1),
        "probe, no copies": (best_of(args.repeats, lambda: likelihood_probe(backend, items, plain)), 1),
        "probe, default (4 copies)": (best_of(args.repeats, lambda: likelihood_probe(backend, items, default)),
                                      1 + 2 * default.perturbations),
    }
    floor = rows["bare forward"][0]
    results = {"model": "smollm2-135m", "items": len(items), "tokens": tokens, "threads": args.threads,
               "repeats": args.repeats, "load_average_1min": round(os.getloadavg()[0], 2),
               "cpu_count": os.cpu_count(), "timings": {}}
    print(f"{len(items)} AIME 2026 problems, {tokens} tokens, {args.threads} thread(s), "
          f"load {results['load_average_1min']}")
    print(f"{'':28} {'seconds':>8} {'items/s':>8} {'texts/s':>8} {'x bare':>7}")
    for name, (seconds, texts_per_item) in rows.items():
        entry = {"seconds": round(seconds, 3), "items_per_s": round(len(items) / seconds, 2),
                 "texts_per_s": round(len(items) * texts_per_item / seconds, 2),
                 "slowdown_vs_bare": round(seconds / floor, 2)}
        results["timings"][name] = entry
        print(f"{name:28} {entry['seconds']:8.2f} {entry['items_per_s']:8.2f} "
              f"{entry['texts_per_s']:8.2f} {entry['slowdown_vs_bare']:7.2f}")
    out = Path(__file__).parent / "results" / "probe.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    backend.close()


if __name__ == "__main__":
    main()
