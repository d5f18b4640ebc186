"""Run directories and progress (``tradea3c.a3c.run``): the steady training rate read from metrics.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradea3c.a3c.run import steady_steps_per_s


def test_steady_rate_skips_start_up_warm_up_and_rows_after_the_budget(tmp_path: Path) -> None:
    csv_path = tmp_path / "metrics.csv"
    rows = [(1.0, 0), (2.0, 100), (4.0, 300), (6.0, 500), (9.0, 500)]  # last row: after the final eval
    csv_path.write_text("wall_s,global_step,steps_per_s\n" + "".join(f"{w},{s},0\n" for w, s in rows))
    assert steady_steps_per_s(csv_path) == pytest.approx((500 - 100) / (9.0 - 2.0))
    assert steady_steps_per_s(csv_path, budget=500) == pytest.approx((500 - 100) / (6.0 - 2.0))
    assert steady_steps_per_s(csv_path, warmup_s=3.0, budget=500) == pytest.approx((500 - 300) / (6.0 - 4.0))
    assert np.isnan(steady_steps_per_s(csv_path, warmup_s=5.0, budget=500))  # one row left
