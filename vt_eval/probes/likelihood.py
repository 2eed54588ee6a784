"""The likelihood probe: how likely the model finds each text, token by token, against controls.

Min-K% Prob (Shi et al., 2023): the mean log-probability of the k% least likely tokens. Seen
text has fewer surprising tokens, so its lowest tokens are less low.
Min-K%++ (Zhang et al., 2024): each token's log p is first standardised by the model's own
next-token distribution at that position, (log p(x_t) - mu_t) / sigma_t with mu_t, sigma_t the
mean and std of log p(z) for z ~ p(. | x_<t); then the k% lowest are averaged. Training pushes a
seen token towards a mode of that distribution, so the standardised score asks "was this token
unusually likely *here*", which removes the confound that rare words are unlikely everywhere.
It needs the full distribution: the transformers backend computes it; vLLM and servers return
only top log-probabilities, so there it is reported as unavailable (None), never approximated.
The mean log-probability (k = 100%, the plain loss) is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vt_eval.backends.base import Backend, Completion, Request
from vt_eval.errors import BackendError
from vt_eval.probes import backend_io
from vt_eval.probes.perturb import Perturbed, perturbed_copies
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem

LIKELIHOOD_STATS = ("min_k", "min_k_pp", "mean_logprob")


def lowest_mean(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    count = max(1, round(len(values) * fraction))
    return float(sum(sorted(values)[:count]) / count)


def token_scores(completion: Completion) -> tuple[list[float], list[float] | None]:
    """(log p per token, standardised log p per token or None when moments are unavailable)."""
    if completion.prompt_logprobs is None:
        raise BackendError(f"the backend returned no prompt log-probabilities for "
                           f"{completion.key} (capability prompt_logprobs)")
    logprobs = [v for v in completion.prompt_logprobs if v is not None]
    moments = completion.prompt_logprob_moments
    if moments is None:
        return logprobs, None
    standard = [(value - moment[0]) / moment[1]
                for value, moment in zip(completion.prompt_logprobs, moments, strict=True)
                if value is not None and moment is not None and moment[1] > 0]
    return logprobs, standard


def text_statistics(completion: Completion, k: float) -> dict[str, Any]:
    logprobs, standard = token_scores(completion)
    return {"tokens": len(logprobs) + 1,
            "min_k": lowest_mean(logprobs, k),
            "min_k_pp": lowest_mean(standard, k) if standard is not None else None,
            "mean_logprob": sum(logprobs) / len(logprobs) if logprobs else None}


def _requests(items: Sequence[ProbeItem], copies: dict[tuple[str, str], list[Perturbed]]
              ) -> list[Request]:
    requests = []
    for item in items:
        texts = [item.text] + [p.text for p in copies[(item.benchmark, item.id)]]
        requests += [Request((item.benchmark, item.id, index), [], seed=0, text=text,
                             prompt_logprobs=True) for index, text in enumerate(texts)]
    return requests


def _gap(original: dict[str, Any], perturbed: list[dict[str, Any]], name: str) -> float | None:
    values = [p[name] for p in perturbed if p[name] is not None]
    if original[name] is None or not values:
        return None
    return original[name] - sum(values) / len(values)


def likelihood_probe(backend: Backend, items: Sequence[ProbeItem],
                     settings: ProbeSettings) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (benchmark, item id): the statistics of the text and of each perturbed copy, and the
    perturbation gap (original minus the copies' mean; positive = the exact text is preferred)."""
    copies = {(i.benchmark, i.id): perturbed_copies(i, settings.perturbations, settings.seed)
              for i in items}
    done = backend_io.run(backend, _requests(items, copies), 1)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        key = (item.benchmark, item.id)
        original = text_statistics(done[(*key, 0)], settings.min_k)
        perturbed = [{"kind": p.kind, "copy": p.copy, "text": p.text,
                      **text_statistics(done[(*key, index)], settings.min_k)}
                     for index, p in enumerate(copies[key], start=1)]
        gaps = {name: _gap(original, perturbed, name) for name in LIKELIHOOD_STATS}
        out[key] = {**original, "perturbation_gap": gaps["mean_logprob"],
                    "perturbation_gaps": gaps, "perturbed": perturbed}
    return out
