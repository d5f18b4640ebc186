"""Library events are logged (``logging.getLogger(__name__)``), not printed; the CLI shows them as
plain lines on stderr through one rich handler (`tradea3c.cli._logging`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tradea3c.cli._logging import LOGGER, _LineHandler, show_library_events
from tradea3c.data.cache import write_ticker
from tradea3c.data.market import synthetic_market
from tradea3c.data.spec import MarketSpec, load_market_spec
from tradea3c.data.universes import universe_tickers


@pytest.fixture
def tradea3c_logger() -> Iterator[logging.Logger]:
    """The ``tradea3c`` logger, its handlers and level restored afterwards."""
    logger = logging.getLogger(LOGGER)
    handlers, level = list(logger.handlers), logger.level
    logger.handlers = [h for h in handlers if not isinstance(h, _LineHandler)]
    yield logger
    logger.handlers, logger.level = handlers, level


def test_a_universe_with_missing_members_is_logged_not_printed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    members = universe_tickers("dow30", prefer_snapshot=True)[0][:2]
    m = synthetic_market(300, len(members), seed=3)
    for i, t in enumerate(members):
        frame = pd.DataFrame(
            {f: getattr(m, f)[:, i] for f in ("open", "high", "low", "close", "volume")},
            index=pd.DatetimeIndex(m.dates),
        )
        write_ticker(tmp_path, t, frame, source="synthetic", adjusted=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        market = load_market_spec(MarketSpec(source="dow30", data_dir=str(tmp_path)))
    assert market.n_assets == 2
    (record,) = [r for r in caplog.records if "cached members" in r.getMessage()]
    assert record.name == "tradea3c.data.spec" and record.levelno == logging.INFO
    text = record.getMessage()
    assert "members not cached" in text and "training on the 2 cached members" in text
    assert capsys.readouterr().out == ""  # nothing printed by the library


def test_the_cli_handler_prints_each_event_as_one_plain_line_on_stderr(
    tradea3c_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    show_library_events()
    show_library_events()  # idempotent: the app's callback runs once per command
    assert sum(isinstance(h, _LineHandler) for h in tradea3c_logger.handlers) == 1
    long = "[Pong] finished earlier: " + " ".join(f"word{i}" for i in range(40))  # > 80 columns
    logging.getLogger("tradea3c.atari.benchmark").info(long)
    logging.getLogger("tradea3c.a3c.run").warning("worker 1 died; restarting")
    logging.getLogger("tradea3c.data.spec").debug("not shown")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"{long}\nworker 1 died; restarting\n"  # no wrapping, no markup, no columns
