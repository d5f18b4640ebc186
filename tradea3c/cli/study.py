"""CLI: `tradea3c study` (thin: build a `StudySpec` from flags, call `run_study`, print and write)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tradea3c.cli._fail import fail
from tradea3c.cli.options import Address, Backend, Membership, OnExit


def _numbers(text: str, flag: str, kind: type = float) -> tuple:
    try:
        return tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise fail(f"{flag} {text!r}: give comma-separated numbers, e.g. 0,1,2") from None


def study(
    market: Annotated[
        str | None,
        typer.Option(
            help="Universe: dow30 | sp500 | nasdaq100 | cached | 'AAPL,MSFT,...' (default: the strategy's)."
        ),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Strategy name or TOML path (default: the built-in default).")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a strategy field (repeatable), e.g. --set a3c.lr=1e-3."),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="cross-sectional (one agent over the universe; learned better in the djia30 study) | "
            "per-ticker (one agent per ticker) | portfolio (one portfolio agent over the universe, "
            "against equal weight and the risk baselines)."
        ),
    ] = "cross-sectional",
    seeds: Annotated[str, typer.Option(help="Seeds, comma-separated.")] = "0,1,2",
    steps: Annotated[
        int | None, typer.Option(help="Training steps per run (default: the strategy's).")
    ] = None,
    train_end: Annotated[str | None, typer.Option(help="Last training date (ISO).")] = None,
    val_end: Annotated[str | None, typer.Option(help="Last validation date; the test range follows.")] = None,
    folds: Annotated[
        int,
        typer.Option(
            help="Anchored walk-forward folds instead of --train-end/--val-end (0 = the date split)."
        ),
    ] = 0,
    costs: Annotated[str, typer.Option(help="Cost sweep, flat bps per side.")] = "0,5,10,25",
    trials: Annotated[
        int,
        typer.Option(
            help="Configurations tried so far for this question (for the deflated Sharpe; >= seeds)."
        ),
    ] = 0,
    holdout: Annotated[
        float, typer.Option(help="cross-sectional: share of tickers held out of training.")
    ] = 0.2,
    backend: Backend = None,
    address: Address = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Cache folder.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Study folder (default: studies/<strategy>-<market>-<mode>).")
    ] = None,
    membership: Membership = None,
    on_exit: OnExit = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
) -> None:
    """Train a strategy on every ticker of a universe (per ticker or cross-sectionally), score each
    out of sample against buy-and-hold, rules and cash; table, study.json and study.html. Resumable."""
    from tradea3c.a3c.trainer import Terminated, terminate_as_interrupt
    from tradea3c.backtest import BacktestError
    from tradea3c.config import ConfigError, apply_overrides
    from tradea3c.data import DataError
    from tradea3c.experiment import load_strategy
    from tradea3c.experiment.choose import default_strategy, describe_choice
    from tradea3c.experiment.study import StudySpec, run_study
    from tradea3c.experiment.study_report import write_html

    if mode not in ("per-ticker", "cross-sectional", "portfolio"):
        raise fail(f"--mode {mode!r}: use per-ticker, cross-sectional or portfolio")
    seed_list, levels = _numbers(seeds, "--seeds", int), _numbers(costs, "--costs")
    if not seed_list:
        raise fail("--seeds is empty; give at least one seed, e.g. 0,1,2")
    if min(seed_list) < 0:
        raise fail(f"--seeds {seeds}: seeds must be >= 0, e.g. 0,1,2")
    flags = {
        "market.source": market,
        "market.data_dir": None if data_dir is None else str(data_dir),
        "market.membership": None if membership is None else str(membership),
        "market.on_exit": on_exit,
        "split.train_end": train_end,
        "split.val_end": val_end,
        "a3c.total_steps": steps,
        "a3c.backend": backend,
        "a3c.address": address,
    }
    sets = [f'{k}="{v}"' if isinstance(v, str) else f"{k}={v}" for k, v in flags.items() if v is not None]
    sigterm = None
    try:
        chosen = None
        if strategy:
            cfg = load_strategy(strategy)
        else:  # a portfolio study of several assets: the per-asset policy; per ticker: the default
            cfg, chosen = default_strategy(market if mode == "portfolio" else None, data_dir)
        cfg = apply_overrides(cfg, [*sets, *(overrides or [])])
        if chosen is not None and market is not None:
            typer.echo(describe_choice(market, chosen, cfg), err=True)
        if folds < 0 or (folds and (train_end or val_end)):
            raise ValueError(f"--folds {folds}: give folds >= 1 or --train-end/--val-end, not both")
        spec = StudySpec(cfg, mode, seed_list, levels, holdout, trials, folds)  # type: ignore[arg-type]
        folder = out or Path("studies") / f"{cfg.name}-{cfg.market.source.replace(',', '_')[:40]}-{mode}"
        started = False
        with terminate_as_interrupt() as sigterm:  # SIGTERM (timeout, SLURM) stops the study as Ctrl-C does
            if cfg.a3c.backend == "ray":  # one Ray connection (or local instance) for every run of the study
                from tradea3c.a3c.backends.ray import connect

                started = connect(cfg.a3c)
            try:
                res = run_study(spec, folder, progress=not quiet)
            finally:
                if started:
                    import ray

                    ray.shutdown()
    except (ConfigError, DataError, BacktestError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt as exc:  # finished runs are kept; the one in flight kept its latest.pt
        by_sigterm = isinstance(exc, Terminated) or getattr(sigterm, "raised", False)
        name, code = ("SIGTERM", 143) if by_sigterm else ("Ctrl-C", 130)
        raise fail(
            f"the study was interrupted ({name}); run the same command again to resume it", code=code
        ) from None
    html = write_html(res, folder / "study.html")
    print_study(res)
    typer.echo(f"study: {folder}/study.json, {html}")


def print_study(res) -> None:  # noqa: ANN001 - StudyResult, imported lazily
    from rich.console import Console
    from rich.table import Table

    agg = res.aggregate
    con = Console(stderr=False)
    if not agg:
        con.print("no ticker could be scored; see study.json 'skipped'")
        return
    con.print(ticker_table(res))
    t = Table(title=f"out of sample, after costs: {agg['n_tickers']} tickers")
    for c in ("", "mean Sharpe", "median Sharpe", "mean return"):
        t.add_column(c, justify="left" if not c else "right")
    for c, v in agg["mean_sharpe"].items():
        t.add_row(
            c, f"{v:.2f}", f"{agg['median_sharpe'][c]:.2f}", f"{100 * agg['mean_total_return'][c]:.1f}%"
        )
    con.print(t)
    for label in ("seen", "unseen"):
        if f"mean_sharpe_{label}" in agg:
            means = ", ".join(f"{k} {v:.2f}" for k, v in agg[f"mean_sharpe_{label}"].items())
            con.print(f"mean Sharpe on tickers {label} in training: {means}")
    for agent in ("policy", "ensemble"):
        wins = ", ".join(f"{k} {v}/{agg['n_tickers']}" for k, v in agg[f"{agent}_wins"].items())
        con.print(
            f"{agent} beats on Sharpe: {wins}; loses >20% while buy-and-hold gains: "
            f"{', '.join(agg[f'{agent}_big_losses']) or 'none'}"
        )
    if agg.get("significance"):
        from tradea3c.experiment.study_report import SIGNIFICANCE_HEADER, significance_rows

        g = Table(title="is the difference real? pooled across tickers (two-sided p-values)")
        for c in SIGNIFICANCE_HEADER:
            g.add_column(c, justify="left" if c in ("agent", "vs") else "right")
        for row in significance_rows(agg):
            g.add_row(*row)
        con.print(g)
        if agg.get("significance_left_out"):
            con.print(
                f"left out of the significance block (old scores): {', '.join(agg['significance_left_out'])}"
            )
    if res.dsr is not None:
        con.print(f"deflated Sharpe (N={res.dsr.n_trials}): {res.dsr.dsr:.3f}; PSR(0) {res.dsr.psr:.3f}")
    for k, why in res.skipped.items():
        con.print(f"[red]skipped[/] {k}: {why}")


def ticker_table(res) -> Any:  # noqa: ANN001 - StudyResult, imported lazily
    """One row per ticker: Sharpe of the policy (mean over seeds), the ensemble and each baseline;
    the ensemble's return, drawdown, turnover and costs paid against buy-and-hold's return."""
    from rich.table import Table

    from tradea3c.experiment.study import row_label

    cross = any(not r.seen for r in res.tickers)
    baselines = [c for c in res.tickers[0].curves if c not in ("ensemble", "cash")]
    t = Table(title="per ticker, out of sample (Sharpe; ensemble return / max DD / turnover / costs)")
    head = ["ticker", *(["seen"] if cross else []), "policy", "ensemble", *baselines]
    head += ["ens. return", "B&H return", "ens. max DD", "turnover", "costs"]
    for c in head:
        t.add_column(c, justify="left" if c in ("ticker", "seen") else "right")
    for r in res.tickers:
        e, bh = r.curves["ensemble"], r.curves["buy_and_hold"]
        name = row_label(r)
        policy = sum(s.sharpe for s in r.seeds) / len(r.seeds)
        t.add_row(
            name,
            *(["yes" if r.seen else "no"] if cross else []),
            *(f"{x:.2f}" for x in (policy, e.sharpe, *(r.curves[c].sharpe for c in baselines))),
            f"{100 * e.total_return:.1f}%",
            f"{100 * bh.total_return:.1f}%",
            f"{100 * e.max_drawdown:.1f}%",
            f"{e.turnover:.2f}",
            f"{100 * e.costs_paid:.2f}%",
        )
    return t
