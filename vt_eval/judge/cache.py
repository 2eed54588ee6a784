"""On-disk judge cache: one JSONL line per settled (item, answer, judge model, prompt version).

Only parsed verdicts are cached; a judge_error is retried on the next scoring. Lines are appended
and flushed one by one, so calls finished before a crash are kept.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vt_eval.frozen import Frozen
from vt_eval.store import JsonlWriter, read_records, repair_tail


class CacheEntry(Frozen):

    key: str
    benchmark: str
    item_id: str
    answer: str
    judge_model: str
    prompt_version: str
    verdict: str  # "equivalent" | "not_equivalent"
    reply: str  # the judge's reply (cut to 4000 characters)
    attempts: int
    created_at: str


def cache_key(benchmark: str, item_id: str, gold: str, answer: str, judge_model: str,
              prompt_version: str) -> str:
    text = json.dumps([benchmark, item_id, gold, answer, judge_model, prompt_version])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class JudgeCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.repair = repair_tail(path)
        self.entries: dict[str, CacheEntry] = {e.key: e for e in read_records(path, CacheEntry)}
        self._writer: JsonlWriter | None = None

    def get(self, key: str) -> CacheEntry | None:
        return self.entries.get(key)

    def put(self, entry: CacheEntry) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = JsonlWriter(self.path)
        self._writer.write(entry)
        self.entries[entry.key] = entry

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
