"""Honesty of the probes on the real fixture model (SmolLM2-135M-Instruct, trained in 2024; CPU).

"Seen" texts: licence notices copied verbatim into a huge number of files, read from the copies
this machine ships: the GPL-3 "how to apply" notice (/usr/share/common-licenses/GPL-3), the GPL-2
notice, the Apache-2.0 header, the BSD conditions, and the MIT permission notice (rich's LICENSE).
"Unseen": AIME 2026 problems (published February 2026). A 135M model memorizes little: it does
not reproduce these notices word for word from an arbitrary cut, so the numbers asserted are the
ones measured on this model (docs/probes.md), with margins, not a hope.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vt_eval.backends.transformers_backend import TransformersBackend
from vt_eval.cards import get_card
from vt_eval.config import TransformersConfig
from vt_eval.models import resolve_model
from vt_eval.probes.compare import compare
from vt_eval.probes.run import card_items, probe_records
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem, normalize

pytestmark = pytest.mark.slow

LICENSES = Path("/usr/share/common-licenses")
SETTINGS = ProbeSettings(bootstrap=1000, permutations=1000)
AIME_ITEMS = 12


def between(text: str, start: str, end: str) -> str:
    tail = text[text.index(start):]
    return normalize(tail[: tail.index(end) + len(end)])


def seen_texts() -> list[ProbeItem]:
    gpl3 = (LICENSES / "GPL-3").read_text()
    gpl2 = (LICENSES / "GPL-2").read_text()
    apache = (LICENSES / "Apache-2.0").read_text()
    bsd = (LICENSES / "BSD").read_text()
    mit = importlib.metadata.distribution("rich").read_text("licenses/LICENSE") or ""
    return [ProbeItem("seen", "gpl3-notice", between(gpl3, "This program is free software:", "licenses/>.")),
            ProbeItem("seen", "gpl2-notice", between(gpl2, "This program is free software;", "02110-1301 USA.")),
            ProbeItem("seen", "apache-header", between(apache, "Licensed under the Apache", "under the License.")),
            ProbeItem("seen", "bsd-conditions", between(bsd, "Redistribution and use", "POSSIBILITY OF\nSUCH DAMAGE.")),
            ProbeItem("seen", "mit-notice", between(mit, "Permission is hereby", "DEALINGS IN THE\nSOFTWARE."))]


@pytest.fixture(scope="module")
def records() -> Iterator[list[dict[str, Any]]]:
    backend = TransformersBackend(resolve_model("smollm2-135m"), TransformersConfig(threads=1, batch_size=8))
    items = seen_texts() + card_items(get_card("aime_2026"), SETTINGS, limit=AIME_ITEMS)
    yield probe_records(backend, items, SETTINGS)
    backend.close()


def group(records: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [r for r in records if r["benchmark"] == name]


def versus(records: list[dict[str, Any]]) -> dict[str, Any]:
    out = compare({"seen": group(records, "seen"), "aime_2026": group(records, "aime_2026")},
                  ["aime_2026"], SETTINGS)
    return out["seen"]["vs_controls"]


def mean(records: list[dict[str, Any]], name: str) -> float:
    values = [r[name] for r in records if r[name] is not None]
    return sum(values) / len(values)


def test_likelihood_probe_separates_seen_text_from_aime_2026(records: list[dict[str, Any]]) -> None:
    """Measured: mean log p seen - AIME 2026 = +0.79 nats/token, 95% CI [+0.53, +1.04], p = 0.001;
    Min-K% (k = 20%) +0.94 [+0.20, +1.86]. Min-K%++ does NOT separate on this model (-0.39)."""
    seen, aime = group(records, "seen"), group(records, "aime_2026")
    gap = versus(records)
    assert gap["mean_logprob"]["value"] > 0.5 and gap["mean_logprob"]["ci_low"] > 0.3
    assert gap["mean_logprob"]["p_value"] < 0.01 and gap["mean_logprob"]["stands_out"]
    assert gap["min_k"]["value"] > 0.5 and gap["min_k"]["ci_low"] > 0
    aime_sorted = sorted(r["mean_logprob"] for r in aime)
    assert min(r["mean_logprob"] for r in seen) > aime_sorted[len(aime_sorted) // 2]
    gpl3 = next(r for r in seen if r["item_id"] == "gpl3-notice")
    assert gpl3["mean_logprob"] > max(aime_sorted) and gpl3["mean_logprob"] > -1.6
    # The full-vocabulary moments came through: Min-K%++ is computed, not missing.
    assert all(r["min_k_pp"] is not None for r in records)


def test_perturbed_copies_score_below_the_seen_originals(records: list[dict[str, Any]]) -> None:
    """Measured gaps (original - mean of its 4 copies, nats/token): 0.13 to 0.29."""
    for record in group(records, "seen"):
        assert record["perturbation_gap"] > 0.1, record["item_id"]
        copies = [p["mean_logprob"] for p in record["perturbed"]]
        assert len(copies) >= 2 and sum(c < record["mean_logprob"] for c in copies) >= len(copies) - 1
    gpl3 = next(r for r in group(records, "seen") if r["item_id"] == "gpl3-notice")
    assert {p["kind"] for p in gpl3["perturbed"]} == {"numbers", "sentence_order"}


def test_completion_probe_separates_seen_text_from_aime_2026(records: list[dict[str, Any]]) -> None:
    """Measured: verbatim prefix match seen - AIME 2026 = +0.054 [+0.027, +0.078], p = 0.006 (a
    small effect: this model goes on verbatim for a few words at best). ROUGE-L, n-gram overlap
    and the longest common substring do NOT separate on this model (AIME's formulaic phrasing
    is as predictable)."""
    seen, aime = group(records, "seen"), group(records, "aime_2026")
    gap = versus(records)["prefix_match"]
    assert gap["value"] > 0.03 and gap["ci_low"] > 0 and gap["p_value"] < 0.05
    assert mean(seen, "prefix_match") > 2 * mean(aime, "prefix_match")
    assert all(r["prefix_match"] > 0 for r in seen)
    # Answer without the question: a 135M model gets no AIME 2026 answer right.
    answered = [r for r in aime if r["answer_hits"] is not None]
    assert len(answered) >= 6 and sum(r["answer_hits"] for r in answered) == 0
