"""Judge one program against one problem's tests inside a sandbox; stop at the first failure.

Outcomes (Score.details["outcome"]): passed, compile_error, runtime_error, wrong_answer, timeout,
memory_out, output_limit (printed far more than the expected output; counted with wrong answers by
the report if it wants), bad_test (the problem's own test data is broken: a grader error, never the
model's fault), sandbox_error (the sandbox died twice on this program).

Every status comes from vt_eval.sandbox.client, which computes it on the host from facts observed
outside the program; stdout and returned values are compared here with the expected outputs,
which never enter the sandbox. Checker problems (`check(candidate)` source) are turned into
functional tests on the host; checker code never runs next to the program.
"""

from __future__ import annotations

import ast
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from vt_eval.code.compare import stdio_equal, truncate, value_equal
from vt_eval.code.literals import literal
from vt_eval.sandbox import Limits, Sandbox, SandboxDied

Outcome = Literal["passed", "compile_error", "runtime_error", "wrong_answer", "timeout",
                  "memory_out", "output_limit", "bad_test", "sandbox_error"]
OUTCOMES: tuple[str, ...] = ("passed", "compile_error", "runtime_error", "wrong_answer", "timeout",
                             "memory_out", "output_limit", "bad_test", "sandbox_error")
MIN_OUT_CAP = 1 << 20

# LiveCodeBench's preamble (lcb_runner/evaluation/testing_util.py `import_string`): every program
# runs after these imports, with the recursion limit raised.
LCB_PRELUDE = "\n".join(
    [f"from {m} import *" for m in ("string", "re", "datetime", "collections", "heapq", "bisect",
                                    "copy", "math", "random", "statistics", "itertools",
                                    "functools", "operator", "io", "sys", "json", "builtins",
                                    "typing")]
    + [f"import {m}" for m in ("string", "re", "datetime", "collections", "heapq", "bisect", "copy",
                               "math", "random", "statistics", "itertools", "functools",
                               "operator", "io", "sys", "json")]
    + ["sys.setrecursionlimit(50000)", ""])


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class
    input: str  # stdin text; or, functional: one JSON value per line (the positional arguments)
    output: str  # expected stdout; or, functional: the JSON of the expected return value
    kwargs: str = ""  # functional only: a JSON object of keyword arguments (checker asserts)


@dataclass(frozen=True)
class CodeProblem:
    id: str
    mode: Literal["stdin", "functional", "checker"]  # checker: tests[0].input is check() source
    tests: tuple[TestCase, ...]
    func_name: str | None = None
    prelude: str = LCB_PRELUDE
    param_kinds: tuple[str, ...] = ()  # "plain" | "list_node" | "tree_node" per argument
    return_kind: str = "plain"
    tolerance: float = 0.0


@dataclass(frozen=True)
class CodeRunSettings:
    test_timeout_s: float = 6.0  # LiveCodeBench's per-test default
    problem_timeout_s: float = 120.0  # all tests of one program together ("fixed" budget)
    limits: Limits = field(default_factory=Limits)
    # "lcb": the whole program gets (test_timeout_s + 1) * tests + 5 seconds, as LiveCodeBench's
    # check_correctness joins its worker; "fixed": problem_timeout_s.
    time_budget: Literal["fixed", "lcb"] = "fixed"
    packages: tuple[str, ...] = ()  # extra importable packages (leetcode: sortedcontainers)

    def budget_s(self, n_tests: int) -> float:
        if self.time_budget == "lcb":
            return (self.test_timeout_s + 1) * n_tests + 5
        return self.problem_timeout_s


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    passed: int
    total: int
    time_s: float
    message: str = ""
    first_failure: dict[str, Any] | None = None

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "tests_passed": self.passed,
                               "tests_total": self.total, "time_s": round(self.time_s, 4)}
        if self.first_failure is not None:
            out["first_failure"] = self.first_failure
        return out


def _failure(index: int, test: TestCase, got: Any, error: str = "") -> dict[str, Any]:
    return {"test": index, "input": truncate(test.input), "expected": truncate(test.output),
            "got": truncate(got) if got is not None else None, "error": truncate(error, 500)}


def _status_outcome(status: str) -> Outcome:
    return status if status in OUTCOMES else "sandbox_error"  # type: ignore[return-value]


def _judge_stdio(sb: Sandbox, problem: CodeProblem, code: str, st: CodeRunSettings,
                 start: float) -> Judgement:
    total = len(problem.tests)
    budget = st.budget_s(total)
    for i, test in enumerate(problem.tests):
        left = budget - (time.monotonic() - start)
        if left <= 0:
            return Judgement("timeout", i, total, time.monotonic() - start,
                             "problem time budget spent", _failure(i, test, None, "timeout"))
        timeout = min(st.test_timeout_s, left)
        limits = Limits(**{**st.limits.__dict__, "cpu_s": timeout})
        reply = sb.run_stdio(code, test.input, timeout=timeout, limits=limits,
                             prelude=problem.prelude, packages=st.packages,
                             out_cap=max(MIN_OUT_CAP, 4 * len(test.output.encode())))
        status = reply.get("status", "sandbox_error")
        got = reply.get("stdout", "")
        if status == "ok":
            if stdio_equal(got, test.output, problem.tolerance):
                continue
            status = "wrong_answer"
        error = reply.get("detail") or reply.get("stderr", "")
        return Judgement(_status_outcome(status), i, total, time.monotonic() - start,
                         truncate(error, 500), _failure(i, test, got, error))
    return Judgement("passed", total, total, time.monotonic() - start)


Call = tuple[list[Any], dict[str, Any]]


def _parse_functional(test: TestCase) -> tuple[Call, Any]:
    """One JSON value per input line (positional), plus keyword arguments if any."""
    args = [json.loads(line) for line in test.input.split("\n")] if test.input.strip() else []
    kwargs = json.loads(test.kwargs) if test.kwargs else {}
    if not isinstance(kwargs, dict):
        raise ValueError("keyword arguments are not a JSON object")
    return (args, kwargs), json.loads(test.output)


def _judge_functional(sb: Sandbox, problem: CodeProblem, code: str, st: CodeRunSettings,
                      start: float) -> Judgement:
    total = len(problem.tests)
    try:
        parsed = [_parse_functional(t) for t in problem.tests]
    except ValueError as exc:
        return Judgement("bad_test", 0, total, 0.0, f"test data is not JSON: {exc}")
    if not problem.func_name:
        return Judgement("bad_test", 0, total, 0.0, "functional problem without func_name")
    cap = max(MIN_OUT_CAP, 4 * max((len(t.output) for t in problem.tests), default=0))
    budget = st.budget_s(total)
    limits = Limits(**{**st.limits.__dict__, "cpu_s": budget})
    reply = sb.call_start(code, problem.func_name, timeout=min(st.test_timeout_s, budget),
                          limits=limits, prelude=problem.prelude, out_cap=cap,
                          param_kinds=list(problem.param_kinds), return_kind=problem.return_kind,
                          packages=st.packages)
    if reply.get("status") != "ready":
        status = _status_outcome(reply.get("status", "sandbox_error"))
        return Judgement(status, 0, total, time.monotonic() - start, reply.get("error", ""),
                         {"test": None, "error": truncate(reply.get("error", ""), 500)})
    try:
        for i, (test, ((args, kwargs), expected)) in enumerate(zip(problem.tests, parsed)):
            left = budget - (time.monotonic() - start)
            if left <= 0:
                return Judgement("timeout", i, total, time.monotonic() - start,
                                 "problem time budget spent", _failure(i, test, None, "timeout"))
            reply = sb.call(args, kwargs=kwargs, timeout=min(st.test_timeout_s, left))
            status = reply.get("status", "sandbox_error")
            if status == "ok":
                if "unjsonable" not in reply and value_equal(reply.get("value"), expected,
                                                             problem.tolerance):
                    continue
                got = reply.get("unjsonable", reply.get("value"))
                return Judgement("wrong_answer", i, total, time.monotonic() - start, "",
                                 _failure(i, test, got))
            error = reply.get("error", "")
            return Judgement(_status_outcome(status), i, total, time.monotonic() - start,
                             truncate(error, 500), _failure(i, test, None, error))
        return Judgement("passed", total, total, time.monotonic() - start)
    finally:
        sb.call_end()


def checker_tests(source: str) -> tuple[TestCase, ...]:
    """`def check(candidate): assert candidate(<literals>) == <literal> ...` -> functional tests.

    Parsed, never run: the checker's asserts become (args, kwargs, expected) the host compares,
    so no success token or checker code shares the program's process. Anything else raises."""

    tree = ast.parse(source)
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"),
                 None)
    if check is None:
        raise ValueError("no check(candidate) function")
    tests = []
    for stmt in check.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring
        test = stmt.test if isinstance(stmt, ast.Assert) else None
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.ops[0], ast.Eq) and isinstance(test.left, ast.Call)
                and isinstance(test.left.func, ast.Name) and test.left.func.id == "candidate"):
            raise ValueError(f"line {stmt.lineno}: not `assert candidate(...) == literal`")
        call = test.left
        args = [literal(a) for a in call.args]
        kwargs = {kw.arg: literal(kw.value) for kw in call.keywords if kw.arg}
        tests.append(TestCase("\n".join(json.dumps(a) for a in args),
                              json.dumps(literal(test.comparators[0])),
                              json.dumps(kwargs) if kwargs else ""))
    if not tests:
        raise ValueError("check() asserts nothing")
    return tuple(tests)


def _judge_checker(sb: Sandbox, problem: CodeProblem, code: str, st: CodeRunSettings,
                   start: float) -> Judgement:
    """human-eval style `check(candidate)`, judged as the functional tests its asserts state."""
    try:
        tests = checker_tests(problem.tests[0].input)
    except (SyntaxError, ValueError) as exc:
        return Judgement("bad_test", 0, 1, 0.0, f"checker cannot be judged safely: {exc}")
    functional = CodeProblem(problem.id, "functional", tests, func_name=problem.func_name,
                             prelude=problem.prelude, param_kinds=problem.param_kinds,
                             return_kind=problem.return_kind, tolerance=problem.tolerance)
    return _judge_functional(sb, functional, code, st, start)


def judge(sb: Sandbox, problem: CodeProblem, code: str,
          settings: CodeRunSettings | None = None) -> Judgement:
    """Run `code` on every test of `problem` (in order, stopping at the first failure)."""
    st = settings or CodeRunSettings()
    run = {"stdin": _judge_stdio, "functional": _judge_functional,
           "checker": _judge_checker}[problem.mode]
    for attempt in range(2):
        start = time.monotonic()
        try:
            return run(sb, problem, code, st, start)
        except SandboxDied as exc:
            if attempt == 1:
                return Judgement("sandbox_error", 0, len(problem.tests),
                                 time.monotonic() - start, str(exc))
    raise AssertionError("unreachable")
