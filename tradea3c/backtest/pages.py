"""The HTML pages' shared machinery: one jinja2 base layout (autoescaped), the table macro, figures.

The tear sheet (``report.py``), the study page (``experiment/study_report.py``) and the
walk-forward page render through `page`, so there is one ``<!DOCTYPE`` skeleton, one table
helper and one way to embed a plot. Text handed to the templates is escaped by jinja2; fragments
that are already HTML are passed as ``markupsafe.Markup`` on purpose.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup


@functools.cache
def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("tradea3c.backtest", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )


def page(title: str, body: str | Sequence[str], css: str = "") -> str:
    """A whole page: ``title`` is text (escaped), ``body`` HTML fragments (trusted: built by us)."""
    parts = body if isinstance(body, str) else "".join(body)
    return _env().get_template("base.html.j2").render(title=title, css=Markup(css), body=Markup(parts))


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table of text cells (each escaped)."""
    macro = _env().get_template("macros.html.j2").module.table
    return str(macro([str(c) for c in header], [[str(c) for c in r] for r in rows]))


def png_base64(fig: Any) -> str:
    """A matplotlib figure as base64 PNG (for ``<img src='data:image/png;base64,...'>``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def figure(**kwargs: Any) -> Any:
    """A headless matplotlib Figure (Agg; no pyplot state), 90 dpi."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    return Figure(dpi=90, **kwargs)
