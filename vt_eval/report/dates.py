"""Problem dates (exam / contest day) for the accuracy-against-date plot.

From the item's own `date` / `contest_date` field when its data row has one, else from
`reports/problem_dates.toml`. Unknown dates are None (the plot leaves those items out and says so).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any

from vt_eval.resources import resource_dir

ROW_FIELDS = ("date", "contest_date")


@cache
def _table() -> dict[str, Any]:
    try:
        path = resource_dir("reports") / "problem_dates.toml"
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return {}


def parse_date(text: object) -> date | None:
    if isinstance(text, date):
        return text
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _in_range(item_id: str, spec: str) -> bool:
    if "-" not in spec:
        return item_id == spec
    first, _, last = spec.partition("-")
    if not (item_id.isdigit() and first.isdigit() and last.isdigit()):
        return False
    return int(first) <= int(item_id) <= int(last)


def table_date(benchmark: str, item_id: str) -> date | None:
    entry = _table().get(benchmark)
    if not isinstance(entry, dict):
        return None
    for spec, value in (entry.get("items") or {}).items():
        if _in_range(item_id, spec):
            return parse_date(value)
    return parse_date(entry.get("date"))


def item_dates(benchmark: str, rows: Mapping[str, Mapping[str, Any]],
               item_ids: Iterable[str]) -> dict[str, date]:
    """item id -> date, for the items whose date is known."""
    out: dict[str, date] = {}
    for item_id in item_ids:
        row = rows.get(item_id, {})
        found = next((parse_date(row[f]) for f in ROW_FIELDS if f in row), None)
        found = found or table_date(benchmark, item_id)
        if found is not None:
            out[item_id] = found
    return out


def date_source(benchmark: str) -> str | None:
    entry = _table().get(benchmark)
    return entry.get("source") if isinstance(entry, dict) else None
