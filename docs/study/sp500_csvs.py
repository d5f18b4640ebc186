# Usage: python docs/study/sp500_csvs.py OUT_DIR 480 && tradea3c fetch --from-csv OUT_DIR --data-dir CACHE
"""Synthetic Yahoo-format CSVs named after the point-in-time S&P 500 members of 2015-2019 (pitindex:
today's members and those that left the index in the range; prices are synthetic random walks with
late listings, delistings, halts and placeholder prefixes): exercises `train --market sp500` end to end,
membership mask included."""

import sys
from pathlib import Path

from tradea3c.data.membership import Membership
from tradea3c.data.synthetic import changing_universe_frames

out = Path(sys.argv[1])
n = int(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
names = Membership.from_pitindex("sp500").members_between("2015-01-02", "2019-12-31")[:n]
frames = {}
for k in range(0, len(names), 50):
    m = min(50, len(names) - k)
    part = changing_universe_frames(
        m, 1260, seed=k, late=5, delisted=5, halts=3, placeholders=2, start="2015-01-02"
    )
    frames.update({names[k + i]: df for i, df in enumerate(part.values())})
for t, df in frames.items():
    df.rename(columns=str.capitalize).rename_axis("Date").to_csv(out / f"{t}.csv")
print(len(frames), "csvs in", out)
