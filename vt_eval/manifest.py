"""manifest.json: the run's provenance, one typed model owned by RunDir.

Stages never rewrite the whole file: each updates its own fields through `RunDir.update_manifest`
(read, change, atomic write, under a lock), and records what it did as a `StageReport`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from vt_eval.config import SamplingParams
from vt_eval.frozen import Frozen
from vt_eval.seeds import CURRENT_SCHEME

SCHEMA_VERSION = 2
RunStatus = Literal["new", "planned", "running", "generated", "scored"]


class StageReport(Frozen):
    """What one stage did in its last execution."""

    name: str
    status: Literal["done", "failed"]
    started_at: str
    ended_at: str
    seconds: float
    # Fingerprints (sha256) of the files and settings the stage read: equal fingerprints and
    # present outputs mean the stage is complete and is skipped.
    inputs: dict[str, str] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class Session(Frozen):
    started_at: str
    ended_at: str | None = None
    planned: int = 0
    already_done: int = 0
    generated: int | None = None
    interrupted_at: str | None = None
    # How generation was cut (vt_eval/backends/units.py): None = one unit of the missing samples.
    unit_size: int | None = None
    plan_cut_sha256: str | None = None
    batch_invariant: bool | None = None  # the backend's own statement; None = unknown (a server)
    # Written samples generated again to keep a unit's batch whole, and how many came out different.
    regenerated: int = 0
    regenerated_differing: int = 0


class ResumeRecord(Frozen):
    """Whether the run's samples equal those of one uninterrupted run of the same command."""

    exact: bool | None  # None: cannot be known (a server's batching is not ours to see)
    reason: str


class SeedInfo(Frozen):
    scheme: str = CURRENT_SCHEME  # a name in vt_eval.seeds.SCHEMES
    run_seed: int = 0


class Manifest(Frozen):
    schema_version: int = SCHEMA_VERSION
    run_id: str = ""
    created_at: str = ""
    status: RunStatus = "new"
    model: dict[str, Any] = Field(default_factory=dict)  # the backend's own provenance
    datasets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    skipped_benchmarks: dict[str, str] = Field(default_factory=dict)
    sampling: SamplingParams | None = None  # as requested
    effective_sampling: dict[str, Any] = Field(default_factory=dict)  # as the backend sent it
    grading: dict[str, Any] = Field(default_factory=dict)
    item_selection: dict[str, Any] = Field(default_factory=dict)
    seeds: SeedInfo = SeedInfo()
    packages: dict[str, str | None] = Field(default_factory=dict)
    git: dict[str, Any] = Field(default_factory=dict)
    host: dict[str, Any] = Field(default_factory=dict)
    sessions: list[Session] = Field(default_factory=list)
    resume: ResumeRecord | None = None
    cluster: dict[str, Any] | None = None  # Ray: nodes, workers, engine per worker  # from the sessions; see resume_exactness
    stages: dict[str, StageReport] = Field(default_factory=dict)
    # Fields of an older manifest that this schema no longer has, kept verbatim.
    legacy: dict[str, Any] = Field(default_factory=dict)


def upgrade_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 manifest (vt-eval 0.1, no schema_version) as a schema-2 dict."""
    if data.get("schema_version") is not None:
        return data
    known = set(Manifest.model_fields)
    out = {key: value for key, value in data.items() if key in known and key not in
           ("seeds", "sessions", "status", "sampling")}
    seeds = data.get("seeds") or {}
    out["seeds"] = {"scheme": CURRENT_SCHEME, "run_seed": int(seeds.get("run_seed", 0))}
    out["sessions"] = [{k: v for k, v in s.items() if k in Session.model_fields}
                       for s in data.get("sessions", [])]
    status = data.get("status", "new")
    out["status"] = status if status in RunStatus.__args__ else "new"  # type: ignore[attr-defined]
    sampling = data.get("sampling")
    out["sampling"] = {k: v for k, v in sampling.items() if k in SamplingParams.model_fields} \
        if isinstance(sampling, dict) else None
    out["legacy"] = {key: value for key, value in data.items() if key not in known}
    out["schema_version"] = SCHEMA_VERSION
    return out


def resume_exactness(sessions: list[Session]) -> ResumeRecord:
    """Exact when every sample came from the batch an uninterrupted run would have used."""
    if not sessions:
        return ResumeRecord(exact=None, reason="no generation session recorded")
    if any(s.batch_invariant is False for s in sessions):
        cuts = {(s.unit_size, s.plan_cut_sha256) for s in sessions if s.plan_cut_sha256}
        differing = sum(s.regenerated_differing for s in sessions)
        if len(cuts) > 1:
            return ResumeRecord(exact=False, reason=(
                "the backend's samples depend on their batch and the plan or unit size changed "
                "between sessions, so units were cut differently from one uninterrupted run"))
        if differing:
            return ResumeRecord(exact=False, reason=(
                f"{differing} regenerated sample(s) differed from the written copy: the engine "
                "did not reproduce a unit (the written copies are kept)"))
        size = next(iter(cuts))[0] if cuts else None
        regenerated = sum(s.regenerated for s in sessions)
        if len(sessions) == 1:
            return ResumeRecord(exact=True, reason=f"one session; fixed units of {size} requests")
        return ResumeRecord(exact=True, reason=(
            f"{len(sessions)} sessions, each with the same fixed units of {size} requests cut in "
            "plan order; " + (f"{regenerated} written sample(s) regenerated with their partly "
                              "written unit, all identical" if regenerated else
                              "no unit was left partly written")))
    if any(s.plan_cut_sha256 is None for s in sessions):
        return ResumeRecord(exact=None, reason=(
            "a session from before vt-eval recorded how generation was batched: unknown"))
    if any(s.batch_invariant is None for s in sessions):
        return ResumeRecord(exact=None, reason=(
            "a server generated the samples: whether they depend on its batching is unknown"))
    return ResumeRecord(exact=True, reason=(
        "the backend is batch-invariant: every sample has its own seeded generator"))
