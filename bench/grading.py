"""Math responses graded per second on this machine, with realistic 20K-character responses.

Two workloads: distinct answers (every sample needs math-verify) and an AIME-like run where the k
samples of a problem repeat a few answers (the grader verifies each distinct answer once).
Also grades the hand-labelled responses of tests/data/math_hand_labelled.jsonl and prints how many
verdicts agree with the labels. Prints a table and writes bench/results/grading.json.

Wall time depends on what else runs on the machine; the `cpu-bound resp/s` column does not: it
measures the CPU time of the main-process extraction and of the worker's grading of each
distinct (gold, answer) pair in this process, and divides the workers by it (what the pool
reaches on an otherwise idle machine, start-up excluded).

    python bench/grading.py [--responses 1920] [--workers 2] [--agreement-only]
    python bench/grading.py --gpqa-published DIR   # lenient GPQA vs publishers (docs/grading.md)

`--gpqa-published DIR` reads the per-model CSVs of github.com/HaveFunWithAI/gpqa_diamond_exp
(columns r1-r4 responses, a1-a4 the publisher's letters; version v puts the correct answer at
letter v, the incorrect ones in source order). That repository has no licence, so its responses
are not shipped: fetch it yourself to reproduce the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from pathlib import Path

from vt_eval.cards import get_card
from vt_eval.data import Item, load_benchmark
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.gpqa import extract_letter
from vt_eval.grading.math import MathGrader, normalise_gold
from vt_eval.grading.math_cluster_worker import grade_and_cluster
from vt_eval.records import Sample, Score

FILLER = ("We consider the expression $\\frac{a+b}{2}$ and apply the inequality "
          "$x^2 + y^2 \\geq 2xy$, so $\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$. ")


def response(rng: random.Random, answer: str, chars: int = 20_000) -> str:
    body = (FILLER * (chars // len(FILLER) + 1))[: chars - 200]
    return f"<think>{body}\\boxed{{{rng.randint(1, 999)}}}</think>\nSo the answer is \\boxed{{{answer}}}."


def workload(name: str, count: int, distinct: bool, seed: int = 0) -> list[GradeTask]:
    rng = random.Random(seed)
    cards = [get_card(b) for b in ("aime_2025", "hmmt_feb_2025", "brumo_2025")]
    items = [(card, item) for card in cards for item in load_benchmark(card).items]
    tasks = []
    for index in range(count):
        card, item = items[index % len(items)]
        if distinct:
            answer = item.answer if index % 3 == 0 else f"{rng.randint(1, 10**6)}"
        else:
            answer = rng.choice([item.answer, item.answer, "17", "\\frac{1}{2}"])
        sample = Sample(benchmark=card.name, item_id=item.id, sample_index=index, seed=index,
                        messages=[], response=response(rng, answer), finish_reason="stop",
                        created_at="bench")
        tasks.append(GradeTask(card, Item(item.id, item.question, item.answer), sample))
    return tasks


def cpu_bound_rate(tasks: list[GradeTask], workers: int) -> float:
    """Responses/s the pool reaches when CPU is the only limit: CPU seconds of the main-process
    work per response, plus the worker's per-pair work spread over `workers` processes."""
    grader = MathGrader()
    started = time.process_time()
    pairs = {(normalise_gold(t.item.answer), settled) for t in tasks
             if not isinstance(settled := grader._settle_without_math(t), Score)}
    main_cpu = time.process_time() - started
    started = time.process_time()
    for pair in pairs:
        grade_and_cluster(pair)
    worker_cpu = time.process_time() - started
    return len(tasks) / (main_cpu + worker_cpu / workers)


def measure(tasks: list[GradeTask], workers: int) -> dict[str, float]:
    started = time.perf_counter()
    scores = list(MathGrader().grade(tasks, GradingOptions(timeout_s=10, workers=workers)))
    elapsed = time.perf_counter() - started
    assert len(scores) == len(tasks)
    return {"responses": len(tasks), "seconds": round(elapsed, 3),
            "responses_per_s": round(len(tasks) / elapsed, 1),
            "cpu_bound_responses_per_s": round(cpu_bound_rate(tasks, workers), 1),
            "timeouts": sum(s.verdict == "grader_timeout" for s in scores)}


GPQA_OPTIONS = ["177.675 fm", "251.271 fm", "355.351 fm", "87163.4 fm"]
GPQA_ENDINGS = ["\\boxed{B}", "The final answer is: $\\boxed{251.271}$", "Therefore, option B is the "
                "closest.", "**Therefore, the imaginary part is 251.271 fm (B).**",
                "Let me know if you have any other questions!", "≈ 53.93 fm × 4.66\n≈ 251.271 fm"]


def gpqa_readings(count: int) -> dict[str, float]:
    """Strict and lenient GPQA readings of 20K-character responses, in this process (the GPQA
    grader reads each response once with each mode, without workers)."""
    rng = random.Random(0)
    body = (FILLER * (20_000 // len(FILLER) + 1))[:19_800]
    texts = [f"{body}\n\n{rng.choice(GPQA_ENDINGS)}" for _ in range(count)]
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        extract_letter(text, GPQA_OPTIONS, mode="strict")
        extract_letter(text, GPQA_OPTIONS, mode="lenient")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"responses": count, "seconds": round(elapsed, 3),
            "responses_per_s": round(count / elapsed, 1),
            "cpu_bound_responses_per_s": round(count / cpu, 1), "timeouts": 0}


LABELLED = Path(__file__).parent.parent / "tests" / "data" / "math_hand_labelled.jsonl"


def labelled_tasks(path: Path = LABELLED) -> tuple[list[GradeTask], dict[str, dict]]:
    """GradeTasks for the hand-labelled responses, and the rows by item id."""
    rows = {row["id"]: row for row in map(json.loads, path.read_text().splitlines()) if row}
    tasks = []
    for row in rows.values():
        card = get_card(row["benchmark"])
        sample = Sample(benchmark=card.name, item_id=row["id"], sample_index=0, seed=0, messages=[],
                        response=row["response"], finish_reason=row["finish_reason"],
                        created_at="bench")
        tasks.append(GradeTask(card, Item(row["id"], "question", row["gold"]), sample))
    return tasks, rows


def agreement(workers: int) -> dict[str, object]:
    """How many grader verdicts equal the hand labels, and the rows that differ."""
    tasks, rows = labelled_tasks()
    scores = MathGrader().grade(tasks, GradingOptions(timeout_s=10, workers=workers))
    differ = [{"id": s.item_id, "label": rows[s.item_id]["label"], "verdict": s.verdict,
               "why": s.explanation[:100]} for s in scores if s.verdict != rows[s.item_id]["label"]]
    return {"agree": len(rows) - len(differ), "total": len(rows), "differ": differ}


def gpqa_published(directory: Path) -> list[dict[str, object]]:
    """Strict and lenient GPQA accuracy on published responses against the publisher's own."""
    csv.field_size_limit(10**9)
    items = load_benchmark(get_card("gpqa_diamond")).items
    table = []
    for path in sorted(directory.glob("gpqa_diamond_*_eval.csv")):
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        counts = {"n": 0, "publisher": 0, "strict": 0, "lenient": 0, "no_answer": 0,
                  "both_read": 0, "same_letter": 0, "only_theirs_correct": 0, "only_ours_correct": 0,
                  "they_read_we_not": 0, "we_read_they_not": 0}
        for item, row in zip(items, rows, strict=False):
            wrong = [str(item.row[f"Incorrect Answer {i}"]).strip() for i in (1, 2, 3)]
            for v, gold in enumerate("ABCD"):
                options = wrong[:v] + [str(item.row["Correct Answer"]).strip()] + wrong[v:]
                response, theirs = row[f"r{v + 1}"], row[f"a{v + 1}"].strip()
                strict, _ = extract_letter(response, options, mode="strict")
                lenient, _ = extract_letter(response, options, mode="lenient")
                counts["n"] += 1
                counts["publisher"] += theirs == gold
                counts["strict"] += strict == gold
                counts["lenient"] += lenient == gold
                counts["no_answer"] += lenient is None
                if lenient and theirs in ("A", "B", "C", "D"):
                    counts["both_read"] += 1
                    counts["same_letter"] += lenient == theirs
                counts["only_theirs_correct"] += theirs == gold and lenient != gold
                counts["only_ours_correct"] += lenient == gold and theirs != gold
                counts["they_read_we_not"] += lenient is None and theirs in ("A", "B", "C", "D")
                counts["we_read_they_not"] += lenient is not None and theirs not in ("A", "B", "C", "D")
        n = counts["n"]
        table.append({"file": path.name, "responses": n,
                      **{k: round(100 * counts[k] / n, 1) for k in ("publisher", "strict",
                                                                    "lenient", "no_answer")},
                      "lenient_minus_publisher": round(100 * (counts["lenient"] - counts["publisher"]) / n, 1),
                      "same_letter": f"{counts['same_letter']}/{counts['both_read']}",
                      **{k: counts[k] for k in ("only_theirs_correct", "only_ours_correct",
                                                "they_read_we_not", "we_read_they_not")}})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1920)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--agreement-only", action="store_true")
    parser.add_argument("--gpqa-published", type=Path, default=None)
    args = parser.parse_args()
    if args.gpqa_published is not None:
        for row in gpqa_published(args.gpqa_published):
            print(f"{row['file']:<42} publisher {row['publisher']:>5}%  strict {row['strict']:>5}%  "
                  f"lenient {row['lenient']:>5}% ({row['lenient_minus_publisher']:+} points; no answer "
                  f"{row['no_answer']}%)  same letter {row['same_letter']}  they read/we not "
                  f"{row['they_read_we_not']}, we read/they not {row['we_read_they_not']}; correct only "
                  f"theirs {row['only_theirs_correct']}, only ours {row['only_ours_correct']}")
        return
    agreed = agreement(args.workers)
    print(f"hand-labelled agreement: {agreed['agree']}/{agreed['total']}")
    for row in agreed["differ"]:
        print(f"  {row['id']}: label {row['label']}, graded {row['verdict']} ({row['why']})")
    if args.agreement_only:
        return
    rows = {}
    for label, distinct in (("distinct answers", True), ("AIME-like repeats", False)):
        tasks = workload(label, args.responses, distinct)
        rows[label] = measure(tasks, args.workers)
    rows["GPQA strict+lenient"] = gpqa_readings(args.responses)
    print(f"{'workload':<20} {'responses':>9} {'seconds':>8} {'resp/s':>8} "
          f"{'cpu-bound resp/s':>16} {'timeouts':>8}")
    for label, row in rows.items():
        print(f"{label:<20} {row['responses']:>9} {row['seconds']:>8} {row['responses_per_s']:>8} "
              f"{row['cpu_bound_responses_per_s']:>16} {row['timeouts']:>8}")
    print("target: >= 500 responses/s on 2 cores (20K-character responses, start-up included)")
    out = Path(__file__).parent / "results" / "grading.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"workers": args.workers, "chars_per_response": 20_000,
                               "target_responses_per_s": 500, "rows": rows,
                               "hand_labelled_agreement": agreed}, indent=2))


if __name__ == "__main__":
    main()
