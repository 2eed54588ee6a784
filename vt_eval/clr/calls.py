"""The model calls of CLR: requests for each step, and replies turned into records.

Keys are unique within each step's one generate call: extraction (benchmark, item id, sample
index); verification (benchmark, "<item id>#c<claim index>", sample index). Seeds are derived from
the run seed like the samples' (vt_eval.seeds), under the names "clr-extract/<benchmark>" and
"clr-verify/<benchmark>", so a resumed or repeated call gets the same seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vt_eval.backends.base import Completion, Request
from vt_eval.clr.files import ClaimRecord, VerificationRecord
from vt_eval.clr.parsing import parse_claims, parse_verdict
from vt_eval.clr.prompts import (clip_solution, extraction_messages, problem_text,
                                 verification_messages)
from vt_eval.config import SamplingParams
from vt_eval.records import Sample
from vt_eval.seeds import derive_seed
from vt_eval.util import now_iso, sha256_text


@dataclass(frozen=True)
class CallSettings:
    """What shapes one step's calls (hashed into every record of that step)."""

    prompt_version: str
    sampling: SamplingParams
    m: int = 0  # extraction only
    trajectory_chars: int = 0  # extraction only

    def describe(self) -> dict[str, Any]:
        return {"prompt_version": self.prompt_version, "m": self.m,
                "trajectory_chars": self.trajectory_chars,
                "sampling": self.sampling.model_dump(exclude={"seed"})}

    @property
    def digest(self) -> str:
        return sha256_text(json.dumps(self.describe(), sort_keys=True)) or ""


def verification_key(benchmark: str, item_id: str, sample_index: int, claim_index: int
                     ) -> tuple[str, str, int]:
    return (benchmark, f"{item_id}#c{claim_index}", sample_index)


def extraction_request(sample: Sample, settings: CallSettings, run_seed: int) -> Request:
    messages = extraction_messages(settings.prompt_version, problem_text(sample.messages),
                                   clip_solution(sample.response, settings.trajectory_chars),
                                   settings.m)
    seed = derive_seed(run_seed, f"clr-extract/{sample.benchmark}", sample.item_id,
                       sample.sample_index)
    return Request(sample.key, messages, seed)


def verification_request(sample: Sample, claim_index: int, claim: str, settings: CallSettings,
                         run_seed: int) -> Request:
    key = verification_key(sample.benchmark, sample.item_id, sample.sample_index, claim_index)
    messages = verification_messages(settings.prompt_version, problem_text(sample.messages), claim)
    seed = derive_seed(run_seed, f"clr-verify/{sample.benchmark}", key[1], sample.sample_index)
    return Request(key, messages, seed)


def _call_fields(sample: Sample, request: Request, completion: Completion,
                 settings: CallSettings) -> dict[str, Any]:
    return {"benchmark": sample.benchmark, "item_id": sample.item_id,
            "sample_index": sample.sample_index, "settings": settings.digest,
            "prompt_version": settings.prompt_version, "seed": request.seed,
            "reply": completion.text, "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens, "created_at": now_iso()}


def claim_record(sample: Sample, request: Request, completion: Completion,
                 settings: CallSettings) -> ClaimRecord:
    parsed = parse_claims(completion.text, settings.m)
    return ClaimRecord(**_call_fields(sample, request, completion, settings),
                       claims=list(parsed.claims), answer=parsed.answer, status=parsed.status,
                       rule=parsed.rule, extra_dropped=parsed.extra_dropped)


def verification_record(sample: Sample, claim_index: int, claim: str, request: Request,
                        completion: Completion, settings: CallSettings) -> VerificationRecord:
    parsed = parse_verdict(completion.text, completion.finish_reason)
    return VerificationRecord(**_call_fields(sample, request, completion, settings),
                              claim_index=claim_index, claim=claim, verdict=parsed.value,
                              status=parsed.status)
