"""CLI: `tradea3c fetch`, `tradea3c data list`, `tradea3c data validate`.

Each command is a thin wrapper over `tradea3c.data`; user errors (`DataError`) become one line on
stderr and exit code 2 (a file given as --data-dir, a full disk while writing the cache). Fetch exit
codes: 0 when at least one ticker is usable, 1 when nothing could be fetched or imported; every
ticker or file that failed also gets one line on stderr. An unreadable cache file is a row of
`data list` and a refused finding of `data validate` (which then exits 1), never skipped silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import fail

if TYPE_CHECKING:
    from tradea3c.data.errors import Finding
    from tradea3c.data.fetch import FetchReport

data_app = typer.Typer(no_args_is_help=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Cache folder (default: $TRADEA3C_DATA or ./data/cache).")
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help="--from-csv: the prices' decimal mark, '.' (20.45) or ',' (20,45; '.' then groups thousands). "
        "Default: read from the values; a file where that is ambiguous is refused.",
    ),
]
SHOW_FINDINGS = 25


def _console():  # noqa: ANN202 - rich imported lazily
    from rich.console import Console

    con = Console()
    if not con.is_terminal:  # pipes and CI get 80 columns by default: too narrow for dates + details
        con.width = 160
    return con


def print_findings(findings: list[Finding], limit: int = SHOW_FINDINGS) -> None:
    """Findings as lines (ticker, date, check, action, detail), the first ``limit`` of them."""
    from collections import Counter

    if not findings:
        return
    counts = Counter(f.action for f in findings)
    typer.echo(
        f"validation: {len(findings)} findings (" + ", ".join(f"{n} {a}" for a, n in counts.items()) + ")"
    )
    for f in findings[:limit]:
        typer.echo(f"  {f}")
    if len(findings) > limit:
        typer.echo(f"  ... {len(findings) - limit} more (see `tradea3c data validate`)")


def print_summary(report: FetchReport, title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("ticker", "status", "rows", "added", "detail"):
        table.add_column(col, justify="right" if col in ("rows", "added") else "left", overflow="fold")
    style = {"fetched": "green", "up to date": "cyan", "failed": "red"}
    for r in report.results:
        table.add_row(r.ticker, f"[{style[r.status]}]{r.status}[/]", str(r.rows), str(r.added), r.detail)
    con = _console()
    con.print(table)
    counts = {s: report.count(s) for s in ("fetched", "up to date", "failed")}  # type: ignore[arg-type]
    con.print(", ".join(f"{k} {v}" for k, v in counts.items()))


def fetch(
    tickers: Annotated[list[str] | None, typer.Argument(help="Yahoo symbols, e.g. AAPL MSFT BRK-B.")] = None,
    market: Annotated[
        str | None,
        typer.Option("--market", "-m", help="demo | sp500 | dow30 | nasdaq100 (a whole universe)."),
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option("--from-csv", help="Import a folder of per-ticker CSVs (or one long CSV), offline."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="--from-csv: overwrite cached tickers instead of merging by date (the file wins).",
        ),
    ] = False,
    start: Annotated[str | None, typer.Option(help="First date, YYYY-MM-DD (default: full history).")] = None,
    end: Annotated[str | None, typer.Option(help="End date, YYYY-MM-DD, exclusive (default: today).")] = None,
    interval: Annotated[
        str,
        typer.Option(
            help="Bar size: 1d (daily) or intraday 1h, 30m, 15m, 5m, 1m (cached in <data-dir>/<interval>/; "
            "Yahoo serves 1h for 730 days back, 30m-5m for 60, 1m for 30)."
        ),
    ] = "1d",
    adjust: Annotated[
        bool, typer.Option("--adjust/--no-adjust", help="Split- and dividend-adjusted prices.")
    ] = True,
    retries: Annotated[int, typer.Option(help="Retries per ticker on rate limits / transient errors.")] = 3,
    max_tickers: Annotated[int | None, typer.Option(help="Only the first N tickers of --market.")] = None,
    membership: Annotated[
        str | None,
        typer.Option(
            "--membership",
            help="--market members: pit (point-in-time, default for sp500) | today (today's list) | "
            "FILE (CSV ticker,start,end; alone: the file's members). Members of [--start, --end).",
        ),
    ] = None,
    decimal: DecimalOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Download OHLCV bars into the cache (incremental), or import CSVs / the demo market.

    ``--market sp500`` fetches every ticker that was an S&P 500 member at any time in the range
    (point-in-time, pitindex), not only today's members. ``--interval 1h`` (30m, 15m, 5m, 1m):
    intraday bars, regular session only, in ``<data-dir>/<interval>/``."""
    from tradea3c.data import cache
    from tradea3c.data.csv_import import check_decimal
    from tradea3c.data.demo import cache_demo
    from tradea3c.data.errors import DataError
    from tradea3c.data.fetch import FetchReport, import_csv
    from tradea3c.data.intraday import cache_dir, check_interval

    sources = sum(x is not None and x != [] for x in (tickers or None, market, from_csv))
    if membership is not None and (tickers or from_csv is not None):
        raise fail("--membership picks the members of --market NAME (or alone, of the file); drop TICKERS")
    if sources != 1 and not (sources == 0 and membership is not None):
        raise fail(
            "give exactly one of: TICKERS, --market NAME, --from-csv DIR (e.g. `tradea3c fetch AAPL MSFT`)"
        )
    if decimal is not None and from_csv is None:
        raise fail(f"--decimal {decimal} applies to --from-csv files only; drop it")
    try:
        check_decimal(decimal)
        check_interval(interval)
        if interval != "1d" and market is not None and market.strip().lower() == "demo":
            raise DataError(f"the demo market holds daily bars only; drop --interval {interval}")
        ddir = cache.resolve_data_dir(data_dir)
        shown = cache_dir(ddir, interval)
        if from_csv is not None:
            report = import_csv(from_csv, data_dir=ddir, replace=replace, decimal=decimal, interval=interval)
            used = sorted({r.columns for r in report.results if r.columns})
            for u in used:
                typer.echo(f"columns used: {u}")
            print_summary(report, f"CSV import {from_csv} -> {shown}")
            print_findings(report.findings)
            for r in report.results:  # one line per refused file or ticker (the table folds long ones)
                if r.status == "failed":
                    typer.echo(r.detail if r.ticker in r.detail else f"{r.ticker}: {r.detail}", err=True)
        elif market is not None and market.strip().lower() == "demo":
            report = FetchReport([cache_demo(ddir)])
            print_summary(report, f"demo market -> {ddir}")
        else:
            names = list(tickers or [])
            if market is not None or membership is not None:
                from tradea3c.data.fetch import universe_fetch_list
                from tradea3c.data.membership import survivorship_note

                names, how, pit = universe_fetch_list(market, start=start, end=end, membership=membership)
                names = names[:max_tickers] if max_tickers else names
                label = market or membership
                typer.echo(f"{label}: {len(names)} tickers from {how}")
                if not pit:
                    typer.echo(survivorship_note(str(label), how), err=True)
            report = _fetch_with_progress(names, ddir, start, end, interval, adjust, retries)
            print_summary(report, f"yfinance -> {shown} ({'adjusted' if adjust else 'unadjusted'} prices)")
            print_findings(report.findings)
            for r in report.results:
                if r.status == "failed":
                    typer.echo(f"{r.ticker}: {r.detail}", err=True)
    except DataError as exc:
        raise fail(str(exc)) from None
    if not report.ok:
        raise typer.Exit(1)


def _fetch_with_progress(
    names: list[str],
    ddir: Path,
    start: str | None,
    end: str | None,
    interval: str,
    adjust: bool,
    retries: int,
) -> FetchReport:
    """`fetch_tickers` under a rich progress bar over tickers (inactive when not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tradea3c.data.fetch import fetch_tickers

    con = _console()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=True,
        disable=not con.is_terminal,
    ) as progress:
        task = progress.add_task("fetching", total=len(names))

        def on_result(res) -> None:  # noqa: ANN001
            progress.update(task, advance=1, description=f"{res.ticker}: {res.status}")

        def on_retry(ticker: str, attempt: int, delay: float, exc: Exception) -> None:
            progress.console.print(f"{ticker}: {exc} - retry {attempt} in {delay:.1f}s")

        return fetch_tickers(
            names,
            data_dir=ddir,
            start=start,
            end=end,
            interval=interval,
            adjusted=adjust,
            retries=retries,
            on_result=on_result,
            on_retry=on_retry,
        )


@data_app.command("list")
def list_cmd(
    data_dir: DataDirOpt = None,
    interval: Annotated[
        str, typer.Option(help="Bar size: 1d, or intraday 1h, 30m, 15m, 5m, 1m (<data-dir>/<interval>/).")
    ] = "1d",
) -> None:
    """Show what is cached: ticker, date range, rows, source, adjusted, fetched at."""
    from rich.table import Table

    from tradea3c.data import cache
    from tradea3c.data.errors import DataError
    from tradea3c.data.intraday import cache_dir

    try:
        ddir = cache_dir(cache.resolve_data_dir(data_dir), interval)
    except DataError as exc:
        raise fail(str(exc)) from None
    metas, unreadable = cache.scan_cache(ddir)
    if not metas and not unreadable:
        typer.echo(f"cache {ddir} is empty; run `tradea3c fetch AAPL`, `--from-csv DIR` or `--market demo`")
        return
    table = Table(title=f"cache {ddir}")
    for col in ("ticker", "first", "last", "rows", "source", "adjusted", "fetched at"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    rows = [(m.ticker, m) for m in metas] + [(p.name.removesuffix(".parquet"), None) for p in unreadable]
    for t, m in sorted(rows, key=lambda r: f"{r[0]}.parquet"):
        if m is None:
            table.add_row(t, "-", "-", "-", "[red]unreadable[/]", "-", "-")
        else:
            table.add_row(
                t, m.first, m.last, str(m.rows), m.source, "yes" if m.adjusted else "no", m.fetched_at
            )
    con = _console()
    con.print(table)
    con.print(f"{len(metas)} tickers, {sum(m.rows for m in metas)} rows")
    for message in unreadable.values():  # plain lines: a message must not be folded by the table
        typer.echo(message)


@data_app.command("validate")
def validate_cmd(
    tickers: Annotated[list[str] | None, typer.Argument(help="Cached tickers (default: all cached).")] = None,
    from_csv: Annotated[
        Path | None, typer.Option("--from-csv", help="Validate CSVs instead of the cache.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Findings to print.")] = 50,
    interval: Annotated[
        str, typer.Option(help="Bar size: 1d, or intraday 1h, 30m, 15m, 5m, 1m (<data-dir>/<interval>/).")
    ] = "1d",
    decimal: DecimalOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Validate cached (or CSV) data as a load would, and report every finding and the aligned panel."""
    from tradea3c.data import cache
    from tradea3c.data.csv_import import decimal_mark
    from tradea3c.data.errors import DataError
    from tradea3c.data.load import load_csv_market_with_report, load_market_with_report

    if decimal is not None and from_csv is None:
        raise fail(
            f"--decimal {decimal} applies to --from-csv files only; drop it (the cache stores numbers)"
        )
    try:
        if from_csv is not None:
            with decimal_mark(decimal):  # every file read by the load below
                market, report = load_csv_market_with_report(from_csv, tickers or None, interval=interval)
            for cols in sorted(set(report.columns.values())):
                typer.echo(f"columns used: {cols}")
        else:
            ddir = cache.resolve_data_dir(data_dir)
            market, report = load_market_with_report(
                tickers or "cached", data_dir=ddir, skip_unreadable=True, interval=interval
            )
    except DataError as exc:
        raise fail(str(exc)) from None
    print_findings(report.findings, limit)
    typer.echo(f"ok: {market!r}")
    if any(f.action == "refused" for f in report.findings):
        raise typer.Exit(1)
