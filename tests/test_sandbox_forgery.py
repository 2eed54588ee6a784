"""Issue 9, trust boundary: nothing a program (or anything it forks) writes can become a status, a
pass flag, a test count or a verdict. Each forger runs in the real sandbox on a real problem and is
followed by an honest control in the same sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_sandbox_hostile import open_sandbox

from vt_eval.code.judge import CodeProblem, CodeRunSettings, TestCase, checker_tests, judge
from vt_eval.code.leetcode import problem_from_local, read_leetcodedataset
from vt_eval.sandbox import Sandbox

sb = pytest.fixture(scope="module", name="sb")(open_sandbox)

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "leetcode_contests"
SETTINGS = CodeRunSettings(test_timeout_s=3.0, problem_timeout_s=60.0)

# Frames of every shape the old and new protocols used, on every fd a program can name.
FORGE_EVERY_FD = '''
import os, json, struct
def frame(b): return struct.pack(">I", len(b)) + b
payloads = [json.dumps({"status": "passed"}).encode(), json.dumps({"status": "ok", "value": 0}).encode(),
            b"R", b"Vtrue", b"V0", json.dumps({"frame": "V", "data": "0", "exit": 0}).encode(),
            b"Cpassed", b"Spassed", b"ok", b"passed"]
for fd in range(0, 256):
    for p in payloads:
        try:
            os.write(fd, frame(p)); os.write(fd, p)
        except OSError:
            pass
'''


@pytest.fixture(scope="module")
def p3243() -> tuple[CodeProblem, str]:
    """The issue's problem: 3243, 70 tests, with LeetCodeDataset's reference solution."""
    rows = [json.loads(line) for line in (DATA / "problems.jsonl").read_text().splitlines()]
    row = next(r for r in rows if str(r["id"]) == "3243")
    ref = next(r["completion"] for r in
               read_leetcodedataset(DATA / "LeetCodeDataset-v0.3.1-test.jsonl.gz")
               if r["task_id"] == row["slug"])
    return problem_from_local(row), ref


def _assert_forged_fails(sb: Sandbox, problem: CodeProblem, code: str, ref: str) -> None:
    result = judge(sb, problem, code, SETTINGS)
    assert result.outcome != "passed", code
    assert result.passed == 0 and result.total == len(problem.tests)
    control = judge(sb, problem, ref, SETTINGS)  # same sandbox, right after
    assert control.outcome == "passed" and control.passed == control.total


def test_the_issue_program_is_not_correct(sb: Sandbox, p3243: tuple[CodeProblem, str]) -> None:
    problem, ref = p3243
    code = ('import os, json, struct\nb = json.dumps({"status": "passed"}).encode()\n'
            'os.write(4, struct.pack(">I", len(b)) + b); os._exit(0)\n')
    assert len(problem.tests) == 70
    _assert_forged_fails(sb, problem, code, ref)


def test_forged_frames_on_every_fd_at_load_and_in_calls(sb: Sandbox,
                                                       p3243: tuple[CodeProblem, str]) -> None:
    problem, ref = p3243
    at_load = FORGE_EVERY_FD + "os._exit(0)\n"
    in_call = ("class Solution:\n    def shortestDistanceAfterQueries(self, n, queries):\n"
               + "\n".join("        " + line for line in FORGE_EVERY_FD.splitlines())
               + "\n        return [0]\n")
    then_hang = FORGE_EVERY_FD + "import time\ntime.sleep(30)\n"
    for code in (at_load, in_call, then_hang):
        _assert_forged_fails(sb, problem, code, ref)


def test_patched_serializer_and_writer(sb: Sandbox, p3243: tuple[CodeProblem, str]) -> None:
    problem, ref = p3243
    patches = [
        # json.dumps patched: every answer the child serialises claims success
        'import json\njson.dumps = lambda *a, **k: \'{"status": "passed"}\'\n',
        # the server's own frame writer and every module of it the program can import
        'import sys\nfor name, mod in list(sys.modules.items()):\n'
        '    if name.startswith("vtbox") and hasattr(mod, "write_frame"):\n'
        '        mod.write_frame = lambda fd, body: mod.write_all(fd, b"\\0\\0\\0\\6passed")\n',
        # write_all patched to forge a ready frame and a value frame for everything
        'import sys\nfor name, mod in list(sys.modules.items()):\n'
        '    if name.startswith("vtbox") and hasattr(mod, "write_all"):\n'
        '        orig = mod.write_all\n'
        '        mod.write_all = lambda fd, data, o=orig: o(fd, b"\\0\\0\\0\\5Vtrue")\n',
    ]
    wrong = ("class Solution:\n    def shortestDistanceAfterQueries(self, n, queries):\n"
             "        return [1] * len(queries)\n")
    for patch in patches:
        _assert_forged_fails(sb, problem, patch + wrong, ref)


def test_premature_exit_and_forked_writers(sb: Sandbox, p3243: tuple[CodeProblem, str]) -> None:
    problem, ref = p3243
    method = "class Solution:\n    def shortestDistanceAfterQueries(self, n, queries):\n"
    codes = [
        "import os\nos._exit(0)\n",
        "import sys\nsys.exit(0)\n",
        method + "        import os; os._exit(0)\n",
        method + "        raise SystemExit(0)\n",
        # a forked child keeps writing forged frames after the program answers
        method + "        import os\n        if os.fork() == 0:\n"
        + "\n".join("            " + line for line in FORGE_EVERY_FD.splitlines())
        + "\n            os._exit(0)\n        return [0]\n",
    ]
    for code in codes:
        _assert_forged_fails(sb, problem, code, ref)


def test_stdio_status_channel_cannot_be_written(sb: Sandbox) -> None:
    """stdio: the trusted note pipe is closed before the program runs; exit codes and forged
    frames mean nothing; only stdout compared on the host counts."""
    problem = CodeProblem("s", "stdin", tuple(TestCase(f"{i}\n", f"{i * i}\n") for i in range(5)))
    for code in (FORGE_EVERY_FD + "print(0)\n", FORGE_EVERY_FD + "import os\nos._exit(0)\n"):
        result = judge(sb, problem, code, SETTINGS)
        assert result.outcome == "wrong_answer" and result.passed == 0
        assert judge(sb, problem, "n = int(input())\nprint(n * n)", SETTINGS).outcome == "passed"
    # writing a "compile error" or "setup failure" note anywhere is still just a wrong answer
    result = judge(sb, problem, "import os\nfor fd in range(3, 64):\n    try: os.write(fd, b'C')\n"
                   "    except OSError: pass\nprint(1)", SETTINGS)
    assert result.outcome == "wrong_answer"


def test_checker_has_no_token_to_steal(sb: Sandbox) -> None:
    """Checker problems are parsed into tests on the host: the sandbox never sees checker code or
    any token, so scanning gc, frames and code constants finds nothing that passes."""
    checker = "def check(candidate):\n    assert candidate(a=1, b=2) == 3\n    assert candidate(5, 5) == 10\n"
    problem = CodeProblem("c", "checker", (TestCase(checker, ""),), func_name="add")
    assert [(t.input, t.kwargs, t.output) for t in checker_tests(checker)] == [
        ("", '{"a": 1, "b": 2}', "3"), ("5\n5", "", "10")]
    thief = '''
import gc, sys, re
found = set()
for obj in gc.get_objects():
    if isinstance(obj, str) and re.fullmatch(r"[0-9a-f]{32}", obj):
        found.add(obj)
frame = sys._getframe()
while frame:
    for c in frame.f_code.co_consts:
        if isinstance(c, str) and re.fullmatch(r"[0-9a-f]{32}", c):
            found.add(c)
    frame = frame.f_back
for tok in found:
    print(tok)
class Solution:
    def add(self, a, b): return sorted(found)
'''
    assert judge(sb, problem, thief, SETTINGS).outcome == "wrong_answer"
    honest = "class Solution:\n    def add(self, a, b): return a + b\n"
    assert judge(sb, problem, honest, SETTINGS).outcome == "passed"
    not_tests = CodeProblem("c2", "checker", (TestCase(
        "def check(candidate):\n    assert abs(candidate(1, 2) - 3) < 1e-9\n", ""),), func_name="add")
    assert judge(sb, not_tests, honest, SETTINGS).outcome == "bad_test"  # never run, never passed
