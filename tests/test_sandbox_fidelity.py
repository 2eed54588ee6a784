"""Issue 9, fidelity on honest programs: LiveCodeBench's time budget, integer-string limit and
compile flags; sortedcontainers only where LeetCode has it (the leetcode card)."""

from __future__ import annotations

import sys

import pytest
from test_sandbox_hostile import open_sandbox

from vt_eval.cards import get_card
from vt_eval.code.judge import CodeProblem, CodeRunSettings, TestCase, judge
from vt_eval.grading.code import settings_for
from vt_eval.sandbox import Sandbox

sb = pytest.fixture(scope="module", name="sb")(open_sandbox)


def test_lcb_budget_scales_with_the_number_of_tests() -> None:
    lcb = settings_for(get_card("livecodebench_v6"))
    assert lcb.time_budget == "lcb" and lcb.budget_s(70) == (6 + 1) * 70 + 5
    assert lcb.budget_s(70) > 70 * 1.8  # the 1.8 s/test solution fits
    leetcode = settings_for(get_card("leetcode_contests"))
    assert leetcode.time_budget == "fixed" and leetcode.budget_s(70) == 120.0


def test_slow_correct_solution_passes_under_the_lcb_budget(sb: Sandbox) -> None:
    """Scaled down: 8 tests of 0.3 s with a 0.5 s test timeout. A fixed 1.5 s budget times out
    partway (as 120 s did at test 65 of 70 at 1.8 s/test); LCB's scaled budget passes."""
    tests = tuple(TestCase(f"{i}\n", f"{2 * i}\n") for i in range(8))
    problem = CodeProblem("slow", "stdin", tests)
    code = "import time\ntime.sleep(0.3)\nprint(2 * int(input()))"
    fixed = CodeRunSettings(test_timeout_s=0.5, problem_timeout_s=1.5)
    result = judge(sb, problem, code, fixed)
    assert result.outcome == "timeout" and 0 < result.passed < 8
    lcb = CodeRunSettings(test_timeout_s=0.5, time_budget="lcb")
    assert judge(sb, problem, code, lcb).outcome == "passed"
    functional = CodeProblem("slowf", "functional",
                             tuple(TestCase(str(i), str(2 * i)) for i in range(8)), func_name="f")
    fcode = "import time\nclass Solution:\n  def f(self, x):\n    time.sleep(0.3)\n    return 2 * x"
    assert judge(sb, functional, fcode, fixed).outcome == "timeout"
    assert judge(sb, functional, fcode, lcb).outcome == "passed"


def test_big_integers_print_as_in_lcb(sb: Sandbox) -> None:
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # only to write the expected output here, on the host
    try:
        expected = str(2**20000) + "\n"
    finally:
        sys.set_int_max_str_digits(limit)
    problem = CodeProblem("big", "stdin", (TestCase("", expected),))
    assert judge(sb, problem, "print(2**20000)").outcome == "passed"
    functional = CodeProblem("bigf", "functional", (TestCase("3", "3"),), func_name="f")
    code = "class Solution:\n  def f(self, x):\n    return len(str(10**6000)) // 2000"
    assert judge(sb, functional, code).outcome == "passed"


def test_user_code_does_not_inherit_future_annotations(sb: Sandbox) -> None:
    """The server module has `from __future__ import annotations`; LCB's exec does not, so an
    annotation naming an undefined class fails when the function is defined, as in Python."""
    stdio = CodeProblem("ann", "stdin", (TestCase("", "1\n"),))
    code = "def f(x: Undefined) -> None:\n    pass\nprint(1)"
    assert judge(sb, stdio, code).outcome == "runtime_error"
    assert judge(sb, stdio, code.replace("Undefined", "int")).outcome == "passed"
    functional = CodeProblem("annf", "functional", (TestCase("1", "1"),), func_name="f")
    fcode = "class Solution:\n  def f(self, x: Missing) -> int:\n    return x"
    assert judge(sb, functional, fcode).outcome == "runtime_error"


def test_sortedcontainers_only_for_the_leetcode_card(sb: Sandbox) -> None:
    leetcode = settings_for(get_card("leetcode_contests"))
    lcb = settings_for(get_card("livecodebench_v6"))
    assert leetcode.packages == ("sortedcontainers",) and lcb.packages == ()
    problem = CodeProblem("sc", "stdin", (TestCase("", "[1, 2, 3]\n"),))
    code = "from sortedcontainers import SortedList\nprint(list(SortedList([3, 1, 2])))"
    assert judge(sb, problem, code, leetcode).outcome == "passed"
    assert judge(sb, problem, code, lcb).outcome == "runtime_error"  # ModuleNotFoundError


def test_a_dict_argument_stays_one_positional_argument(sb: Sandbox) -> None:
    problem = CodeProblem("d", "functional", (TestCase('{"args": [1], "kwargs": {}}', "2"),),
                          func_name="f")
    code = "class Solution:\n  def f(self, d):\n    return len(d)"
    assert judge(sb, problem, code).outcome == "passed"
