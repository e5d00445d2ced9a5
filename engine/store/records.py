"""What the results store hands back: a kept run, in full or as a list row.

Plain frozen dataclasses, detached from the database session, so the CLI and
reports can use them after the store is closed. `to_dict` gives the
JSON-serializable form `superbot backtest show --json` prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Run", "RunSummary"]


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """One line of `superbot backtest list`."""

    id: str
    created_at: datetime               # timezone-aware UTC
    strategy_name: str
    strategy_hash: str
    timeframe: str
    symbols: tuple[str, ...]
    data_start: str | None             # ISO-8601 UTC: open of the first bar
    data_end: str | None               # ISO-8601 UTC: close of the last bar
    n_trades: int
    total_return: float | None
    sharpe: float | None
    max_drawdown: float | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["created_at"] = self.created_at.isoformat()
        out["symbols"] = list(self.symbols)
        return out


@dataclass(frozen=True, kw_only=True)
class Run(RunSummary):
    """A kept run in full: what was run, on what, with which outcome."""

    starting_balance: float
    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)   # fee, slippage, ... as run
    metrics: dict[str, Any] = field(default_factory=dict)    # compute_metrics output
    trades: list[dict[str, Any]] = field(default_factory=list)  # Trades.to_records format
    superbot_version: str = ""
