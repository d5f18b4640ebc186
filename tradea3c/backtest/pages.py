"""The HTML pages' one renderer: jinja2 templates shipped as package data, autoescaped.

The tear sheet (`tradea3c.backtest.report`), the walk-forward page (same module) and the study page
(`tradea3c.experiment.study_report`) are templates in ``tradea3c/backtest/templates/`` that extend
one base layout (``base.html.j2``: the only ``<!DOCTYPE`` skeleton) and share one table macro and
one inline-figure macro (``macros.html.j2``). Every value handed to a template is escaped by jinja2
(text from outside: strategy and run names, tickers, paths, config values, warnings); the page's
structure and literal text live in the templates, the numbers are formatted in Python.
"""

from __future__ import annotations

import functools
from typing import Any

TEMPLATES = "templates"
"""The folder of ``tradea3c.backtest`` that holds the ``*.j2`` templates (package data)."""


@functools.cache
def environment() -> Any:
    """The jinja2 environment of every page: package templates, autoescape on, unknown names errors."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("tradea3c.backtest", TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, **context: Any) -> str:
    """``template`` (a name under ``templates/``) rendered with ``context`` (values escaped)."""
    return environment().get_template(template).render(**context)
