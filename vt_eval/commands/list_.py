"""`vt-eval list`: suites, benchmarks and models."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from vt_eval.errors import VtEvalError

NAME = "list"
HELP = "suites, benchmarks and models"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.cards import all_cards, suites
    from vt_eval.data import load_benchmark
    from vt_eval.models import ALIASES, resolve_model
    console.print("suites: " + ", ".join(f"{name} ({len(b)})" for name, b in sorted(suites().items())))
    table = Table(title="benchmarks", title_justify="left")
    for column in ("name", "suites", "items", "source", "revision", "k", "grader"):
        table.add_column(column)
    for card in all_cards().values():
        try:
            items = str(len(load_benchmark(card, allow_download=False).items))
        except VtEvalError:
            items = "[yellow]not shipped[/] (--data-dir)"
        source = card.source.hf_repo or card.source.repo or "?"
        table.add_row(card.name, ",".join(card.suites), items, source, card.source.revision[:12],
                      str(card.k), card.grader)
    console.print(table)
    models = Table(title="models (aliases; or pass a checkpoint directory)", title_justify="left")
    for column in ("alias", "description", "status"):
        models.add_column(column)
    for name, alias in ALIASES.items():
        try:
            resolve_model(name)
            status = "installed"
        except VtEvalError:
            status = f"missing: {alias.install}"
        models.add_row(name, alias.description, status)
    console.print(models)
    return 0
