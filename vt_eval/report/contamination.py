"""An audit's contaminated items for the scorecard: evidence spans, split by what overlaps.

"question and answer": the training row that matches the question also contains the gold answer
(outside the matched span); "question only": it does not; "unknown": the row could not be read
(file gone, or a format other than line-based JSONL / text, plain or .gz).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from vt_eval.data import Item
from vt_eval.decontam.audit import read_audit
from vt_eval.decontam.events import PieceEvent, RowEvent, ShardError
from vt_eval.decontam.paragraphs import paragraph_events
from vt_eval.report.view import ContaminatedItem, ContaminationView, EvidenceView

LINE_SUFFIXES = (".jsonl", ".ndjson")
PARAGRAPH_SUFFIXES = (".txt", ".md")  # the audit's row = a paragraph (decontam/paragraphs.py)
MAX_PARAGRAPH_BYTES = 1 << 20
MAX_EVIDENCE = 3  # counting matches shown per item


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:  # type: ignore[operator]
        yield from handle


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _row_text(line: str, path: Path) -> str:
    if ".json" not in "".join(path.suffixes):
        return line
    try:
        return "\n".join(_strings(json.loads(line)))
    except json.JSONDecodeError:
        return line


def read_rows(file: str, rows: set[int]) -> dict[int, str]:
    """Texts of the given 0-based rows of a line-based training file ({} when unreadable)."""
    path = Path(file)
    base = path.with_suffix("") if path.suffix == ".gz" else path
    if not path.is_file() or base.suffix not in (*LINE_SUFFIXES, *PARAGRAPH_SUFFIXES) or not rows:
        return {}
    if base.suffix in PARAGRAPH_SUFFIXES:
        return _paragraphs(path, rows)
    out: dict[int, str] = {}
    try:
        for number, line in enumerate(_lines(path)):
            if number in rows:
                out[number] = _row_text(line, path)
                if len(out) == len(rows):
                    break
    except (OSError, EOFError):
        return {}
    return out


def _paragraphs(path: Path, rows: set[int]) -> dict[int, str]:
    """Paragraphs of a text file, numbered as the audit numbered them."""
    out: dict[int, str] = {}
    pieces: dict[int, list[str]] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:  # type: ignore[operator]
            for event in paragraph_events(stream, str(path), MAX_PARAGRAPH_BYTES):
                if event.row not in rows:
                    continue
                if isinstance(event, RowEvent):
                    out[event.row] = event.text
                elif isinstance(event, PieceEvent):
                    pieces.setdefault(event.row, []).append(event.text)
                    if event.last:
                        out[event.row] = "".join(pieces.pop(event.row))
                if len(out) == len(rows):
                    break
    except (OSError, EOFError, ShardError):
        return {}
    return out


def answer_count(text: str, answer: str) -> int:
    """Occurrences of the gold answer as a whole token (numbers not inside longer numbers)."""
    answer = answer.strip()
    if not answer:
        return 0
    pattern = rf"(?<![\w.]){re.escape(answer)}(?![\w])"
    return len(re.findall(pattern, text, flags=re.IGNORECASE))


def _evidence(match: dict[str, Any], question: str, row: str | None, gold: str) -> EvidenceView:
    start, end = (match.get("item_span") or [0, 0])[:2]
    answer = None
    if row is not None:  # more occurrences in the row than the question itself accounts for
        answer = answer_count(row, gold) > answer_count(question, gold)
    return EvidenceView(file=str(match.get("file")), row=int(match.get("row", -1)),
                        method=f"{match.get('method')} n={match.get('n')}",
                        rule=str(match.get("counts_by")), containment=match.get("containment"),
                        before=question[:start], span=question[start:end], after=question[end:],
                        row_text=str(match.get("row_text") or ""), answer_in_row=answer)


def _overlap(evidence: list[EvidenceView]) -> str:
    if any(e.answer_in_row for e in evidence):
        return "question and answer"
    if evidence and all(e.answer_in_row is False for e in evidence):
        return "question only"
    return "unknown"


def load_audit(audit_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The verified audit (DataError when it cannot be trusted)."""
    return read_audit(Path(audit_dir))


def contamination_view(audit_dir: Path, audit: tuple[dict[str, Any], list[dict[str, Any]]],
                       benchmark: str, items: Mapping[str, Item]) -> ContaminationView | None:
    summary, matches = audit
    bench = summary["benchmarks"].get(benchmark)
    if bench is None:
        return None
    counting = [m for m in matches if m["benchmark"] == benchmark and m.get("counts_by")]
    wanted: dict[str, set[int]] = {}
    for match in counting:
        wanted.setdefault(match["file"], set()).add(int(match["row"]))
    rows = {(f, r): text for f, rs in wanted.items() for r, text in read_rows(f, rs).items()}
    groups: dict[str, list[ContaminatedItem]] = {"question and answer": [], "question only": [],
                                                 "unknown": []}
    for item_id in bench["contaminated_ids"]:
        item = items.get(item_id)
        question, gold = (item.question, item.answer) if item else ("", "")
        mine = [m for m in counting if m["item_id"] == item_id][:MAX_EVIDENCE]
        evidence = [_evidence(m, question, rows.get((m["file"], int(m["row"]))), gold) for m in mine]
        overlap = _overlap(evidence)
        groups[overlap].append(ContaminatedItem(item_id, overlap, evidence))
    return ContaminationView(audit=str(audit_dir), items=bench["items"],
                             contaminated=bench["contaminated"],
                             question_and_answer=groups["question and answer"],
                             question_only=groups["question only"], unknown=groups["unknown"])
