"""The gate's JUnit XML (one test case per rule) and Markdown summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from vt_eval.report.gate_result import RuleResult, exit_code
from vt_eval.report.markdown import cell
from vt_eval.util import write_text_atomic

VERDICTS = {0: "PASS", 1: "FAIL (a rule was violated)", 2: "ERROR (input cannot be trusted)"}
ICONS = {"pass": "✅", "fail": "❌", "error": "⛔", "skipped": "➖"}


def junit_xml(results: list[RuleResult], suite: str = "vt-eval gate") -> str:
    counts = Counter(r.status for r in results)
    root = ET.Element("testsuites")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                         failures=str(counts["fail"]), errors=str(counts["error"]),
                         skipped=str(counts["skipped"]))
    for result in results:
        case = ET.SubElement(node, "testcase", classname="vt_eval.gate", name=result.name)
        if result.status in ("fail", "error"):
            tag = "failure" if result.status == "fail" else "error"
            child = ET.SubElement(case, tag, message=result.message.splitlines()[0][:500]
                                  if result.message else result.status)
            child.text = result.message
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
        else:
            ET.SubElement(case, "system-out").text = result.message
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def summary_markdown(results: list[RuleResult], run: str) -> str:
    code = exit_code(results)
    lines = [f"## vt-eval gate: {VERDICTS[code]}", "", f"Run: `{cell(run)}`", "",
             "| rule | result | detail |", "| --- | --- | --- |"]
    for r in results:
        lines.append(f"| `{cell(r.name)}` | {ICONS[r.status]} {r.status} | {cell(r.message)} |")
    return "\n".join(lines) + "\n"


def write_outputs(results: list[RuleResult], run: str, junit: Path, summary: Path) -> None:
    for path in (junit, summary):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(junit, junit_xml(results))
    write_text_atomic(summary, summary_markdown(results, run))
