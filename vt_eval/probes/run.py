"""Put the probes together: benchmark items in, per-item records and a per-benchmark report out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from vt_eval.backends.base import Backend
from vt_eval.cards import Card
from vt_eval.data import load_benchmark
from vt_eval.errors import ConfigError
from vt_eval.probes.compare import STATISTICS, compare
from vt_eval.probes.completion import completion_probe
from vt_eval.dates import item_date, parse_date
from vt_eval.probes.likelihood import likelihood_probe
from vt_eval.probes.report import CAVEAT
from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.texts import ProbeItem, clip_words, normalize


def card_items(card: Card, settings: ProbeSettings, limit: int = 0, data_dir: Path | None = None,
               after: date | None = None) -> list[ProbeItem]:
    """A benchmark's problems as probe texts (normalised, clipped); with `after`, only items
    dated after it (a control must be unseen; undated items are left out)."""
    loaded = load_benchmark(card, data_dir)
    items = []
    for item in loaded.items:
        when = item_date(card, item)
        if after is not None and (when is None or when <= after):
            continue
        text = clip_words(normalize(item.question), settings.max_words)
        items.append(ProbeItem(card.name, item.id, text, normalize(item.answer)))
    return items[:limit] if limit else items


def split_controls(cards: Sequence[Card], controls: Sequence[Card], cutoff: date | None
                   ) -> tuple[list[Card], list[Card]]:
    """(suspects, controls): without explicit controls, the benchmarks released after the cutoff."""
    if controls:
        for card in controls:
            released = parse_date(card.released.date) if card.released else None
            if cutoff is not None and (released is None or released <= cutoff):
                raise ConfigError(f"control {card.name} was released {released or 'at an unknown date'}"
                                  f", not after the cutoff {cutoff}: it cannot stand for unseen text")
        names = {c.name for c in controls}
        return [c for c in cards if c.name not in names], list(controls)
    if cutoff is None:
        raise ConfigError("the probes compare against post-cutoff controls: pass --cutoff DATE "
                          "(benchmarks released after it become the controls) or --controls")
    after = [c for c in cards if c.released and (parse_date(c.released.date) or cutoff) > cutoff]
    if not after:
        raise ConfigError(f"no benchmark given was released after {cutoff}; add one with "
                          f"--controls (e.g. aime_2026)")
    return [c for c in cards if c not in after], after


def probe_records(backend: Backend, items: Sequence[ProbeItem], settings: ProbeSettings,
                  probes: Sequence[str] = ("completion", "likelihood")) -> list[dict[str, Any]]:
    """One record per item: its text, and every statistic of the probes run."""
    results: list[dict[tuple[str, str], dict[str, Any]]] = []
    if "completion" in probes:
        results.append(completion_probe(backend, items, settings))
    if "likelihood" in probes:
        results.append(likelihood_probe(backend, items, settings))
    records = []
    for item in items:
        record: dict[str, Any] = {"benchmark": item.benchmark, "item_id": item.id, "text": item.text}
        for result in results:
            record.update(result[(item.benchmark, item.id)])
        records.append(record)
    return records


def build_report(records: Sequence[dict[str, Any]], controls: Sequence[str], settings: ProbeSettings,
                 model: str, cutoff: date | None, provenance: dict[str, Any]) -> dict[str, Any]:
    by_benchmark: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_benchmark.setdefault(record["benchmark"], []).append(record)
    return {"schema_version": 1, "model": model, "cutoff": str(cutoff) if cutoff else None,
            "controls": list(controls), "settings": settings.model_dump(mode="json"),
            "meaning": {name: text for name, (_, text) in STATISTICS.items()},
            "higher_means": "more like text the model has seen (for every statistic)",
            "caveat": CAVEAT, "backend": provenance,
            "benchmarks": compare(by_benchmark, controls, settings)}
