"""The scorecard as HTML (jinja2 templates from `reports/`, autoescaped: model text is data)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from vt_eval.fmt import FILTERS
from vt_eval.report.view import Scorecard
from vt_eval.resources import resource_dir

TEMPLATE = "scorecard.html.j2"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("reports"))),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=False, lstrip_blocks=False)
    env.filters.update(FILTERS)
    return env


def render_html(card: Scorecard) -> str:
    return environment().get_template(TEMPLATE).render(card=card)


def write_html(card: Scorecard, path: Path) -> None:
    from vt_eval.util import write_text_atomic
    write_text_atomic(path, render_html(card))
