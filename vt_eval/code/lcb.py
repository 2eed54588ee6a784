"""LiveCodeBench (`livecodebench/code_generation_lite`) rows: decoding, prompt, date window.

A row (one JSON object per line in the release's test*.jsonl files) has: question_title,
question_content, platform (leetcode/atcoder/codeforces), question_id, contest_id, contest_date
(ISO, e.g. "2025-03-01T00:00:00"), starter_code, difficulty (easy/medium/hard), public_test_cases
(a JSON string: a list of {input, output, testtype: "stdin"|"functional"}), private_test_cases
(base64 of zlib of a pickle of such a JSON string) and metadata (a JSON string; functional problems
carry {"func_name": ...}).

The private tests are downloaded data, hence untrusted: the pickle is read by an unpickler that
resolves no globals at all (so no code can run) and admits only strings, lists and dicts, after a
bounded zlib decompression.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from vt_eval.code.judge import LCB_PRELUDE, CodeProblem, TestCase
from vt_eval.data import Item
from vt_eval.errors import DataError

MAX_DECOMPRESSED = 1 << 30  # a zlib bomb stops here

# lcb_runner/prompts/code_generation.py (PromptConstants + get_generic_question_template_answer)
SYSTEM_MESSAGE_GENERIC = (
    "You are an expert Python programmer. You will be given a question (problem specification) "
    "and will generate a correct Python program that matches the specification and passes all "
    "tests.")
FORMATTING_MESSAGE_WITH_STARTER_CODE = (
    "You will use the following starter code to write the solution to the problem and enclose "
    "your code within delimiters.")
FORMATTING_WITHOUT_STARTER_CODE = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
    "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when "
    "the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.")


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from test data")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing persistent ids in test data")


def _plain(value: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def restricted_unpickle(data: bytes) -> Any:
    """pickle.loads that admits only str/list/dict (no globals, so no code execution)."""
    value = _NoGlobalsUnpickler(io.BytesIO(data)).load()
    if not _plain(value):
        raise pickle.UnpicklingError(f"test data holds a {type(value).__name__}, "
                                     f"expected only strings, lists and dicts")
    return value


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_DECOMPRESSED)
    if d.unconsumed_tail:
        raise DataError(f"private tests inflate beyond {MAX_DECOMPRESSED} bytes")
    return out


def decode_private_tests(blob: str) -> list[dict[str, Any]]:
    """LCB's `json.loads(pickle.loads(zlib.decompress(base64.b64decode(s))))`, made safe."""
    if not blob:
        return []
    try:
        value = restricted_unpickle(_inflate(base64.b64decode(blob.encode("ascii"), validate=False)))
    except (pickle.UnpicklingError, zlib.error, ValueError, EOFError) as exc:
        raise DataError(f"private tests cannot be decoded: {exc}") from exc
    tests = json.loads(value) if isinstance(value, str) else value
    if not isinstance(tests, list):
        raise DataError("private tests are not a list")
    return tests


def encode_private_tests(tests: Sequence[dict[str, Any]]) -> str:
    """The inverse, as LCB stores them (a pickled JSON string), for building fixtures."""
    payload = pickle.dumps(json.dumps(list(tests)))
    return base64.b64encode(zlib.compress(payload)).decode("ascii")


def _tests(value: Any) -> list[dict[str, Any]]:
    tests = json.loads(value) if isinstance(value, str) else value
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise DataError("public_test_cases is not a list of objects")
    return tests


def problem_from_row(row: dict[str, Any], tolerance: float = 0.0) -> CodeProblem:
    """All tests (public first, then private) of one LCB row, ready to judge."""
    tests = _tests(row.get("public_test_cases") or "[]") + decode_private_tests(
        row.get("private_test_cases") or "")
    if not tests:
        raise DataError(f"{row.get('question_id')}: no tests")
    kinds = {t.get("testtype", "stdin") for t in tests}
    if len(kinds) != 1:
        raise DataError(f"{row.get('question_id')}: mixed test types {sorted(kinds)}")
    metadata = row.get("metadata") or "{}"
    meta = json.loads(metadata) if isinstance(metadata, str) else metadata
    mode = "functional" if kinds == {"functional"} else "stdin"
    return CodeProblem(
        id=str(row.get("question_id")), mode=mode,
        tests=tuple(TestCase(str(t["input"]), str(t["output"])) for t in tests),
        func_name=meta.get("func_name") if mode == "functional" else None,
        prelude=LCB_PRELUDE, tolerance=tolerance)


def lcb_user_prompt(question: str, starter_code: str) -> str:
    """LCB's generic question template (the part after the system message)."""
    prompt = f"### Question:\n{question}\n\n"
    if starter_code:
        prompt += f"### Format: {FORMATTING_MESSAGE_WITH_STARTER_CODE}\n"
        prompt += f"```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {FORMATTING_WITHOUT_STARTER_CODE}\n"
        prompt += "```python\n# YOUR CODE HERE\n```\n\n"
    prompt += "### Answer: (use the provided format with backticks)\n\n"
    return prompt


def lcb_messages(question: str, starter_code: str, style: str = "single_turn"
                 ) -> list[dict[str, str]]:
    """VibeThinker's protocol (`single_turn`): system message + template as one user turn.
    `system` keeps LCB's own split into a system and a user message."""
    user = lcb_user_prompt(question, starter_code)
    if style == "system":
        return [{"role": "system", "content": SYSTEM_MESSAGE_GENERIC},
                {"role": "user", "content": user}]
    return [{"role": "user", "content": f"{SYSTEM_MESSAGE_GENERIC}\n\n{user}"}]


def as_date(value: str | date | datetime | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise DataError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc


def item_date(item: Item, column: str = "contest_date") -> date | None:
    value = item.row.get(column)
    return as_date(value) if value else None


def filter_by_date(items: Iterable[Item], since: str | date | None = None,
                   until: str | date | None = None, column: str = "contest_date") -> list[Item]:
    """Items whose contest date lies in [since, until] (both inclusive, day granularity, like
    LCB's --start_date/--end_date). Items without a date are dropped when a bound is given."""
    lo, hi = as_date(since), as_date(until)
    out = []
    for item in items:
        day = item_date(item, column)
        if lo is None and hi is None:
            out.append(item)
        elif day is not None and (lo is None or day >= lo) and (hi is None or day <= hi):
            out.append(item)
    return out


RELEASE_FILES = {"release_v6": ["test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl",
                                "test5.jsonl", "test6.jsonl"]}


def fetch_release(dest: str, release: str = "release_v6", revision: str = "main") -> str:
    """Download a release's JSONL files from the Hugging Face Hub and concatenate them into
    DEST/<release>.jsonl (the file the card's --data-dir lookup expects). Needs network."""
    from pathlib import Path

    from huggingface_hub import hf_hub_download

    out = Path(dest) / f"{release}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as sink:
        for name in RELEASE_FILES[release]:
            path = hf_hub_download("livecodebench/code_generation_lite", name,
                                   repo_type="dataset", revision=revision)
            with open(path, "rb") as source:
                for line in source:
                    sink.write(line if line.endswith(b"\n") else line + b"\n")
    return str(out)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "fetch":
        sys.exit("usage: python -m vt_eval.code.lcb fetch DIR")
    print(fetch_release(sys.argv[2]))
