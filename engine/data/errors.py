"""What can go wrong with market data, named for what the operator must do.

    DataError            fix the data or the command line (exit 1)
    ├── BadRowsError     the file or the exchange sent rows that break the
    │                    candle rules; each is listed with its row position
    ├── NotCandlesError  the file is not candle data (no OHLCV columns)
    ├── NoDataError      the store or file holds nothing that matches
    └── DownloadError    the exchange refused or kept failing; the message
                         says whether retrying can help

A `DataError` is never a traceback: the CLI prints its message and exits 1.
"""
from __future__ import annotations

from dataclasses import dataclass

from dsl.errors import UserError

__all__ = ["BadRowsError", "DataError", "DownloadError", "NoDataError", "NotCandlesError", "RowProblem"]

_SHOWN = 10  # problems listed in a message; all of them stay on the exception


class DataError(UserError, ValueError):
    """Market data cannot be used as it is: fix the data or the command."""


@dataclass(frozen=True)
class RowProblem:
    """One bad row: its 0-based position among the data rows of the source, and why."""

    row: int
    reason: str
    time: int | None = None   # open time in ms when it could be read
    line: int | None = None   # 1-based line in a text file (CSV), when known

    def describe(self, source: str | None = None) -> str:
        """`row 4 (line 6) at ...: why`; with `source` and a line, `source:6: row 4 at ...`."""
        where = f"row {self.row}"
        if self.line is not None:
            where = f"{source}:{self.line}: {where}" if source else f"{where} (line {self.line})"
        if self.time is not None:
            from engine.data.timeparse import format_ms
            where += f" at {format_ms(self.time)}"
        return f"{where}: {self.reason}"


class BadRowsError(DataError):
    """Rows that break the candle rules; nothing was loaded or written."""

    def __init__(self, source: str, problems: list[RowProblem], hint: str = "") -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} bad row{'s' if len(problems) != 1 else ''}"]
        lines += [f"  {p.describe(source)}" for p in problems[:_SHOWN]]
        if len(problems) > _SHOWN:
            lines.append(f"  ... and {len(problems) - _SHOWN} more")
        if hint:
            lines.append(f"hint: {hint}")
        super().__init__("\n".join(lines))


class NotCandlesError(DataError):
    """The file has no time + open/high/low/close/volume columns: it holds something else."""


class NoDataError(DataError):
    """Nothing matches the request (symbol, timeframe, range)."""


class DownloadError(DataError):
    """The exchange failed; `retry` tells whether running again may help."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        self.retry = retry
        super().__init__(message)
