"""The scorecard's verdict panel in a real browser (Debian's chromium, headless): the page opens
with it, each benchmark shows the five questions in the states `vt-eval verdict` prints, every
line links to an evidence section that exists on the page, and with nothing given every line
says not checked."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_browser import browse
from test_verdict import CUTOFF, make_run, shared, verdict, vt_eval

from vt_eval.fmt import ci, pct, pp, pp_ci
from vt_eval.report.scorecard import write_scorecard


class Panel(HTMLParser):
    """Rows of every table.verdict (benchmark -> [(question, state, href)]), closing lines, every
    id in the document, and the order in which the sections open."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[tuple[str, str, str]]] = {}
        self.closing: dict[str, str] = {}
        self.ids: set[str] = set()
        self.sections: list[str] = []
        self.table, self.row, self.in_closing = "", None, ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if "id" in found:
            self.ids.add(found["id"])
        if tag == "section":
            self.sections.append(found.get("id", ""))
        if tag == "table" and "verdict" in found.get("class", "").split():
            self.table = found["data-benchmark"]
            self.rows[self.table] = []
        if self.table and tag == "tr" and "data-question" in found:
            self.row = [found["data-question"], found["data-state"], ""]
        if self.row is not None and tag == "a" and not self.row[2]:
            self.row[2] = found.get("href", "")
        if self.table and tag == "td" and "data-closing" in found:
            self.in_closing = found["data-closing"]
            self.closing[self.in_closing] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.row is not None:
            self.rows[self.table].append(tuple(self.row))  # type: ignore[arg-type]
            self.row = None
        if tag == "td":
            self.in_closing = ""
        if tag == "table":
            self.table = ""

    def handle_data(self, data: str) -> None:
        if self.in_closing:
            self.closing[self.in_closing] += data


def rendered(page: Path, profile: Path) -> tuple[Panel, str]:
    dumped = browse(page, profile, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    panel = Panel()
    panel.feed(dumped.stdout)
    return panel, dumped.stdout


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verdict-browser")


def test_panel_with_audit_freshness_and_claims(root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(shared("run", root), run)
    assert vt_eval("freshness", str(run), "--cutoff", CUTOFF).returncode == 0
    audit = shared("audit", root)
    claims = {"aime_2025": 0.914}
    page = write_scorecard(run, audit=audit, claims=claims).html
    panel, dom = rendered(page, tmp_path / "profile")
    _, expected = verdict(run, "--audit", str(audit), "--claim", "aime_2025=91.4")
    assert panel.sections[:2] == ["verdict", "overview"]  # the page opens with the panel
    for bench in expected["benchmarks"]:
        rows = panel.rows[bench["benchmark"]]
        assert [(q, s) for q, s, _ in rows] == [(entry["question"], entry["state"])
                                                for entry in bench["lines"]]
        for _, _, href in rows:
            assert href.startswith("#") and href[1:] in panel.ids, href
        assert panel.closing[bench["benchmark"]].strip() == f"→ {bench['strongest']}"
    states = {s for rows in panel.rows.values() for _, s, _ in rows}
    assert states == {"evidence_found", "no_evidence_found", "not_checked"}
    assert "power: n=30" in dom and "items found in sft.jsonl" in dom
    overlap = next(e for e in expected["benchmarks"][0]["lines"] if e["question"] == "overlap")
    d = overlap["detail"]
    pair = (d["difference_ci95"]["low"], d["difference_ci95"]["high"])
    assert f"<th>all − clean</th><td>{pp(d['difference'])} {pp_ci(pair)}</td>" in dom
    clean = (d["clean_ci95"]["low"], d["clean_ci95"]["high"])
    assert f"{d['clean_items']} items, {pct(d['clean_score'])} {ci(clean)}</td>" in dom
    shot = tmp_path / "panel.png"
    taken = browse(page, tmp_path / "profile", "--window-size=1280,1400", f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.read_bytes()[:4] == b"\x89PNG"


def test_panel_with_nothing_given_says_not_checked(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    panel, dom = rendered(run / "scorecard.html", tmp_path / "profile")  # written by `score`
    assert set(panel.rows) == {"aime_2025", "aime_2026"}
    for rows in panel.rows.values():
        assert [s for _, s, _ in rows] == ["not_checked"] * 5
        assert all(href[1:] in panel.ids for _, _, href in rows)
    assert dom.count("not checked: ") >= 10
    assert 'data-state="no_evidence_found"' not in dom and 'data-state="evidence_found"' not in dom
