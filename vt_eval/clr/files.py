"""claims.jsonl and verifications.jsonl: one line per model call, appended as calls finish.

Both are append-only (vt_eval.store.JsonlWriter) so a killed CLR run resumes: on restart the torn
last line is cut (repair_tail) and every call already recorded *with the current settings* is
skipped. A record made with other settings (prompt version, M, max tokens, sampling) is kept in
the file for inspection but neither reused nor counted ("stale").
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from vt_eval.clr.parsing import ClaimStatus, VerdictStatus
from vt_eval.records import FinishReason
from vt_eval.store import read_records, repair_tail


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CallRecord(_Record):
    """What every CLR call line holds: whose trajectory, under which settings, the raw reply."""

    benchmark: str
    item_id: str
    sample_index: int
    settings: str  # sha256 of the step's settings (prompt version, M, sampling, clipping)
    prompt_version: str
    seed: int
    reply: str
    finish_reason: FinishReason
    prompt_tokens: int | None
    completion_tokens: int | None
    created_at: str


class ClaimRecord(CallRecord):
    """One extraction call: a trajectory's claims and final answer, as parsed from the reply."""

    claims: list[str]
    answer: str | None
    status: ClaimStatus
    rule: str
    extra_dropped: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.benchmark, self.item_id, self.sample_index)


class VerificationRecord(CallRecord):
    """One verification call: the verdict on one claim of one trajectory."""

    claim_index: int
    claim: str
    verdict: int | None
    status: VerdictStatus

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.benchmark, self.item_id, self.sample_index, self.claim_index)


R = TypeVar("R", ClaimRecord, VerificationRecord)


@dataclass
class Loaded(Generic[R]):
    """The usable records of one file (current settings, first copy of each key) and notes."""

    records: dict[Hashable, R] = field(default_factory=dict)
    stale: int = 0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)


def load_records(path: Path, model: type[R], settings: str) -> Loaded[R]:
    loaded: Loaded[R] = Loaded()
    repair = repair_tail(path)
    if repair:
        loaded.notes.append(f"{path.name}: cut off a partial last line ({repair.dropped_bytes} "
                            f"bytes) left by an interrupted write; that call is made again")
    for record in read_records(path, model):
        if record.settings != settings:
            loaded.stale += 1
        elif record.key in loaded.records:
            loaded.duplicates += 1
        else:
            loaded.records[record.key] = record
    if loaded.stale:
        loaded.notes.append(f"{path.name}: {loaded.stale} record(s) made with other CLR settings "
                            f"ignored")
    return loaded
