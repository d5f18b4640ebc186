"""User-facing data errors and the `Finding` record every validation step emits.

Kept separate (and dependency free) so the CLI can catch `DataError` without importing pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["repaired", "dropped", "refused", "kept"]


class DataError(ValueError):
    """A one-line, user-facing problem with market data (bad input, missing cache, refused data).

    The message names the input and the fix; the CLI prints it without a traceback.
    """


@dataclass(frozen=True)
class Finding:
    """One validation finding: what was wrong with which ticker on which date, and what was done.

    ``date`` is None when the finding concerns a whole series (e.g. a missing column).
    ``action``: repaired (value fixed), dropped (row removed), refused (series rejected),
    kept (reported only: e.g. zero volume, a split-like jump, a gap).
    """

    ticker: str
    date: str | None
    check: str
    action: Action
    detail: str

    def __str__(self) -> str:
        when = self.date or "-"
        return f"{self.ticker} {when} [{self.check}] {self.action}: {self.detail}"


class UnreadableCacheError(DataError):
    """A cache file exists but cannot be read (truncated, not parquet); the message says how to fix it."""


class CacheWriteError(DataError):
    """Writing a cache file failed (disk full, read-only folder...); the previous file is unchanged.

    Fatal for a whole import or fetch: every later ticker would fail the same way.
    """
