"""Halts inside a listing (issue 25): a member with no bar on a trading day between its first and
last bar is halted there -- not tradable, marked at its last price -- rather than tradable at the
previous close."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradea3c.data.align import align_frames, align_panel
from tradea3c.data.market import Market, synthetic_market

BASE = synthetic_market(60, 2, seed=3)
HALT = 30  # bar on which SYN1 has no bar


def _frames() -> dict[str, pd.DataFrame]:
    a, b = BASE.frame("SYN0"), BASE.frame("SYN1")
    return {"SYN0": a, "SYN1": b.drop(b.index[HALT])}


def test_align_panel_marks_the_gap_halted_and_not_tradable() -> None:
    panel, findings = align_panel(_frames())
    assert panel.halted is not None
    expect = np.zeros((60, 2), dtype=bool)
    expect[HALT, 1] = True
    assert (panel.halted == expect).all()
    assert panel.tradable[:, 0].all() and panel.tradable[:, 1].all()  # listed: the span has no hole
    prev = BASE.close[HALT - 1, 1]  # flat at the previous close, volume 0
    for f in ("open", "high", "low", "close"):
        assert panel.bars[f][HALT, 1] == prev
    assert panel.bars["volume"][HALT, 1] == 0.0
    assert [f.check for f in findings if f.ticker == "SYN1"] == ["missing-day"]
    m = Market(panel.tickers, panel.dates.to_numpy(), **panel.bars, halted=panel.halted)
    assert m.tradable is not None and not m.tradable[HALT, 1] and m.tradable.sum() == 119
    assert m.halted is not None and m.halted[HALT, 1] and m.halted.sum() == 1
    assert m.listed_span(1) == (0, 59)  # a halt is inside the listing, not an end of it


def test_align_frames_and_from_frames_keep_the_halt() -> None:
    frames, _ = align_frames(_frames())
    assert "halted" in frames["SYN1"].columns and "halted" not in frames["SYN0"].columns
    m = Market.from_frames(frames)
    assert m.halted is not None and m.halted[HALT, 1] and not m.tradable_mask[HALT, 1]


def test_halt_mask_survives_selection_and_changes_the_fingerprint() -> None:
    halted = np.zeros((60, 2), dtype=bool)
    halted[HALT, 1] = True
    m = Market(
        BASE.tickers, BASE.dates, BASE.open, BASE.high, BASE.low, BASE.close, BASE.volume, halted=halted
    )
    assert m.fingerprint != BASE.fingerprint
    assert m.take(slice(20, 40)).halted[HALT - 20, 0] == False  # noqa: E712
    assert m.take(slice(20, 40)).halted[HALT - 20, 1]
    assert m.select("SYN1").halted[HALT, 0] and m.select("SYN0").halted is None
    member = np.ones((60, 2), dtype=bool)
    assert m.with_membership(member).halted[HALT, 1]
    assert (
        Market(
            BASE.tickers,
            BASE.dates,
            BASE.open,
            BASE.high,
            BASE.low,
            BASE.close,
            BASE.volume,
            halted=np.zeros((60, 2), dtype=bool),
        ).halted
        is None
    )


def test_build_market_masks_halts() -> None:
    from tradea3c.data.load import build_market

    m, _ = build_market(_frames(), source="s", adjusted=True, name="h")
    assert m.halted is not None and m.halted[HALT, 1] and not m.tradable_mask[HALT, 1]
