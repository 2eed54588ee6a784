"""Fresh LeetCode contests: vt-eval's local problem format, its loader, filters and a converter.

Local format: JSONL, one problem per line (docs/code-suite.md has the full description):
  id            str   unique (LeetCode question id, e.g. "3487")
  slug, title   str
  contest       str   e.g. "Weekly Contest 440"; contest_slug e.g. "weekly-contest-440"
  date          str   contest date, YYYY-MM-DD (what --contest-after compares)
  difficulty    str   Easy / Medium / Hard
  statement     str   the problem text shown to the model
  starter_code  str   the `class Solution:` stub
  entry_point   str   the method name
  tests         list  [{"args": [positional JSON values], "output": JSON value}, ...]
  checker       str   optional, instead of tests: Python source defining `check(candidate)`
                      as `assert candidate(...) == literal` lines (parsed into tests, never run)
  param_kinds / return_kind  optional; derived from the starter code's annotations
                      (Optional[ListNode] -> "list_node", Optional[TreeNode] -> "tree_node")
  tolerance     float optional; default 1e-5 for float results (LeetCode's rule)

`convert_leetcodedataset` builds this format from LeetCodeDataset rows (newfacade/LeetCodeDataset,
keyword-argument test strings parsed with `ast`, never evaluated).
"""

from __future__ import annotations

import ast
import gzip
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from vt_eval.code.judge import LCB_PRELUDE, CodeProblem, TestCase
from vt_eval.code.lcb import as_date
from vt_eval.code.literals import literal
from vt_eval.data import Item
from vt_eval.errors import DataError

DEFAULT_TOLERANCE = 1e-5
# LeetCode's node classes (the stubs show them commented out; LeetCode defines them).
NODE_CLASSES = '''
class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next

class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right
'''
# LeetCode's Python judge also preloads sortedcontainers.
LEETCODE_PRELUDE = (LCB_PRELUDE + "inf = float('inf')\n"
                    + "try:\n    from sortedcontainers import SortedList, SortedDict, SortedSet\n"
                    + "except ImportError:\n    pass\n" + NODE_CLASSES)
# LeetCodeDataset's outputs for pairs whose reference run failed: not tests.
BROKEN_OUTPUTS = ("Error:", "Execution timed out")




def parse_kwargs(text: str) -> dict[str, Any]:
    """'n = 7, queries = [[0,5]]' -> {'n': 7, 'queries': [[0, 5]]}."""
    call = ast.parse(f"f({text})", mode="eval").body
    if not isinstance(call, ast.Call) or call.args:
        raise ValueError("expected keyword arguments only")
    return {kw.arg: literal(kw.value) for kw in call.keywords if kw.arg}


def signature(starter_code: str, method: str) -> tuple[list[str], list[str], str]:
    """Parameter names, their kinds and the return kind of `method` in the starter code."""
    names, kinds, ret, _ = _signature(starter_code, method)
    return names, kinds, ret


def _signature(starter_code: str, method: str) -> tuple[list[str], list[str], str, str]:
    match = re.search(rf"def\s+{re.escape(method)}\s*\((.*?)\)\s*(->\s*(.*?))?:\s*$",
                      starter_code, re.S | re.M)
    if not match:
        raise ValueError(f"method {method!r} not found in the starter code")
    fn = ast.parse(f"def f({match.group(1)}): pass").body[0]
    assert isinstance(fn, ast.FunctionDef)
    params = [a for a in fn.args.args if a.arg != "self"]

    def kind(annotation: str) -> str:
        return "tree_node" if "TreeNode" in annotation else \
            "list_node" if "ListNode" in annotation else "plain"

    names = [a.arg for a in params]
    kinds = [kind(ast.unparse(a.annotation)) if a.annotation else "plain" for a in params]
    annotation = (match.group(3) or "").strip()
    return names, kinds, kind(annotation), annotation


def problem_from_local(row: dict[str, Any]) -> CodeProblem:
    """A local-format row -> CodeProblem (functional, or checker mode)."""
    method = str(row["entry_point"]).split(".")[-1]
    kinds, ret = row.get("param_kinds"), row.get("return_kind")
    if kinds is None or ret is None:
        _, kinds, ret = signature(str(row["starter_code"]), method)
    tolerance = float(row.get("tolerance", DEFAULT_TOLERANCE))
    if row.get("checker") and not row.get("tests"):
        return CodeProblem(id=str(row["id"]), mode="checker",  # type: ignore[arg-type]
                           tests=(TestCase(str(row["checker"]), ""),), func_name=method,
                           prelude=LEETCODE_PRELUDE, tolerance=tolerance)
    tests = tuple(TestCase("\n".join(json.dumps(a) for a in t["args"]), json.dumps(t["output"]))
                  for t in row["tests"])
    if not tests:
        raise DataError(f"{row['id']}: no tests")
    return CodeProblem(id=str(row["id"]), mode="functional", tests=tests, func_name=method,
                       prelude=LEETCODE_PRELUDE, param_kinds=tuple(kinds), return_kind=ret,
                       tolerance=tolerance)


def contest_index(contests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """doocs contest.json -> {problem slug: contest}."""
    out: dict[str, dict[str, Any]] = {}
    for contest in contests:
        for slug in contest.get("question_slugs", []):
            out.setdefault(slug, contest)
    return out


def convert_row(row: dict[str, Any], contests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One LeetCodeDataset row -> one local-format row (with the reference solution kept apart
    in `reference`, used only by tests)."""
    method = row["entry_point"].split(".")[-1]
    names, kinds, ret, annotation = _signature(row["starter_code"], method)
    tests, dropped = [], []
    for number, pair in enumerate(row["input_output"]):
        # Upstream holds broken pairs: outputs "Execution timed out" / "Error: ...", inputs that
        # are list comprehensions or bare names. They are dropped one by one, and counted.
        try:
            kwargs = parse_kwargs(pair["input"])
            if set(kwargs) != set(names):
                raise ValueError(f"arguments {sorted(kwargs)} != parameters {names}")
            text = pair["output"]
            if text.startswith(BROKEN_OUTPUTS):
                raise ValueError(f"upstream output is an error: {text[:40]}")
            # A str result is stored raw (unquoted); everything else as a Python literal.
            output = text if annotation == "str" else literal(ast.parse(text.strip(), mode="eval").body)
        except (ValueError, SyntaxError) as exc:
            dropped.append(f"test {number}: {str(exc)[:80]}")
            continue
        tests.append({"args": [kwargs[n] for n in names], "output": output})
    if not tests:
        raise ValueError(f"no usable test ({len(dropped)} dropped)")
    contest = contests.get(row["task_id"])
    day = row["estimated_date"]
    if contest:
        day = datetime.fromtimestamp(contest["contest_start_time"], timezone.utc).date().isoformat()
    return {"id": str(row["question_id"]), "slug": row["task_id"],
            "title": row["task_id"].replace("-", " ").title(),
            "contest": contest["contest_title_en"] if contest else None,
            "contest_slug": contest["contest_title_slug"] if contest else None,
            "date": day, "difficulty": row["difficulty"], "statement": row["problem_description"],
            "starter_code": row["starter_code"], "entry_point": method, "param_kinds": kinds,
            "return_kind": ret, "tests": tests, "dropped_tests": dropped,
            "reference": row["completion"]}


def read_leetcodedataset(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def convert_leetcodedataset(rows: Iterable[dict[str, Any]], contests: list[dict[str, Any]]
                            ) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """(local row, None) per convertible row; (None, reason) for the others."""
    index = contest_index(contests)
    for row in rows:
        try:
            yield convert_row(row, index), None
        except (ValueError, SyntaxError, KeyError) as exc:
            yield None, f"{row.get('task_id')}: {exc}"


def filter_contest_after(items: Iterable[Item], after: str | date | None) -> list[Item]:
    """Problems whose contest date is strictly after `after` (e.g. a model's training cutoff)."""
    cutoff = as_date(after)
    if cutoff is None:
        return list(items)
    out = []
    for item in items:
        day = as_date(item.row.get("date"))
        if day is not None and day > cutoff:
            out.append(item)
    return out


def select_contests(items: Iterable[Item], contests: Iterable[str]) -> list[Item]:
    """Problems of the named contests (slug or title, case-insensitive)."""
    wanted = {c.strip().lower() for c in contests}
    return [i for i in items if str(i.row.get("contest_slug") or "").lower() in wanted
            or str(i.row.get("contest") or "").lower() in wanted]


def write_snapshot(source: Path, contests_json: Path, out: Path) -> tuple[int, int]:
    """Convert LeetCodeDataset (gz JSONL) into the local format; references are left out."""
    contests = json.loads(contests_json.read_text(encoding="utf-8"))
    written = dropped = 0
    with open(out, "w", encoding="utf-8") as fh:
        for row, error in convert_leetcodedataset(read_leetcodedataset(source), contests):
            if row is None:
                dropped += 1
                print(f"skipped {error}")
                continue
            row = {k: v for k, v in row.items() if k != "reference"}
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=True) + "\n")
            written += 1
    return written, dropped


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4:
        sys.exit("usage: python -m vt_eval.code.leetcode LeetCodeDataset.jsonl.gz contest.json OUT.jsonl")
    print("written %d, skipped %d" % write_snapshot(Path(sys.argv[1]), Path(sys.argv[2]),
                                                     Path(sys.argv[3])))
