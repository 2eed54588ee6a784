"""Which code problems a run evaluates: date windows and contest choices (CLI flags or card options).

Card options read here: `since`, `until` (LCB contest_date window, inclusive), `contest_after`
(LeetCode local format: strictly after), `contests` (list of contest slugs or titles).
Flags given on the command line win over the card's options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vt_eval.cards import Card
from vt_eval.code.lcb import filter_by_date
from vt_eval.code.leetcode import filter_contest_after, select_contests
from vt_eval.data import Item


class SelectionOptions(Protocol):
    """The code grader's validated card options (vt_eval.grading.code.CodeOptions)."""

    format: str
    since: str | None
    until: str | None
    contest_after: str | None
    contests: list[str] | None


def select_items(card: Card, opts: SelectionOptions, items: Sequence[Item], since: str | None = None,
                 until: str | None = None, contest_after: str | None = None) -> list[Item]:
    chosen = list(items)
    if opts.format == "lcb":
        return filter_by_date(chosen, since or opts.since, until or opts.until)
    chosen = filter_by_date(chosen, since or opts.since, until or opts.until, column="date")
    chosen = filter_contest_after(chosen, contest_after or opts.contest_after)
    if opts.contests:
        chosen = select_contests(chosen, opts.contests)
    return chosen
