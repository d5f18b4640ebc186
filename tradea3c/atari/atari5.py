"""Atari-5: estimate the 57-game median human-normalised score from five games.

Aitchison, Sweetser and Hutter, "Atari-5: Distilling the Arcade Learning Environment down to Five
Games", ICML 2023 (PMLR 202:421-438, arXiv:2210.02019). They fitted a linear regression, without
intercept, from the log human-normalised scores of five games to the log of the 57-game median
human-normalised score, over published results of 40-odd algorithms (paperswithcode + papers)::

    log10(1 + M) = sum_g  w_g * log10(1 + max(h_g, 0))

with ``h_g`` the human-normalised score of game ``g`` and ``M`` the 57-game median, both in
PERCENT (100 = human; the transform is not scale-free, so fractions must be converted first).
Negative normalised scores count as 0. The abstract's claim: estimates "within 10% of their true
values".

Sources (read in the authors' public repositories; the paper's own coefficient table could not be
read from here, so the numbers come from the authors' code):

* Coefficients and error: ``maitchison/PPO``, ``tools/plot_util.py`` (commit ``01210ae6``; also
  ``plot_util.py``), ``AtariScoreNormalizer.SUBSETS["Atari_5"]`` =
  (BattleZone 0.3819751237831753, DoubleDunk 0.0679099488887574, NameThisGame 0.310804148620847,
  Phoenix 0.12412619402774641, Qbert 0.08048518286466755; relative error 10.4).
* Transform, no intercept and the meaning of "relative error": ``maitchison/Atari-5``, ``atari5.py``
  (commit ``118cad54``): ``transform(x) = log10(1 + clip(x, 0, inf))``, ``USE_INTERCEPT = False``,
  regression target ``transform(median of the 57 normalised scores)``, and the printed error
  ``cv_mae * ln(10) * 100``: the 10-fold cross-validated mean absolute error of ``log10(1 + M)``,
  expressed as an approximate relative error. 10.4 means the estimate of ``1 + M`` is typically
  (on average, not at most) within about 10.4% of the true value; `Atari5Estimate.low` /
  ``high`` are that band, ``(1 + M) * exp(+-0.104) - 1``, not a confidence interval.
* Normalisation: the regression was fitted on scores normalised with the ``Random`` / ``Human``
  columns of the authors' ``Atari-Human.csv`` (``maitchison/PPO``, commit ``22eb7fd6``; the rows of
  ``maitchison/Atari-5`` ``dataset.csv`` carry the same numbers, e.g. Qbert 163.88 / 13455.0). These
  are the later 57-game human scores (Wang et al. 2016), NOT the DQN Nature 2015 humans our
  benchmark table uses (e.g. NameThisGame human 8049 vs 4076), so `normalize` uses them.

Worked check (``tests/atari/test_atari5.py``): Rainbow's no-op scores from ``maitchison/Atari-5``
``RAINBOW (fixed).csv`` (BattleZone 62010, DoubleDunk -0.3, NameThisGame 13136, Phoenix 108528.6,
Qbert 33817.5) give an estimate of 225.1% against a true median of 227.0% over the 56 games in
that file; over its seven algorithms the mean error is 6.9%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradea3c.atari.reference_scores import ATARI5, human_normalized, paper_median, ref_value

GAMES = ATARI5
COEFFICIENTS: dict[str, float] = {
    "BattleZone": 0.3819751237831753,
    "DoubleDunk": 0.0679099488887574,
    "NameThisGame": 0.310804148620847,
    "Phoenix": 0.12412619402774641,
    "Qbert": 0.08048518286466755,
}
RELATIVE_ERROR = 0.104  # 10-fold CV mean absolute error of log10(1 + M), times ln(10)
NORMALISATION: dict[str, tuple[float, float]] = {  # (random, human), Atari-Human.csv
    "BattleZone": (2360.0, 37187.5),
    "DoubleDunk": (-18.55, -16.4),
    "NameThisGame": (2292.35, 8049.0),
    "Phoenix": (761.4, 7242.6),
    "Qbert": (163.88, 13455.0),
}
KINDS = ("raw", "fraction", "percent")


def _canonical(game: str) -> str | None:
    key = game.replace("_", "").replace(" ", "").lower()
    return next((g for g in GAMES if g.lower() == key), None)


def normalize(game: str, score: float) -> float:
    """Human-normalised score of one of the five games as a fraction (1.0 = human), with the
    random/human scores the Atari-5 regression was fitted with."""
    name = _canonical(game)
    if name is None:
        raise ValueError(f"{game!r} is not an Atari-5 game ({', '.join(GAMES)})")
    rnd, hum = NORMALISATION[name]
    return (float(score) - rnd) / (hum - rnd)


def missing(games: Iterable[str]) -> list[str]:
    """The Atari-5 games not among ``games`` (any spelling: ``battle_zone``, ``BattleZone``)."""
    have = {_canonical(g) for g in games}
    return [g for g in GAMES if g not in have]


@dataclass(frozen=True)
class Atari5Estimate:
    """Estimated 57-game median human-normalised score; fractions (1.0 = human)."""

    median: float
    low: float
    high: float
    normalized: dict[str, float] = field(default_factory=dict)
    """Per-game human-normalised score (fraction) that went into the estimate."""
    relative_error: float = RELATIVE_ERROR

    def describe(self) -> str:
        return (
            f"{100 * self.median:.1f}% (typical error band {100 * self.low:.1f}%-{100 * self.high:.1f}%, "
            f"+-{100 * self.relative_error:.1f}% relative)"
        )


def estimate_median(scores: Mapping[str, float], kind: str = "raw") -> Atari5Estimate:
    """Atari-5 estimate of the 57-game median human-normalised score.

    ``scores`` maps the five games (any spelling) to their scores; other games are ignored.
    ``kind``: ``"raw"`` game scores (normalised here with `NORMALISATION`), or already
    human-normalised scores as a ``"fraction"`` (1.0 = human) or in ``"percent"`` (100 = human);
    normalised inputs must use the same random/human table to match the fit. Raises ``ValueError``
    naming the missing games if any of the five is absent.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    by_game: dict[str, float] = {}
    for game, value in scores.items():
        name = _canonical(game)
        if name is not None:
            by_game[name] = float(value)
    absent = missing(by_game)
    if absent:
        raise ValueError(f"Atari-5 needs all five games; missing: {', '.join(absent)}")
    percent = {}
    for game, value in by_game.items():
        if not math.isfinite(value):
            raise ValueError(f"{game}: score {value} is not finite")
        if kind == "raw":
            percent[game] = 100.0 * normalize(game, value)
        else:
            percent[game] = value * (100.0 if kind == "fraction" else 1.0)
    log_m = sum(w * math.log10(1.0 + max(percent[g], 0.0)) for g, w in COEFFICIENTS.items())
    one_plus = 10.0**log_m
    return Atari5Estimate(
        median=(one_plus - 1.0) / 100.0,
        low=(one_plus * math.exp(-RELATIVE_ERROR) - 1.0) / 100.0,
        high=(one_plus * math.exp(RELATIVE_ERROR) - 1.0) / 100.0,
        normalized={g: percent[g] / 100.0 for g in GAMES},
    )


def report_lines(scores: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Report lines: each game's score, then the Atari-5 estimate of the 57-game median human-normalised
    score (or which of the five games are missing) and the A3C paper's median beside it."""
    lines = []
    for game, row in scores.items():
        score = row["score"]
        hn = None if score is None else human_normalized(game, score)
        lines.append(
            f"{game:<16} {'no evaluation yet' if score is None else f'{score:,.1f}':>14}  "
            f"human-normalised {'-' if hn is None else f'{100 * hn:.1f}%':>8} (DQN Nature refs)  "
            f"[{row['how']}: {row['source']}]"
        )
    have = {g: r["score"] for g, r in scores.items() if r["score"] is not None}
    absent = missing(have)
    if absent:
        lines.append(
            f"Atari-5 estimate: needs {', '.join(GAMES)}; missing: {', '.join(absent)}"
            + ("" if len(absent) < 5 else " (none of the five given)")
        )
        return lines
    est = estimate_median(have)
    paper = paper_median("a3c_ff_1day", "wang_2016")
    paper_est = estimate_median({g: float(ref_value(g, "a3c_ff_1day")) for g in GAMES})
    lines += [
        f"Atari-5 estimate of the 57-game median human-normalised score: {est.describe()} "
        "(Aitchison et al. 2023; scores normalised with the random/human table of the fit)",
        f"A3C paper, A3C FF 1 day (Table S3, HUMAN STARTS): 57-game median {100 * paper['median']:.1f}% "
        f"(Wang et al. 2016 refs); Atari-5 estimate from its five games {100 * paper_est.median:.1f}%",
    ]
    return lines
