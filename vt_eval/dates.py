"""When each item became public, and its difficulty stratum, from the card's `[released]` table.

The one source of problem dates: the freshness test, the probes' post-cutoff controls and the
scorecard's accuracy-against-date plot all read them here."""

from __future__ import annotations

import re
from datetime import date

from vt_eval.cards import Card
from vt_eval.data import Item

RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD at the start of `text` (contest dates may carry a time)."""
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None


def _part(card: Card, item: Item) -> tuple[int, int, str] | None:
    """(first id, last id, date) of the part (AIME I/II) holding an integer item id."""
    released = card.released
    if released is None or not item.id.strip().isdigit():
        return None
    number = int(item.id)
    for span, when in released.parts.items():
        match = RANGE.match(span)
        if match and int(match.group(1)) <= number <= int(match.group(2)):
            return int(match.group(1)), int(match.group(2)), when
    return None


def item_date(card: Card, item: Item) -> date | None:
    """The row's own date column, else its part's date, else the card's date; None if undated."""
    released = card.released
    if released is None:
        return None
    if released.field:
        return parse_date(str(item.row.get(released.field, "")))
    part = _part(card, item)
    return parse_date(part[2] if part else released.date)


def difficulty(card: Card, item: Item) -> str | None:
    """A difficulty label comparable across benchmarks of one family, or None."""
    released = card.released
    if released is None:
        return None
    if released.difficulty_field:
        value = str(item.row.get(released.difficulty_field, "")).strip().lower()
        return f"{released.difficulty_field}={value}" if value else None
    part = _part(card, item)
    if released.position_bucket and part is not None:
        position = int(item.id) - part[0]
        low = position // released.position_bucket * released.position_bucket + 1
        return f"position {low}-{low + released.position_bucket - 1}"
    return None
