"""Apply the judge to one benchmark's rule scores.

Which samples (the scope):
- `needs_judge` (default): samples the rules could not settle;
- `incorrect`: also rule-`incorrect` samples with a non-trivial answer (not both plain numbers);
- `all`: also rule-`correct` samples, to measure rule-vs-judge agreement.
A card can opt out with `options.judge = "off"` (IFEval, GPQA: rules settle everything).

Merging (policy, recorded in results.json):
- needs_judge -> correct / incorrect by the judge; an unparsable reply after every retry, or a judge
  server that failed, -> `judge_error` (left out of accuracy like needs_judge, never wrong);
- rule incorrect -> correct when the judge says equivalent (rules miss equivalent forms); a judge
  failure keeps the rule verdict;
- rule correct stays correct (a rule-verified equality is not overruled); agreement is recorded.
Identical (item, answer) pairs are judged once; verdicts are cached on disk.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vt_eval.backends.base import Request, SamplingParams
from vt_eval.cards import Card
from vt_eval.data import Item
from vt_eval.errors import BackendError
from vt_eval.judge.cache import CacheEntry, JudgeCache, cache_key
from vt_eval.judge.parse import parse_verdict
from vt_eval.judge.prompt import PROMPT_VERSION, judge_messages
from vt_eval.records import Score
from vt_eval.util import now_iso

Scope = Literal["needs_judge", "incorrect", "all"]
SCOPES: tuple[Scope, ...] = ("needs_judge", "incorrect", "all")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class JudgeSettings:
    base_url: str
    model: str
    scope: Scope = "needs_judge"
    attempts: int = 3  # calls per (item, answer) before judge_error
    max_tokens: int = 1024
    temperature: float = 0.0  # first attempt; retries sample at >= 0.7 with a new seed
    concurrency: int = 4
    cache_path: Path | None = None  # default: <run dir>/judge_cache.jsonl

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, "prompt_version": PROMPT_VERSION,
                "scope": self.scope, "attempts": self.attempts, "max_tokens": self.max_tokens,
                "temperature": self.temperature}


@dataclass
class JudgeOutcome:
    scores: list[Score]
    metrics: dict[str, Any]
    warnings: list[str]


def _clean(text: str) -> str:
    return text.strip().strip("$").strip()


def wants_judge(score: Score, scope: Scope) -> bool:
    if not score.extracted or not score.extracted.strip():
        return False
    if score.verdict == "needs_judge":
        return True
    if score.verdict == "incorrect" and scope in ("incorrect", "all"):
        both_numbers = _PLAIN_NUMBER.match(_clean(score.extracted)) and _PLAIN_NUMBER.match(
            _clean(score.gold))
        return not both_numbers
    return score.verdict == "correct" and scope == "all"


def card_judged(card: Card) -> bool:
    from vt_eval.grading import get_grader
    return get_grader(card.grader).options(card).judge != "off"


class _Calls:
    """The judge calls of one benchmark: dedupe, cache, retry, and survive a dying server."""

    def __init__(self, backend: Any, settings: JudgeSettings, cache: JudgeCache) -> None:
        self.backend, self.settings, self.cache = backend, settings, cache
        self.results: dict[str, CacheEntry] = {}
        self.errors: dict[str, str] = {}
        self.sent = 0
        self.cache_hits = 0
        self.failure: str | None = None

    def run(self, wanted: Mapping[str, tuple[str, str, str, str, str]]) -> None:
        """`wanted`: cache key -> (benchmark, item id, question, gold, answer)."""
        pending = []
        for key in wanted:
            hit = self.cache.get(key)
            if hit is not None:
                self.results[key] = hit
                self.cache_hits += 1
            else:
                pending.append(key)
        for attempt in range(1, self.settings.attempts + 1):
            if not pending or self.failure:
                break
            self._round(pending, wanted, attempt)
            pending = [k for k in pending if k not in self.results]
        for key in pending:
            if self.failure:
                self.errors[key] = f"judge server failed: {self.failure}"
            else:
                self.errors.setdefault(key, "no reply")

    def _round(self, keys: list[str], wanted: Mapping[str, tuple[str, str, str, str, str]],
               attempt: int) -> None:
        temperature = self.settings.temperature if attempt == 1 else max(0.7, self.settings.temperature)
        params = SamplingParams(temperature=temperature, top_p=1.0, top_k=-1,
                                max_tokens=self.settings.max_tokens)
        requests = [Request(key=("judge", key, attempt),
                            messages=judge_messages(wanted[key][2], wanted[key][3], wanted[key][4]),
                            seed=(int(key[:8], 16) + attempt) & 0x7FFFFFFF) for key in keys]
        self.sent += len(requests)
        try:
            for completion in self.backend.generate(requests, params):
                key = completion.key[1]
                parsed = parse_verdict(completion.text)
                if parsed.verdict is None:
                    self.errors[key] = f"{parsed.reason} (attempt {attempt}): {completion.text[-200:]!r}"
                    continue
                benchmark, item_id, _, _, answer = wanted[key]
                entry = CacheEntry(key=key, benchmark=benchmark, item_id=item_id, answer=answer,
                                   judge_model=self.settings.model, prompt_version=PROMPT_VERSION,
                                   verdict=parsed.verdict, reply=completion.text[-4000:],
                                   attempts=attempt, created_at=now_iso())
                self.cache.put(entry)
                self.results[key] = entry
        except BackendError as exc:
            self.failure = str(exc)


def judge_benchmark(card: Card, items: Mapping[str, Item], scores: Sequence[Score],
                    settings: JudgeSettings, backend: Any, cache: JudgeCache) -> JudgeOutcome:
    """Judge the in-scope samples of one benchmark; return merged scores and judge metrics."""
    keyed: dict[int, str] = {}
    wanted: dict[str, tuple[str, str, str, str, str]] = {}
    for index, score in enumerate(scores):
        if not wants_judge(score, settings.scope) or score.item_id not in items:
            continue
        item = items[score.item_id]
        answer = score.extracted or ""
        key = cache_key(card.name, item.id, item.answer, answer, settings.model, PROMPT_VERSION)
        keyed[index] = key
        wanted[key] = (card.name, item.id, item.question, item.answer, answer)
    calls = _Calls(backend, settings, cache)
    if wanted:
        calls.run(wanted)
    merged = list(scores)
    transitions: Counter[str] = Counter()
    agreement: Counter[str] = Counter()
    errors = 0
    for index, key in keyed.items():
        rule = scores[index]
        entry = calls.results.get(key)
        merged[index] = _merge(rule, entry, calls.errors.get(key, "no reply"), settings)
        if entry is None:
            errors += 1
        elif rule.verdict in ("correct", "incorrect"):
            judge_says = "correct" if entry.verdict == "equivalent" else "incorrect"
            agreement[f"rule {rule.verdict} / judge {judge_says}"] += 1
        transitions[f"{rule.verdict} -> {merged[index].verdict}"] += 1
    both = sum(agreement.values())
    agreed = agreement["rule correct / judge correct"] + agreement["rule incorrect / judge incorrect"]
    warnings = []
    if calls.failure:
        warnings.append(f"judge: the server failed ({calls.failure}); {len(calls.results)} "
                        f"verdict(s) are cached, {errors} sample(s) are judge_error; run "
                        f"`vt-eval score` again to finish")
    metrics = {
        **settings.describe(),
        "judged_samples": len(keyed),
        "distinct_questions": len(wanted),
        "cache_hits": calls.cache_hits,
        "calls_sent": calls.sent,
        "judge_errors": errors,
        "transitions": dict(sorted(transitions.items())),
        "agreement": {"samples": both, "agreed": agreed,
                      "rate": agreed / both if both else None,
                      "table": dict(sorted(agreement.items()))},
    }
    return JudgeOutcome(merged, metrics, warnings)


def _merge(rule: Score, entry: CacheEntry | None, error: str, settings: JudgeSettings) -> Score:
    judge: dict[str, Any] = {"model": settings.model, "prompt_version": PROMPT_VERSION}
    details = {**rule.details, "rule_verdict": rule.verdict, "judge": judge}
    if entry is None:
        judge.update(verdict="judge_error", error=error[:500])
        verdict = "judge_error" if rule.verdict == "needs_judge" else rule.verdict
        explanation = f"judge failed ({error[:200]}); rules: {rule.explanation}"
    else:
        judge.update(verdict=entry.verdict, attempts=entry.attempts, reply=entry.reply[-600:])
        verdict = rule.verdict
        if rule.verdict in ("needs_judge", "incorrect"):
            verdict = "correct" if entry.verdict == "equivalent" else "incorrect"
        explanation = (f"judge {settings.model} ({PROMPT_VERSION}): {entry.verdict}; "
                       f"rules: {rule.explanation}")
    return rule.model_copy(update={"verdict": verdict, "explanation": explanation,
                                   "details": details})
