"""The significance block: the Ledoit-Wolf Sharpe-difference test against the textbook iid formula,
its false-positive rate (iid and serially correlated data, HAC and bootstrap), the active
statistics, Hansen's SPA and the pooled tests across tickers."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import norm, ttest_rel

from tradea3c.atomic import json_safe
from tradea3c.backtest.significance import (
    active_stats,
    compare,
    pooled_test,
    sharpe_difference,
    spa_test,
)
from tradea3c.metrics import sharpe_ratio

COV = np.array([[1.0, 0.6], [0.6, 1.0]]) * 1e-4  # two daily return series, 1% vol, correlation 0.6


def pair(rng: np.random.Generator, n: int, mu_a: float, mu_b: float, phi: float = 0.0) -> np.ndarray:
    """(n, 2) correlated normal returns with means mu_a, mu_b; AR(1) with coefficient ``phi``."""
    e = rng.multivariate_normal([0.0, 0.0], COV, n + 200)
    if phi:
        e = lfilter([1.0], [1.0, -phi], e, axis=0) * math.sqrt(1 - phi * phi)
    return e[200:] + np.array([mu_a, mu_b])


def jobson_korkie_memmel(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(per-bar Sharpe difference, its standard error) by the iid-normal formula of Jobson & Korkie
    (1981) as corrected by Memmel (2003): T Var = 2 - 2 rho + (SR_a^2 + SR_b^2 - 2 SR_a SR_b rho^2) / 2."""
    t = len(a)
    sa, sb = a.mean() / a.std(), b.mean() / b.std()
    rho = np.corrcoef(a, b)[0, 1]
    var = (2 - 2 * rho + 0.5 * (sa**2 + sb**2 - 2 * sa * sb * rho**2)) / t
    return float(sa - sb), math.sqrt(var)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iid_hac_test_matches_the_jobson_korkie_memmel_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = pair(rng, 3000, 0.0006, 0.0002)  # a true daily Sharpe difference of 0.04
    a, b = z[:, 0], z[:, 1]
    d, se = jobson_korkie_memmel(a, b)
    p_jkm = 2 * norm.sf(abs(d / se))
    # bandwidth 0: Ledoit-Wolf's delta method without the HAC part is the iid formula (normal data)
    iid = sharpe_difference(a, b, periods_per_year=1.0, bandwidth=0.0)
    assert iid.diff == pytest.approx(sharpe_ratio(a, 1.0) - sharpe_ratio(b, 1.0))
    assert iid.diff == pytest.approx(d, rel=1e-3)
    assert iid.se == pytest.approx(se, rel=0.01)
    assert iid.p_value == pytest.approx(p_jkm, abs=0.005, rel=0.05)
    # the automatic-bandwidth HAC estimate: close on iid data (its kernel adds only noise)
    hac = sharpe_difference(a, b, periods_per_year=1.0)
    assert hac.method == "hac" and hac.n == 3000 and hac.bandwidth > 0
    assert 0.85 < hac.se / se < 1.15
    assert hac.p_value == pytest.approx(p_jkm, abs=0.03, rel=0.4)
    # annualising scales the difference and its error alike: the p-value does not move
    annual = sharpe_difference(a, b, periods_per_year=252.0)
    assert annual.diff == pytest.approx(hac.diff * math.sqrt(252))
    assert annual.se == pytest.approx(hac.se * math.sqrt(252))
    assert annual.p_value == pytest.approx(hac.p_value)


def test_a_planted_difference_is_found_by_both_methods() -> None:
    z = pair(np.random.default_rng(5), 750, 0.0015, 0.0)  # daily Sharpe 0.15 vs 0: 2.4 annualised
    a, b = z[:, 0], z[:, 1]
    for method in ("hac", "bootstrap"):
        sd = sharpe_difference(a, b, method=method)
        assert sd.diff > 1.5 and sd.p_value < 0.01, sd
        back = sharpe_difference(b, a, method=method)
        assert back.diff == pytest.approx(-sd.diff) and back.p_value == pytest.approx(sd.p_value, abs=0.01)
    boot = sharpe_difference(a, b, method="bootstrap", reps=199, seed=3)
    assert boot == sharpe_difference(a, b, method="bootstrap", reps=199, seed=3)  # reproducible
    assert boot.method == "bootstrap" and boot.bandwidth >= 1  # the block length


def _false_positive_rate(n_pairs: int, n_bars: int, seed: int, phi: float = 0.0, **kw: object) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(n_pairs):
        z = pair(rng, n_bars, 0.0005, 0.0005, phi)  # equal Sharpe ratios
        kw_i = {**kw, "seed": i} if kw.get("method") == "bootstrap" else kw
        hits += sharpe_difference(z[:, 0], z[:, 1], **kw_i).p_value < 0.05  # type: ignore[arg-type]
    return hits / n_pairs


def test_hac_false_positive_rate_is_about_alpha() -> None:
    """400 pairs with equal Sharpe ratios: about 5% rejected at 5% (binomial 99% band: 2%..9%)."""
    rate = _false_positive_rate(400, 500, seed=11)
    assert 0.02 <= rate <= 0.09, rate


def test_hac_keeps_its_rate_under_serial_correlation_where_the_iid_formula_does_not() -> None:
    """AR(1) returns (phi 0.5): the iid delta method underestimates the error and rejects far too
    often; the HAC one stays near 5%."""
    hac = _false_positive_rate(300, 500, seed=12, phi=0.5)
    iid = _false_positive_rate(300, 500, seed=12, phi=0.5, bandwidth=0.0)
    assert 0.02 <= hac <= 0.10, hac
    assert iid > 0.15, iid


def test_bootstrap_false_positive_rate_is_small() -> None:
    rate = _false_positive_rate(100, 400, seed=13, method="bootstrap", reps=299)
    assert rate <= 0.12, rate


def test_flat_legs_and_short_series() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(0.001, 0.01, 1000)
    cash = np.zeros(1000)
    # against cash the test is the one-sample Sharpe test: iid se sqrt((1 + SR^2 / 2) / T) (normal)
    sd = sharpe_difference(a, cash, periods_per_year=1.0, bandwidth=0.0)
    sr = a.mean() / a.std()
    assert sd.diff == pytest.approx(sharpe_ratio(a, 1.0)) and sd.sharpe_b == 0.0
    assert sd.se == pytest.approx(math.sqrt((1 + sr * sr / 2) / 1000), rel=0.02)
    both = compare(cash, cash)
    assert both.sharpe.p_value == 1.0 and both.active.p_value == 1.0 and both.sharpe.se == 0.0
    assert sharpe_difference(a, a).p_value == 1.0  # identical series: nothing to test
    short = compare(a[:5], a[:5] * 0.5)
    assert math.isnan(short.sharpe.p_value) and math.isnan(short.active.t_stat)
    data = json.loads(json.dumps(json_safe(short), allow_nan=False))
    assert data["sharpe"]["p_value"] is None and data["active"]["n"] == 5
    with pytest.raises(ValueError, match="aligned"):
        sharpe_difference(a, a[:-1])
    with pytest.raises(ValueError, match="method"):
        sharpe_difference(a, a, method="magic")  # type: ignore[arg-type]


def test_active_stats() -> None:
    rng = np.random.default_rng(4)
    b = rng.normal(0.0003, 0.01, 1000)
    a = b + rng.normal(0.0004, 0.002, 1000)  # a steady edge: 10% a year at 3.2% tracking error
    st = active_stats(a, b)
    d = a - b
    assert st.active_return == pytest.approx(d.mean() * 252)
    assert st.tracking_error == pytest.approx(d.std(ddof=1) * math.sqrt(252))
    assert st.information_ratio == pytest.approx(st.active_return / st.tracking_error)
    assert st.t_stat > 3 and st.p_value < 0.01 and st.n == 1000
    # iid active returns: the HAC t-stat is close to the plain one
    assert st.t_stat == pytest.approx(d.mean() / d.std() * math.sqrt(1000), rel=0.15)
    noise = active_stats(b + rng.normal(0.0, 0.002, 1000), b)
    assert noise.p_value > 0.05 and abs(noise.t_stat) < 2


def test_spa_rejects_only_when_a_candidate_beats_the_benchmark() -> None:
    rng = np.random.default_rng(3)
    n = 750
    bench = rng.normal(0.0003, 0.01, n)
    noise = {f"rule {i}": bench + rng.normal(-0.0001 * i, 0.005, n) for i in range(5)}
    none = spa_test(noise, bench, reps=500)
    assert none.p_value > 0.1 and none.better == [] and none.n_candidates == 5
    assert none.p_lower <= none.p_value <= none.p_upper
    star = {**noise, "agent": bench + rng.normal(0.0015, 0.005, n)}
    found = spa_test(star, bench, reps=500)
    assert found.p_value < 0.05 and found.better == ["agent"]
    assert found == spa_test(star, bench, reps=500)  # seeded: reproducible
    assert json.dumps(json_safe(found), allow_nan=False)
    with pytest.raises(ValueError):
        spa_test({}, bench)


def test_pooled_tests_across_tickers() -> None:
    rng = np.random.default_rng(8)
    edge = [(rng.normal(0.0015, 0.01, (3, 400)), rng.normal(0.0002, 0.01, 400)) for _ in range(8)]
    pooled = pooled_test(edge)
    # the paired test is scipy's ttest_rel of the agents' (mean over seeds) against the baselines' Sharpe
    agent = [np.mean([sharpe_ratio(r) for r in ag]) for ag, _ in edge]
    base = [sharpe_ratio(bs) for _, bs in edge]
    ref = ttest_rel(agent, base)
    assert pooled.n_pairs == 8 and pooled.mean_diff == pytest.approx(np.mean(agent) - np.mean(base))
    assert pooled.t_stat == pytest.approx(ref.statistic) and pooled.p_value == pytest.approx(ref.pvalue)
    assert pooled.p_value < 0.05
    # the portfolio test: equal weights over tickers (and seeds), on the bars
    port_a = np.mean([ag.mean(0) for ag, _ in edge], axis=0)
    port_b = np.mean([bs for _, bs in edge], axis=0)
    assert pooled.portfolio == sharpe_difference(port_a, port_b)
    assert pooled.portfolio.p_value < 0.01
    # no edge: each test rejects about 5% of 100 such universes at 5%
    nulls = [
        pooled_test([(rng.normal(0.0005, 0.01, 400), rng.normal(0.0005, 0.01, 400)) for _ in range(8)])
        for _ in range(100)
    ]
    assert np.mean([x.p_value < 0.05 for x in nulls]) <= 0.12
    assert np.mean([x.portfolio.p_value < 0.05 for x in nulls]) <= 0.12
    # different lengths are cut to the shortest; blocks (folds) are pooled within, then chained
    ragged = [
        (e[0][0][:n], e[1][:n]) for e, n in zip(edge, (400, 350, 300, 400, 400, 400, 400, 400), strict=True)
    ]
    assert pooled_test(ragged).portfolio.n == 300
    folds = pooled_test(ragged, blocks=[1, 1, 1, 2, 2, 2, 2, 2])
    assert folds.portfolio.n == 300 + 400 and folds.n_pairs == 8
    one = pooled_test(edge[:1])
    assert one.n_pairs == 1 and math.isnan(one.p_value) and np.isfinite(one.portfolio.p_value)
    with pytest.raises(ValueError, match="align"):
        pooled_test([(np.zeros(10), np.zeros(9))])


# --- wiring: the backtest report, the tear sheet, the CLI table, the study's aggregate ---------------


def test_backtest_report_tear_sheet_and_cli_show_the_block(
    tiny_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradea3c.backtest.report import significance_rows, tradea3c_section
    from tradea3c.backtest.runner import backtest_run
    from tradea3c.cli.backtest import print_report

    report = backtest_run(tiny_run, costs_bps=())
    names = [c.name for c in report.curves[1:]]
    assert list(report.significance) == names and "buy_and_hold" in names
    for c in report.curves[1:]:  # the policy's per-bar returns against each baseline's, same bars
        assert report.significance[c.name] == compare(
            report.policy.returns, c.returns, report.periods_per_year
        )
    data = json.loads(json.dumps(json_safe(report.to_json()), allow_nan=False))
    bh = data["significance"]["buy_and_hold"]
    m = report.metrics
    assert bh["sharpe"]["diff"] == pytest.approx(m["policy"].sharpe - m["buy_and_hold"].sharpe)
    assert bh["sharpe"]["method"] == "hac" and bh["active"]["n"] == len(report.policy.returns)
    rows = significance_rows(report)
    assert [r[0] for r in rows] == names
    section = tradea3c_section(report)
    assert "Significance against each baseline" in section
    assert all(html.escape(cell) in section for row in rows for cell in row)  # every cell, escaped
    monkeypatch.setenv("COLUMNS", "240")
    print_report(report)
    out = capsys.readouterr().out
    assert "significance against each baseline" in out
    assert all(cell in out for cell in rows[0])


def _stats(r: np.ndarray):  # noqa: ANN202 - a Stats of a return series (no trades)
    from tradea3c.metrics import summarize

    eq = np.concatenate([[1.0], np.cumprod(1 + r)])
    n = len(r)
    return summarize(eq, np.zeros(n), np.zeros(n), np.zeros(n, bool), np.ones(n, bool))


def _stored_score(rng: np.random.Generator, n: int, edge: float, new: bool = True) -> dict:
    """A study score as `scoring.score` caches it (``new=False``: as before per-bar returns were kept)."""
    from tradea3c.experiment.study import cash_stats

    bh = rng.normal(0.0004, 0.01, n)
    seeds = [bh + rng.normal(edge, 0.004, n) for _ in range(2)]
    ens = np.mean(seeds, axis=0)
    rule = bh * (rng.random(n) < 0.7)
    curves = {"ensemble": ens, "buy_and_hold": bh, "sma_50_200": rule}
    s = {
        "seeds": [_stats(x) for x in seeds],
        "curves": {**{k: _stats(v) for k, v in curves.items()}, "cash": cash_stats(n)},
        "sweep": {},
        "equity": {
            k: list(np.concatenate([[1.0], np.cumprod(1 + curves[k])])) for k in ("ensemble", "buy_and_hold")
        },
        "returns": [x.tolist() for x in seeds],
    }
    if new:
        s["curve_returns"] = {k: v.tolist() for k, v in curves.items()}
        s["periods_per_year"] = 252.0
    return json.loads(json.dumps(json_safe(s)))


def test_study_aggregate_pools_tickers_and_skips_old_scores(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradea3c.cli.study import print_study
    from tradea3c.experiment.study import StudyResult
    from tradea3c.experiment.study.aggregation import aggregate
    from tradea3c.experiment.study.scoring import ticker_row
    from tradea3c.experiment.study_report import build_html, significance_rows

    rng = np.random.default_rng(21)
    rows = [ticker_row(f"T{i}", True, _stored_score(rng, 300, 0.0008)) for i in range(4)]
    agg = aggregate(rows, ())
    sig = agg["significance"]
    assert set(sig) == {"ensemble", "policy"} and set(sig["ensemble"]) == {
        "buy_and_hold",
        "sma_50_200",
        "cash",
    }
    ens_bh = sig["ensemble"]["buy_and_hold"]
    pairs = [(r.curve_returns["ensemble"], r.curve_returns["buy_and_hold"]) for r in rows]
    assert ens_bh == pooled_test(pairs, 252.0)
    # the mean policy: per ticker the seeds' mean Sharpe, as the study's "policy" column
    pol_bh = sig["policy"]["buy_and_hold"]
    assert pol_bh.mean_diff == pytest.approx(
        agg["mean_sharpe"]["policy"] - agg["mean_sharpe"]["buy_and_hold"]
    )
    assert pol_bh.n_pairs == 4 and pol_bh.p_value < 0.05 and pol_bh.portfolio.p_value < 0.01
    assert sig["ensemble"]["cash"].portfolio.sharpe_b == 0.0  # cash: is the agent's Sharpe above 0?
    assert "significance_left_out" not in agg
    # a score cached before per-bar returns were kept loads, and only that row is left out
    old = ticker_row("OLD", True, _stored_score(rng, 300, 0.0008, new=False))
    assert old.curve_returns == {} and old.periods == 252.0
    mixed = aggregate([*rows, old], ())
    assert mixed["significance"]["ensemble"]["buy_and_hold"] == ens_bh
    assert mixed["significance_left_out"] == ["OLD"] and mixed["n_tickers"] == 5
    assert "significance" not in aggregate([old], ())
    # shown in the study page and the CLI's study output
    spec = {
        "strategy": {
            "name": "t",
            "split": {"train_end": "2001-01-01", "val_end": "2001-06-01"},
            "market": {"source": "synthetic"},
            "a3c": {"total_steps": 1},
        },
        "mode": "per-ticker",
        "seeds": [0, 1],
        "costs_bps": [],
        "folds": 0,
    }
    res = StudyResult(spec, [*rows, old], {}, mixed, None, [])
    assert json.dumps(res.to_json(), allow_nan=False)
    table = significance_rows(mixed)
    assert len(table) == 6 and table[0][:3] == ["ensemble", "buy_and_hold", "4"]
    page = build_html(res)
    assert "Is the difference real?" in page and "Left out" in page
    assert all(html.escape(cell) in page for row in table for cell in row)
    monkeypatch.setenv("COLUMNS", "240")
    print_study(res)
    out = capsys.readouterr().out
    assert "is the difference real?" in out and "left out of the significance block" in out
    assert all(cell in out for cell in table[0])
    old_only = StudyResult(spec, [old], {}, aggregate([old], ()), None, [])
    assert "Is the difference real?" not in build_html(old_only)
