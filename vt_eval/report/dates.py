"""Problem dates (exam / contest day) for the accuracy-against-date plot, from each card's
`[released]` table (vt_eval.dates). Unknown dates are left out (the plot says so)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from vt_eval.cards import all_cards
from vt_eval.data import Item
from vt_eval.dates import item_date


def item_dates(benchmark: str, rows: Mapping[str, Mapping[str, Any]],
               item_ids: Iterable[str]) -> dict[str, date]:
    """item id -> date, for the items whose date is known."""
    card = all_cards().get(benchmark)
    if card is None:
        return {}
    out: dict[str, date] = {}
    for item_id in item_ids:
        found = item_date(card, Item(item_id, "", "", rows.get(item_id, {})))
        if found is not None:
            out[item_id] = found
    return out


def date_source(benchmark: str) -> str | None:
    card = all_cards().get(benchmark)
    return card.released.source if card is not None and card.released is not None else None
