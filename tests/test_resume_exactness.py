"""manifest.resume: when a run's samples equal those of one uninterrupted run, and when not."""

from __future__ import annotations

from typing import Any

from vt_eval.manifest import Session, resume_exactness


def session(**fields: Any) -> Session:
    base: dict[str, Any] = {"started_at": "t", "planned": 6, "generated": 3, "unit_size": 4,
                            "plan_cut_sha256": "a", "batch_invariant": False}
    return Session(**{**base, **fields})


def test_vllm_same_units_every_session_is_exact() -> None:
    record = resume_exactness([session(), session(regenerated=2)])
    assert record.exact is True and "2 written sample(s) regenerated" in record.reason


def test_vllm_plan_or_unit_size_changed_is_not_exact() -> None:
    assert resume_exactness([session(), session(plan_cut_sha256="b")]).exact is False
    assert resume_exactness([session(), session(unit_size=8)]).exact is False


def test_vllm_regenerated_sample_that_differs_is_not_exact() -> None:
    record = resume_exactness([session(), session(regenerated=2, regenerated_differing=1)])
    assert record.exact is False and "1 regenerated sample(s) differed" in record.reason


def test_batch_invariant_backend_is_exact_even_when_the_plan_grows() -> None:
    sessions = [session(batch_invariant=True, unit_size=None),
                session(batch_invariant=True, unit_size=None, plan_cut_sha256="b")]
    assert resume_exactness(sessions).exact is True


def test_server_and_legacy_sessions_are_unknown_never_exact() -> None:
    assert resume_exactness([session(batch_invariant=None, unit_size=None)]).exact is None
    assert resume_exactness([session(batch_invariant=True, plan_cut_sha256=None)]).exact is None
    assert resume_exactness([]).exact is None
