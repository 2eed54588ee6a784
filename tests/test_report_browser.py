"""The scorecard in a real browser: Debian's chromium (headless) renders the page, the test reads
the DOM it built (tables and numbers equal results.json, model text escaped, no script element)
and takes a screenshot. Never skipped in CI: the README's install block installs chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_rundir import SCRIPT, copy_run

from vt_eval.fmt import ci, pct
from vt_eval.report.scorecard import write_scorecard

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it (README install block)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return binary


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args,
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120)


class SummaryCells(HTMLParser):
    """Text of each `data-metric` cell of table#summary by benchmark, plus every element's tag."""

    def __init__(self) -> None:
        super().__init__()
        self.in_summary, self.row, self.metric = False, "", ""
        self.cells: dict[str, dict[str, str]] = {}
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.add(tag)
        if tag == "table" and found.get("id") == "summary":
            self.in_summary = True
        if self.in_summary and tag == "tr" and found.get("data-benchmark"):
            self.row = found["data-benchmark"] or ""
            self.cells[self.row] = {}
        if self.in_summary and tag == "td" and found.get("data-metric"):
            self.metric = found["data-metric"] or ""
            self.cells[self.row][self.metric] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_summary = False
        if tag == "td":
            self.metric = ""

    def handle_data(self, data: str) -> None:
        if self.in_summary and self.metric:
            self.cells[self.row][self.metric] += data


def test_chromium_renders_the_scorecard(tmp_path: Path) -> None:
    run = copy_run("base", tmp_path / "run")
    page = write_scorecard(run).html
    dumped = browse(page, tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    parser = SummaryCells()
    parser.feed(dom)
    results = json.loads((run / "results.json").read_text())
    assert set(parser.cells) == {b["benchmark"] for b in results["benchmarks"]}
    for bench in results["benchmarks"]:
        cells = parser.cells[bench["benchmark"]]
        assert cells["avg_at_k"].strip() == pct(bench["avg_at_k"])
        assert cells["ci95"].strip() == ci(bench["ci95"])
        assert cells["maj_at_k"].strip() == pct(bench["maj_at_k"])
        assert cells["truncation_rate"].strip() == pct(bench["truncation_rate"])
        assert cells["no_answer_rate"].strip() == pct(bench["no_answer_rate"])
        assert cells["reference"].strip() == pct(bench["reference"]["VibeThinker-3B"] / 100)
    assert "script" not in parser.tags  # the response's <script> never became an element
    assert "&lt;script&gt;alert(\"pwned\")&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in dom
    assert dom.count("<details") >= 4 and "<details open" not in dom  # drill-down collapsed
    shot = tmp_path / "scorecard.png"
    taken = browse(page, tmp_path / "profile", "--window-size=1280,2000", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    keep = os.environ.get("VT_EVAL_SCREENSHOT")  # to look at it: VT_EVAL_SCREENSHOT=/tmp/x.png
    if keep:
        shutil.copy(shot, keep)
    assert SCRIPT  # the marker the run's responses carry
