"""Correctness of the code suite: comparisons, LCB row decoding, reference solutions, mutations."""

from __future__ import annotations

import base64
import json
import os
import pickle
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vt_eval.code.compare import stdio_equal, value_equal
from vt_eval.code.fixtures import lcb_row_from_local
from vt_eval.code.judge import CodeProblem, CodeRunSettings, TestCase, judge
from vt_eval.code.lcb import decode_private_tests, encode_private_tests, problem_from_row
from vt_eval.code.leetcode import (convert_leetcodedataset, parse_kwargs, problem_from_local,
                                   read_leetcodedataset)
from vt_eval.errors import DataError
from vt_eval.sandbox import Sandbox

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "leetcode_contests"
CONTESTS = [{"contest_title_en": "Weekly Contest 440", "contest_title_slug": "weekly-contest-440",
             "contest_start_time": 1741487400, "question_slugs": []}]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    box = Sandbox()
    yield box
    box.close()


@pytest.fixture(scope="module")
def local_rows() -> list[dict]:
    rows = read_leetcodedataset(DATA / "LeetCodeDataset-v0.3.1-test.jsonl.gz")
    converted = [r for r, _ in convert_leetcodedataset(rows, CONTESTS)]
    assert len(converted) == 228 and all(converted)
    return converted  # type: ignore[return-value]


@pytest.mark.parametrize("got,expected,ok", [
    ("3\n", "3", True), ("3   \n\n\n", "3\n", True), ("1 2 \n3\t\n", "1 2\n3", True),
    ("1.0\n", "1", True), ("0.30000000000000004", "0.3", False), ("", "", True),
    ("\n", "", True), ("", "0", False), ("1 2", "1  2", True), ("1\n2", "1 2", False),
    ("abc", "ABC", False), ("nan", "nan", True), ("1e3", "1000", True),
])
def test_stdio_comparison_like_lcb(got: str, expected: str, ok: bool) -> None:
    assert stdio_equal(got, expected) is ok


def test_stdio_float_tolerance_option() -> None:
    assert not stdio_equal("0.333333", "0.3333333333")
    assert stdio_equal("0.333333", "0.3333333333", tolerance=1e-5)
    assert not stdio_equal("0.34", "0.3333333333", tolerance=1e-5)


def test_value_comparison() -> None:
    assert value_equal([[1, 2], [3]], [[1, 2], [3]])
    assert not value_equal([[1, 2], [3]], [[1, 2], [3, 4]])
    assert value_equal((1, 2), [1, 2]) and value_equal(2.0, 2)
    assert not value_equal(2.00001, 2.0) and value_equal(2.000001, 2.0, tolerance=1e-5)
    assert value_equal([1.0, [2.0000001]], [1, [2]], tolerance=1e-5)
    assert not value_equal("1", 1) and not value_equal([1], [1, 1], tolerance=1e-5)


def test_private_tests_roundtrip_and_restricted_unpickler() -> None:
    tests = [{"input": "1\n2", "output": "3", "testtype": "functional"}]
    assert decode_private_tests(encode_private_tests(tests)) == tests

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, ("touch /tmp/vt_eval_pwned",))

    blob = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(DataError, match="refusing to load global"):
        decode_private_tests(blob)
    assert not os.path.exists("/tmp/vt_eval_pwned")
    not_plain = base64.b64encode(zlib.compress(pickle.dumps({"a": 1.5}))).decode()
    with pytest.raises(DataError, match="only strings"):
        decode_private_tests(not_plain)


def test_keyword_tests_are_parsed_not_evaluated() -> None:
    assert parse_kwargs('s = "a,b", k = -3, g = [[1,null],[true]]') == \
        {"s": "a,b", "k": -3, "g": [[1, None], [True]]}
    with pytest.raises(ValueError):
        parse_kwargs("n = __import__('os').system('true')")


def test_lcb_fixture_rows_judge_stdio_and_functional(sb: Sandbox, local_rows: list[dict]) -> None:
    row = next(r for r in local_rows if r["date"] >= "2025-02-01")
    lcb = lcb_row_from_local(row)
    assert set(lcb) == {"question_title", "question_content", "platform", "question_id",
                        "contest_id", "contest_date", "starter_code", "difficulty",
                        "public_test_cases", "private_test_cases", "metadata"}
    problem = problem_from_row(json.loads(json.dumps(lcb)))
    assert problem.mode == "functional" and len(problem.tests) == len(row["tests"])
    ref = read_reference(row["slug"])
    assert judge(sb, problem, ref).outcome == "passed"
    stdio = {"public_test_cases": json.dumps([{"input": "3 4\n", "output": "7\n",
                                               "testtype": "stdin"}]),
             "private_test_cases": encode_private_tests(
                 [{"input": "1.5 1\n", "output": "2.5", "testtype": "stdin"}]),
             "metadata": "{}", "question_id": "abc000_a"}
    p = problem_from_row(stdio)
    assert p.mode == "stdin"
    good = "a, b = map(float, input().split())\ns = a + b\nprint(int(s) if s == int(s) else s)"
    assert judge(sb, p, good).outcome == "passed"
    assert judge(sb, p, "print(7)").outcome == "wrong_answer"
    assert judge(sb, p, "import sys\nprint(sum(map(float, sys.stdin.read().split())))  \n"
                 ).outcome == "passed"  # 7.0 == 7 as Decimals


def read_reference(slug: str) -> str:
    rows = read_leetcodedataset(DATA / "LeetCodeDataset-v0.3.1-test.jsonl.gz")
    return next(r["completion"] for r in rows if r["task_id"] == slug)


MUTATION = """

_vt_original = Solution.{m}
def _vt_mutated(self, *args, **kwargs):
    value = _vt_original(self, *args, **kwargs)
    if isinstance(value, bool): return not value
    if isinstance(value, (int, float)): return value + 1
    if isinstance(value, str): return value + "x"
    if isinstance(value, list): return value[:-1] if value else [0]
    return 0
Solution.{m} = _vt_mutated
"""


def test_every_reference_solution_passes_and_mutations_fail(local_rows: list[dict]) -> None:
    """All 228 LeetCodeDataset test-split reference solutions pass their own (~23k) tests in the
    sandbox; a known-wrong mutation of each fails."""
    by_slug = {r["task_id"]: r["completion"] for r in
               read_leetcodedataset(DATA / "LeetCodeDataset-v0.3.1-test.jsonl.gz")}
    local = threading.local()
    boxes: list[Sandbox] = []
    settings = CodeRunSettings(test_timeout_s=30.0, problem_timeout_s=600.0,
                             packages=("sortedcontainers",))  # the leetcode card's

    def check(row: dict) -> tuple[str, str, str]:
        if not hasattr(local, "sb"):
            local.sb = Sandbox()
            boxes.append(local.sb)
        problem = problem_from_local(row)
        good = judge(local.sb, problem, by_slug[row["slug"]], settings).outcome
        bad_code = by_slug[row["slug"]] + MUTATION.format(m=row["entry_point"])
        bad = judge(local.sb, problem, bad_code, settings).outcome
        return row["slug"], good, bad

    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(check, local_rows))
    finally:
        for box in boxes:
            box.close()
    failed = [(s, g) for s, g, _ in results if g != "passed"]
    survived = [s for s, _, b in results if b == "passed"]
    assert failed == [] and len(results) == 228
    assert survived == []


def test_tree_problem_and_checker_mode(sb: Sandbox, local_rows: list[dict]) -> None:
    row = next(r for r in local_rows if "tree_node" in r["param_kinds"])
    assert judge(sb, problem_from_local(row), read_reference(row["slug"])).outcome == "passed"
    checker = {"id": "x", "entry_point": "add", "starter_code": "class Solution:\n"
               "    def add(self, a: int, b: int) -> int:\n", "tests": [],
               "checker": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}
    problem = problem_from_local(checker)
    ok = "class Solution:\n    def add(self, a, b): return a + b"
    assert judge(sb, problem, ok).outcome == "passed"
    assert judge(sb, problem, ok.replace("a + b", "a - b")).outcome == "wrong_answer"
    # the checker's asserts are tests the host compares: exiting early is a failure
    assert judge(sb, problem, "import sys\nsys.exit(0)").outcome == "runtime_error"


def test_problem_time_budget(sb: Sandbox) -> None:
    tests = tuple(TestCase(f"{i}\n", f"{i}\n") for i in range(20))
    problem = CodeProblem("slow", "stdin", tests)
    code = "import time\ntime.sleep(0.2)\nprint(input())"
    result = judge(sb, problem, code, CodeRunSettings(test_timeout_s=1.0, problem_timeout_s=1.0))
    assert result.outcome == "timeout" and 2 <= result.passed < 20
