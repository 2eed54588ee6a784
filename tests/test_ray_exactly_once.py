"""The driver's exactly-once filter (vt_eval/backends/ray_executor.py) over what Ray delivers when a
unit is retried.

Ray's generator retry, as measured with ray 2.60 (a worker SIGKILLed after its 3rd of 6 yields,
`max_task_retries` on): the driver receives positions 0-2 from the first attempt and positions
3-5 from the retry, whatever the retry yielded at 0-2. So a retry that finishes its requests in
another order repeats some completions and hides others; the unit's last item (`UnitEnd`, which
carries all of its completions) is always the finishing attempt's.
"""

from __future__ import annotations

from vt_eval.backends.base import Completion, Request
from vt_eval.backends.ray_executor import ExactlyOnce, Flight
from vt_eval.backends.ray_worker import UnitEnd, UnitStart
from vt_eval.backends.units import WorkUnit


def completion(index: int) -> Completion:
    return Completion(("b", "1", index), f"answer {index}", "stop", 3, 2, 0.1)


def attempt(incarnation: str, order: list[int]) -> list[object]:
    items = [completion(i) for i in order]
    return [UnitStart(0, incarnation), *items, UnitEnd(0, incarnation, tuple(items))]


def delivered(first: list[object], retry: list[object], reached: int) -> list[object]:
    """What the driver sees: the first attempt's items before `reached`, the retry's after."""
    return first[:reached] + retry[reached:]


def run_filter(items: list[object], once: ExactlyOnce) -> tuple[list[Completion], Flight]:
    unit = WorkUnit(0, tuple(Request(("b", "1", i), [], i) for i in range(4)), frozenset())
    flight = Flight(0, unit)
    out = [c for item in items for c in once.accept(item, flight)]
    return out, flight


def test_a_retry_in_another_order_yields_every_key_once() -> None:
    first = attempt("dead", [0, 1, 2, 3])
    retry = attempt("restarted", [3, 2, 1, 0])
    items = delivered(first, retry, reached=3)  # start, 0, 1 | then the retry's 1, 0, end
    once = ExactlyOnce()
    out, flight = run_filter(items, once)
    assert sorted(c.key[2] for c in out) == [0, 1, 2, 3]
    assert flight.ended
    assert (once.units_retried, once.duplicates_dropped, once.recovered_from_summary) == (1, 2, 2)


def test_an_unretried_unit_counts_nothing() -> None:
    once = ExactlyOnce()
    out, flight = run_filter(attempt("one", [2, 0, 3, 1]), once)
    assert [c.key[2] for c in out] == [2, 0, 3, 1]  # streamed in finishing order
    assert (once.units_retried, once.duplicates_dropped, once.recovered_from_summary) == (0, 0, 0)


def test_a_stream_cut_before_its_end_is_not_ended() -> None:
    out, flight = run_filter(attempt("one", [0, 1, 2, 3])[:-1], ExactlyOnce())
    assert len(out) == 4 and not flight.ended  # RayExecutor raises for such a unit
