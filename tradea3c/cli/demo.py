"""CLI: `tradea3c demo`, the offline quick start (for now: cache the demo market, print its summary)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Cache folder (default: $TRADEA3C_DATA or ./data/cache)."),
    ] = None,
) -> None:
    """Put the embedded demo market (GOOGL, gym-anytrading) into the cache and summarise it."""
    from rich.table import Table

    from tradea3c.cli.data import _console
    from tradea3c.data.demo import prepare_demo

    try:
        result = prepare_demo(data_dir)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    m = result.market
    summary = m.summary()
    table = Table(
        title=f"demo market ({m.source}, {'adjusted' if m.adjusted else 'unadjusted'}), fp {m.fingerprint}"
    )
    for col in ("ticker", "first", "last", "bars", "first close", "last close", "total return", "ann. vol"):
        table.add_column(col, justify="left" if col == "ticker" else "right")
    for t, row in summary.iterrows():
        table.add_row(
            str(t),
            str(row["first"]),
            str(row["last"]),
            str(row["bars"]),
            f"{row['first_close']:.2f}",
            f"{row['last_close']:.2f}",
            f"{row['total_return']:+.1%}",
            f"{row['ann_vol']:.1%}",
        )
    con = _console()
    con.print(table)
    c = result.cached
    con.print(f"cache {result.data_dir}: {c.ticker} {c.status} ({c.rows} rows; {c.detail})")
