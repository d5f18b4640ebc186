"""CLI: `tradea3c demo`, the offline quick start: cache the demo market, summarise it, train A3C
briefly on it (the built-in default strategy with a smaller step budget), then backtest the best
checkpoint out of sample against the baselines and write an HTML tear sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradea3c.cli._fail import fail


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Cache folder (default: $TRADEA3C_DATA or ./data/cache)."),
    ] = None,
    steps: Annotated[int, typer.Option(help="A3C training steps (0 = only fetch and summarise).")] = 40_000,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/demo-<time>).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress display.")] = False,
) -> None:
    """Cache the demo market (GOOGL, gym-anytrading), train A3C briefly, backtest it, write a tear sheet."""
    from rich.table import Table

    from tradea3c.cli.data import _console
    from tradea3c.data.demo import prepare_demo

    try:
        result = prepare_demo(data_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
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
    if steps <= 0:
        return
    from tradea3c.cli.train import print_result
    from tradea3c.config import apply_overrides
    from tradea3c.experiment import StrategyConfig, train_strategy
    from tradea3c.experiment.train import default_run_dir

    demo_settings = ["name=demo", f"a3c.total_steps={steps}", f"a3c.eval_every={max(steps // 4, 1)}"]
    cfg = apply_overrides(StrategyConfig(), demo_settings)
    run_dir = out or default_run_dir(cfg)
    con.print(f"training A3C on the demo market: {steps:,} steps, {cfg.a3c.num_workers} workers -> {run_dir}")
    try:
        result = train_strategy(cfg, run_dir, progress=not quiet, market=m)
    except ValueError as exc:  # e.g. --out holding a run already, or in use by another process
        raise fail(str(exc)) from None
    print_result(result)

    from tradea3c.backtest import backtest_run
    from tradea3c.cli.backtest import print_report, write_outputs

    html, metrics = Path(run_dir) / "tearsheet.html", Path(run_dir) / "metrics.json"
    con.print(f"backtesting {run_dir} on the test range (after the validation end), costs 0/5/10/25 bps")
    report = backtest_run(run_dir, market=m)
    write_outputs(report, html, metrics)
    print_report(report)
    con.print(f"tear sheet: {html}\nmetrics:    {metrics}")
