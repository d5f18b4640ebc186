"""CLI: `tradea3c backtest` and `tradea3c walkforward` (thin wrappers over `tradea3c.backtest`).

``--json`` means the same in every command that has it: the command's data as JSON on stdout and
nothing else there (tables, progress and "wrote ..." lines go to stderr); a JSON *file* is
``--json-out PATH``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import fail

if TYPE_CHECKING:
    from typing import Any

    from tradea3c.backtest.results import BacktestReport

JSON_HELP = "Print the JSON to stdout (tables and messages go to stderr)."
JSON_OUT_HELP = "Also write the JSON to this file."


def _costs(text: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise fail(f"--costs {text!r}: give bps levels like 0,5,10,25") from None
    if not all(math.isfinite(v) for v in vals):
        raise fail(f"--costs {text!r}: cost levels must be finite bps, like 0,5,10,25")
    if any(v < 0 for v in vals):
        raise fail(f"--costs {text!r}: cost levels must be >= 0 bps")
    return vals


def check_output(path: Path | None, flag: str) -> None:
    """Refuse an output path that cannot be written (a folder, or below a file) before any work:
    one line naming the flag and the fix. A missing parent folder is fine (`write_outputs`
    creates it)."""
    if path is None:
        return
    if path.is_dir():
        example = path / ("report.html" if flag == "--html" else "metrics.json")
        raise fail(f"{flag} {path}: is a folder; pass a file path, e.g. {flag} {example}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise fail(f"{flag} {path}: {parent} is a file, not a folder; pass a path in a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise fail(f"{flag} {path}: the folder {parent} is not writable; pass a path in a writable folder")


def echo_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (NaN/inf as null, like the JSON files)."""
    import json

    from tradea3c.atomic import json_safe

    typer.echo(json.dumps(json_safe(data), indent=2, allow_nan=False, default=str))


def _json_path_given(runs: list[Path]) -> Path | None:
    """A missing ``*.json`` among the run arguments: the old ``--json PATH`` spelling."""
    return next((r for r in runs if r.suffix == ".json" and not r.exists()), None)


def print_report(report: BacktestReport, *, err: bool = False) -> None:
    """Policy vs baselines, the significance block, the cost sweep and the seed table as rich tables
    (on stderr if ``err``)."""
    from rich.console import Console
    from rich.table import Table

    from tradea3c.backtest.report import SHOWN, SIGNIFICANCE_HEADER, fmt, significance_rows

    con = Console(stderr=err)
    names = list(report.metrics)
    (d0, d1), colour = report.ranges["backtest"], "red" if report.label == "in-sample" else "green"
    t = Table(title=f"{report.strategy.get('name', '')}: {d0}..{d1} [{colour}]{report.label}[/]")
    t.add_column("metric")
    for n in names:
        t.add_column(n, justify="right")
    for k in SHOWN:  # the tear sheet's metric rows, same order
        t.add_row(k, *(fmt(k, getattr(report.metrics[n], k)) for n in names))
    con.print(t)
    if report.significance:  # the tear sheet's significance block, same columns
        g = Table(title="significance against each baseline (Ledoit-Wolf HAC; active = policy - baseline)")
        for c in SIGNIFICANCE_HEADER:
            g.add_column(c, justify="left" if c == "baseline" else "right")
        for row in significance_rows(report):
            g.add_row(*row)
        con.print(g)
    if report.members:
        con.print(f"policy = {report.checkpoint}")
    if report.cost_sweep:
        pol, bench = names[0], names[1]
        s = Table(title="cost sweep (flat bps per side)")
        for c in ("bps", f"{pol} return", f"{pol} Sharpe", f"{bench} return", f"{bench} Sharpe"):
            s.add_column(c, justify="right")
        for level in report.cost_sweep:
            p, b = level.metrics[pol], level.metrics[bench]
            s.add_row(
                f"{level.cost_bps:g}",
                fmt("total_return", p.total_return),
                fmt("sharpe", p.sharpe),
                fmt("total_return", b.total_return),
                fmt("sharpe", b.sharpe),
            )
        con.print(s)
    seeds = report.seeds
    if len(seeds.runs) > 1:
        sh, tr = seeds.summary["sharpe"], seeds.summary["total_return"]
        con.print(
            f"seeds: {len(seeds.runs)} runs, Sharpe {sh.mean:.2f} ± {sh.std:.2f}, "
            f"return {fmt('total_return', tr.mean)} ± {fmt('total_return', tr.std)}"
        )
    d = seeds.dsr
    tuned = (report.strategy.get("tuning") or {}).get("trials")
    source = ", from the tuning" if tuned and d.n_trials == max(tuned, len(seeds.runs)) else ""
    con.print(f"deflated Sharpe (N={d.n_trials} trials{source}): {d.dsr:.3f}; PSR(0) {d.psr:.3f}")
    if report.pbo is not None:
        b = report.pbo
        con.print(
            f"probability of backtest overfitting (CSCV, {len(b.candidates)} candidates, "
            f"{b.n_combinations} splits): {b.pbo:.3f}"
        )
    con.print(f"annualised with {report.periods_per_year:g} bars a year ({report.interval} bars)")
    for w in report.warnings:
        con.print(f"[red]warning:[/] {w}")


def write_outputs(report: BacktestReport, html: Path | None, json_out: Path | None) -> None:
    """The files a backtest asked for: metrics JSON and the HTML tear sheet with its trade blotter
    beside it (``NAME.trades.csv``), each atomic."""
    if json_out is not None:
        from tradea3c.backtest.results import write_json

        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_json(report, json_out)
    if html is not None:
        from tradea3c.backtest.report import write_html

        html.parent.mkdir(parents=True, exist_ok=True)
        write_html(report, html)


def backtest(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directory (uses best.pt) or checkpoint; several = seeds.")
    ],
    start: Annotated[
        str | None, typer.Option(help="First date (base bar; default: the checkpoint's val_end).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last date (default: end of the data).")] = None,
    costs: Annotated[
        str, typer.Option(help="Cost sweep, flat bps per side replacing the strategy's costs.")
    ] = "0,5,10,25",
    html: Annotated[
        Path | None,
        typer.Option(help="Write the HTML tear sheet here (and its trade blotter as NAME.trades.csv)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Write every number shown to this JSON file.")
    ] = None,
    allow_in_sample: Annotated[
        bool, typer.Option("--allow-in-sample", help="Allow dates up to val_end (labelled in-sample).")
    ] = False,
    sampled: Annotated[
        bool, typer.Option("--sampled", help="Sample actions instead of the greedy policy.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the sampled policy.")] = 0,
    trials: Annotated[
        int | None,
        typer.Option(
            help="Configurations tried, for the DSR (default: the trials of the run's `tradea3c tune` "
            "search, else the number of runs)."
        ),
    ] = None,
    ensemble: Annotated[
        bool,
        typer.Option(
            "--ensemble",
            help="Average the runs (2+ seeds or folds) into one policy (value-based runs: their "
            "Q-values); the seeds table lists each.",
        ),
    ] = False,
    vote: Annotated[
        bool,
        typer.Option("--vote", help="With --ensemble: each run's greedy action is one vote."),
    ] = False,
    ticker: Annotated[
        str | None,
        typer.Option(help="Score a one-asset policy on this ticker alone (e.g. a cross-sectional agent)."),
    ] = None,
) -> None:
    """Backtest a checkpoint out of sample against buy-and-hold and rule baselines, costs included."""
    from tradea3c.backtest import BacktestError, backtest_run
    from tradea3c.config import ConfigError

    old = _json_path_given(runs)
    if old is not None:
        raise fail(
            f"{old}: not a run; --json no longer takes a path (it prints the JSON to stdout): "
            f"use --json-out {old}"
        )
    levels = _costs(costs)
    if trials is not None and trials < 0:
        raise fail(
            f"--trials {trials}: the number of configurations tried is >= 1 (0 or left out: the "
            "number of runs)"
        )
    check_output(html, "--html")
    check_output(json_out, "--json-out")
    try:
        report = backtest_run(
            runs,
            start,
            end,
            costs_bps=levels,
            allow_in_sample=allow_in_sample,
            greedy=not sampled,
            seed=seed,
            n_trials=trials,
            ensemble=ensemble,
            ticker=ticker,
            vote=vote,
        )
    except (BacktestError, ConfigError) as exc:
        raise fail(str(exc)) from None
    write_outputs(report, html, json_out)
    print_report(report, err=as_json)
    if html is not None:
        from tradea3c.backtest.blotter import blotter_path

        typer.echo(f"wrote {html} and {blotter_path(html)}", err=as_json)
    if json_out is not None:
        typer.echo(f"wrote {json_out}", err=as_json)
    if as_json:
        echo_json(report.to_json())


def walkforward(
    strategy: Annotated[
        str | None,
        typer.Option(help="Strategy name (strategies/NAME.toml, yours or shipped) or TOML path."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a strategy field, e.g. --set a3c.lr=3e-4 (repeatable)."),
    ] = None,
    folds: Annotated[int, typer.Option(help="Number of test folds.")] = 3,
    rolling: Annotated[
        bool, typer.Option("--rolling", help="Train on the previous block only (default: anchored).")
    ] = False,
    steps: Annotated[
        int | None, typer.Option(help="Training steps per fold (default: the strategy's).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the fold runs (default: runs/wf-<name>-<time>).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Write per-fold and overall metrics to this file.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Write the results page here (default: beside --json-out as NAME.html, else "
            "OUT/walkforward.html)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
) -> None:
    """Anchored/rolling walk-forward: train on each fold's past, test on its future, chain the tests."""
    import time

    from rich.console import Console
    from rich.table import Table

    from tradea3c.atomic import atomic_write_text
    from tradea3c.backtest.engine import BacktestError
    from tradea3c.backtest.provenance import provenance
    from tradea3c.backtest.report import fmt, walkforward_html
    from tradea3c.config import ConfigError, apply_overrides
    from tradea3c.data import DataError
    from tradea3c.experiment import StrategyConfig, load_strategy
    from tradea3c.experiment.walkforward import walkforward as run_wf

    check_output(json_out, "--json-out")
    check_output(html, "--html")
    try:
        cfg = apply_overrides(load_strategy(strategy) if strategy else StrategyConfig(), overrides or [])
        out = out or Path("runs") / f"wf-{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        rep = run_wf(
            cfg, out, folds=folds, anchored=not rolling, steps=steps, progress=not quiet, json_path=json_out
        )
    except (BacktestError, ConfigError, DataError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    t = Table(title=f"walk-forward ({'anchored' if rep.anchored else 'rolling'}), runs in {out}")
    for c in (
        "fold",
        "test",
        "return",
        "Sharpe",
        "max DD",
        f"{rep.benchmark.name} return",
        f"{rep.benchmark.name} Sharpe",
    ):
        t.add_column(c, justify="right")
    rows = [(str(f.fold), f"{f.test[0]}..{f.test[1]}", f.policy, f.benchmark) for f in rep.folds]
    rows.append(("all", "chained", rep.overall["policy"], rep.overall[rep.benchmark.name]))
    for fold, test, p, b in rows:
        t.add_row(
            fold,
            test,
            fmt("total_return", p.total_return),
            fmt("sharpe", p.sharpe),
            fmt("max_drawdown", p.max_drawdown),
            fmt("total_return", b.total_return),
            fmt("sharpe", b.sharpe),
        )
    Console(stderr=as_json).print(t)
    html = html or (json_out.with_suffix(".html") if json_out is not None else out / "walkforward.html")
    page = walkforward_html(
        rep.folds,
        rep.overall,
        rep.policy,
        rep.benchmark,
        anchored=rep.anchored,
        title=cfg.name,
        provenance=provenance(out, rep.fingerprint),
    )
    atomic_write_text(html, page)
    for p in (json_out, html):
        if p is not None:
            typer.echo(f"wrote {p}", err=as_json)
    if as_json:
        echo_json(rep.to_json())
