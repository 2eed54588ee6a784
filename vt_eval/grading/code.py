"""The code grader: extract the program, run every hidden test in the bubblewrap sandbox.

A sample is correct only if it passes all tests (stopping at the first failure). The Verdict is
one of the shared literals; the code-specific outcome (compile_error, runtime_error, wrong_answer,
timeout, memory_out, output_limit) and tests passed/total, the first failing test, difficulty,
platform and contest date go in Score.details for the report's breakdowns.

Card options (all optional):
  format             "lcb" (LiveCodeBench rows, default) or "leetcode" (vt-eval's local format)
  prompt_style       "single_turn" (default: LCB system message + template as one user turn, the
                     VibeThinker protocol) or "system" (LCB's own system + user split)
  test_timeout_s     wall clock per test (default 6, LCB's)
  problem_timeout_s  wall clock for all tests of one sample (default 120)
  time_budget        "fixed" (problem_timeout_s) or "lcb" ((test_timeout_s + 1) x tests + 5 s,
                     LiveCodeBench's budget)
  memory_mb          total memory of a program and its forks (default 2048)
  packages           extra importable packages, e.g. ["sortedcontainers"] (LeetCode's judge)
  float_tolerance    numeric tolerance (default 0 = LCB's exact Decimal equality for "lcb",
                     1e-5 for "leetcode")
Fails closed: without a working bwrap the grader raises SandboxUnavailable (how to install it),
unless the run was started with --unsafe-no-sandbox (GradingOptions.unsafe_no_sandbox).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import Field

from vt_eval.cards import Card
from vt_eval.code.judge import CodeProblem, CodeRunSettings, judge
from vt_eval.code.lcb import lcb_messages, problem_from_row
from vt_eval.code.leetcode import problem_from_local
from vt_eval.code.select import select_items
from vt_eval.config import RunSection
from vt_eval.data import Item
from vt_eval.errors import DataError
from vt_eval.frozen import Frozen
from vt_eval.grading.base import (
    Grader,
    GraderOptions,
    GradeTask,
    GradingOptions,
    Prompt,
)
from vt_eval.grading.extract import final_part
from vt_eval.records import Score
from vt_eval.sandbox import Limits, Sandbox, SandboxConfig

FAILED = {"compile_error", "runtime_error", "wrong_answer", "timeout", "memory_out",
          "output_limit"}


def extract_code(response: str) -> tuple[str | None, str]:
    """LCB's rule, after the reasoning block: the text between the last two lines holding ```."""
    text, where = final_part(response)
    if text is None:
        return None, where
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return None, f"no fenced code block ({where})"
    code = "\n".join(lines[fences[-2] + 1:fences[-1]])
    if not code.strip():
        return None, f"empty code block ({where})"
    return code, f"last code block ({where})"


class CodeOptions(GraderOptions):
    format: Literal["lcb", "leetcode"] = "lcb"
    prompt_style: Literal["single_turn", "system"] = "single_turn"
    test_timeout_s: float = Field(6.0, gt=0, allow_inf_nan=False)
    problem_timeout_s: float = Field(120.0, gt=0, allow_inf_nan=False)
    memory_mb: int = Field(2048, gt=0)
    float_tolerance: float | None = Field(None, ge=0, allow_inf_nan=False)
    # Extra importable packages inside the sandbox, e.g. ["sortedcontainers"] (LeetCode's judge).
    packages: list[str] = []
    # "fixed": problem_timeout_s for all tests of a sample; "lcb": (test_timeout_s + 1) x tests + 5 s.
    time_budget: Literal["fixed", "lcb"] = "fixed"
    # Item selection (see vt_eval.code.select): dates YYYY-MM-DD, contest slugs or titles.
    since: str | None = None
    until: str | None = None
    contest_after: str | None = None
    contests: list[str] | None = None


def code_options(card: Card) -> CodeOptions:
    return CodeGrader().options(card)


def build_problem(card: Card, item: Item) -> CodeProblem:
    options = code_options(card)
    row = dict(item.row)
    if options.format == "leetcode":
        if options.float_tolerance is not None:
            row["tolerance"] = options.float_tolerance
        return problem_from_local(row)
    return problem_from_row(row, tolerance=options.float_tolerance or 0.0)


def settings_for(card: Card) -> CodeRunSettings:
    options = code_options(card)
    return CodeRunSettings(test_timeout_s=options.test_timeout_s,
                         problem_timeout_s=options.problem_timeout_s,
                         limits=Limits(memory_mb=options.memory_mb),
                         time_budget=options.time_budget, packages=tuple(options.packages))


def item_facts(card: Card, item: Item) -> dict[str, Any]:
    row = item.row
    if code_options(card).format == "leetcode":
        return {"difficulty": str(row.get("difficulty", "")).lower(), "platform": "leetcode",
                "contest": row.get("contest_slug"), "contest_date": row.get("date")}
    return {"difficulty": str(row.get("difficulty", "")).lower(),
            "platform": row.get("platform"), "contest": row.get("contest_id"),
            "contest_date": str(row.get("contest_date", ""))[:10]}


class CodeGrader(Grader):
    name = "code"
    version = "1"
    Options = CodeOptions
    policies = {
        "answer": "the last fenced code block after the reasoning (LiveCodeBench's rule)",
        "correct": "passes every hidden test in the sandbox; the first failure stops the sample",
        "truncation": "a response that hit max tokens is truncated (not correct)",
    }

    def select_items(self, card: Card, items: Sequence[Item], run: RunSection) -> list[Item]:
        """Date windows and contests: flags win over the card's options."""
        return select_items(card, self.options(card), items, run.since or None,
                            run.until or None, run.contest_after or None)

    def prompt(self, card: Card, item: Item, sample_index: int, run_seed: int) -> Prompt:
        style = self.options(card).prompt_style
        return Prompt(messages=lcb_messages(item.question, str(item.row.get("starter_code") or ""),
                                            style), extra={})

    def grade_answers(self, tasks: Sequence[GradeTask], options: GradingOptions) -> Iterator[Score]:
        runnable: list[tuple[GradeTask, str]] = []
        for task in tasks:
            settled = self._settle(task)
            if isinstance(settled, Score):
                yield settled
            else:
                runnable.append((task, settled))
        if not runnable:
            return
        problems: dict[tuple[str, str], CodeProblem | str] = {}
        for task, _ in runnable:
            key = (task.card.name, task.item.id)
            if key not in problems:
                try:
                    problems[key] = build_problem(task.card, task.item)
                except (DataError, ValueError, KeyError) as exc:
                    problems[key] = f"bad problem data: {exc}"
        config = SandboxConfig(unsafe_no_sandbox=options.unsafe_no_sandbox)
        Sandbox(config).close()  # fail closed before any work, with the install hint
        local = threading.local()
        opened: list[Sandbox] = []
        lock = threading.Lock()

        def run(pair: tuple[GradeTask, str]) -> Score:
            task, code = pair
            problem = problems[(task.card.name, task.item.id)]
            facts = item_facts(task.card, task.item)
            if isinstance(problem, str):
                return self.score(task, "grader_error", None, problem, **facts)
            if not hasattr(local, "sandbox"):
                local.sandbox = Sandbox(config)
                with lock:
                    opened.append(local.sandbox)
            result = judge(local.sandbox, problem, code, settings_for(task.card))
            details = {**result.details(), **facts,
                       "sandbox": "none (--unsafe-no-sandbox)" if config.unsafe_no_sandbox
                       else "bwrap", "sandbox_mode": local.sandbox.description,
                       "uid_drop": local.sandbox.uid_drop}
            return self._verdict(task, code, result.outcome, result.message, details)

        try:
            with ThreadPoolExecutor(max(1, options.workers)) as pool:
                yield from pool.map(run, runnable)
        finally:
            for sandbox in opened:
                sandbox.close()

    def truncated_details(self, task: GradeTask) -> tuple[str | None, dict[str, Any]]:
        code, _ = extract_code(task.sample.response)
        return code, {"outcome": "truncated", **item_facts(task.card, task.item)}

    def _settle(self, task: GradeTask) -> Score | str:
        sample = task.sample
        facts = item_facts(task.card, task.item)
        code, where = extract_code(sample.response)
        if code is None:
            return self.score(task, "no_answer", None, where, outcome="no_code", **facts)
        return code

    def extra_metrics(self, tasks: Sequence[GradeTask], scores: Sequence[Score]) -> CodeMetrics:
        return code_metrics(scores)

    def provenance(self, scores: Sequence[Score]) -> dict[str, Any]:
        """The sandbox mode(s) the programs ran under (also in the manifest)."""
        modes = code_metrics(scores).sandbox_modes
        return {"sandbox_modes": modes} if modes else {}

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        m = CodeMetrics.model_validate(metrics)
        difficulty = ", ".join(f"{name} {100 * v.accuracy:.1f}% ({v.samples})"
                               for name, v in m.by_difficulty.items())
        lines = [f"code outcomes {m.outcomes}; by difficulty: {difficulty}"]
        if m.sandbox_modes:
            lines.append("sandbox: " + "; ".join(f"{mode} ({n} samples)"
                                                 for mode, n in m.sandbox_modes.items()))
        return lines

    def _verdict(self, task: GradeTask, code: str, outcome: str, message: str,
                 details: dict[str, Any]) -> Score:
        short = code if len(code) <= 20000 else code[:20000] + "\n# ...(truncated)"
        if outcome == "passed":
            return self.score(task, "correct", short,
                              f"passed all {details['tests_total']} tests", **details)
        if outcome in FAILED:
            failure = details.get("first_failure") or {}
            where = f"test {failure.get('test')}" if failure.get("test") is not None else "load"
            return self.score(task, "incorrect", short,
                              f"{outcome} at {where} ({details['tests_passed']}/"
                              f"{details['tests_total']} passed) {message}".strip(), **details)
        return self.score(task, "grader_error", short, f"{outcome}: {message}", **details)


class GroupAccuracy(Frozen):
    samples: int
    accuracy: float


class CodeMetrics(Frozen):
    outcomes: dict[str, int]  # why samples failed: one count per outcome
    by_difficulty: dict[str, GroupAccuracy]
    by_platform: dict[str, GroupAccuracy]
    # how programs were isolated and limited (Score.details sandbox_mode): samples per mode
    sandbox_modes: dict[str, int] = {}


def _accuracy_by(scores: Sequence[Score], key: str) -> dict[str, GroupAccuracy]:
    groups: dict[str, list[int]] = {}
    for score in scores:
        counts = groups.setdefault(str(score.details.get(key) or "?"), [0, 0])
        counts[0] += score.verdict == "correct"
        counts[1] += 1
    return {name: GroupAccuracy(samples=n, accuracy=c / n) for name, (c, n) in sorted(groups.items())}


def code_metrics(scores: Sequence[Score]) -> CodeMetrics:
    """Per-difficulty and per-platform accuracy, and why samples failed (one count per outcome)."""
    outcomes: dict[str, int] = {}
    modes: dict[str, int] = {}
    for score in scores:
        outcome = str(score.details.get("outcome") or score.verdict)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if score.details.get("sandbox_mode"):
            mode = str(score.details["sandbox_mode"])
            modes[mode] = modes.get(mode, 0) + 1
    return CodeMetrics(outcomes=dict(sorted(outcomes.items())),
                       by_difficulty=_accuracy_by(scores, "difficulty"),
                       by_platform=_accuracy_by(scores, "platform"), sandbox_modes=modes)
