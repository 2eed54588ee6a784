"""The completion probe: does the model continue a problem's text the way the text goes on?

Each text is cut at several word positions (`cuts`); the prefix goes to the model as raw text (no
chat template), greedy; the generated continuation is compared with the true one over the same
number of words. "Answer without the question": the text up to its question sentence, followed by
" The answer is", greedy; a hit is the gold answer as the first answer-like token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vt_eval.backends.base import Backend, Request
from vt_eval.probes import backend_io
from vt_eval.probes.overlap import (longest_common_substring, ngram_overlap, numbers_recalled,
                                    prefix_match, rouge_l)
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem, before_question, cut

ANSWER_SUFFIX = " The answer is"
COMPLETION_STATS = ("prefix_match", "rouge_l", "ngram", "lcs", "numbers_recalled")
ANSWER_INDEX = 1000  # request key index of the answer-without-question request
FIRST_TOKEN = re.compile(r"[-\w\\{}^/.,+]+")


def first_words(text: str, count: int) -> str:
    return " ".join(text.split()[:count])


def score_continuation(reference: str, generated: str, settings: ProbeSettings) -> dict[str, Any]:
    ref = first_words(reference, settings.continuation_words)
    gen = first_words(generated, settings.continuation_words)
    return {"reference": ref, "generated": gen,
            "prefix_match": prefix_match(ref, gen),
            "rouge_l": rouge_l(ref, gen) if gen else 0.0,
            "ngram": ngram_overlap(ref, gen, settings.ngram),
            "lcs": longest_common_substring(ref, gen),
            "numbers_recalled": numbers_recalled(ref, gen)}


def normalize_answer(text: str) -> str:
    return re.sub(r"[\s$]|\\!|\.$", "", text).rstrip(".,").lower()


def answer_hit(gold: str, generated: str) -> bool:
    """The first answer-like token of the generation equals the gold (spaces and $ ignored)."""
    match = FIRST_TOKEN.search(generated.replace("$", " "))
    if not match or not gold.strip():
        return False
    first, wanted = normalize_answer(match.group(0)), normalize_answer(gold)
    if wanted.lstrip("-").isdigit():
        number = re.match(r"-?\d+", first)
        return bool(number) and int(number.group(0)) == int(wanted)
    return first == wanted


def _requests(items: Sequence[ProbeItem], settings: ProbeSettings) -> tuple[list[Request], list[Request]]:
    cuts, answers = [], []
    for item in items:
        for index, fraction in enumerate(settings.cuts):
            prefix, _ = cut(item.text, fraction)
            cuts.append(Request((item.benchmark, item.id, index), [], seed=0, text=prefix))
        context = before_question(item.text) if item.answer else None
        if context:
            answers.append(Request((item.benchmark, item.id, ANSWER_INDEX), [], seed=0,
                                   text=context + ANSWER_SUFFIX))
    return cuts, answers


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def completion_probe(backend: Backend, items: Sequence[ProbeItem],
                     settings: ProbeSettings) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (benchmark, item id): each cut's overlap scores, their means, and the answer probe."""
    cut_requests, answer_requests = _requests(items, settings)
    done = backend_io.run(backend, cut_requests, settings.continuation_tokens)
    if answer_requests:
        done.update(backend_io.run(backend, answer_requests, settings.answer_tokens))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        per_cut = []
        for index, fraction in enumerate(settings.cuts):
            _, reference = cut(item.text, fraction)
            scores = score_continuation(reference, done[(item.benchmark, item.id, index)].text, settings)
            per_cut.append({"cut": fraction, **scores})
        record: dict[str, Any] = {name: _mean([c[name] for c in per_cut])
                                  for name in COMPLETION_STATS}
        answer = done.get((item.benchmark, item.id, ANSWER_INDEX))
        record["answer_hits"] = None if answer is None else float(answer_hit(item.answer, answer.text))
        record["answer_probe"] = None if answer is None else {
            "generated": answer.text, "gold": item.answer, "hit": bool(record["answer_hits"])}
        record["cuts"] = per_cut
        out[(item.benchmark, item.id)] = record
    return out
