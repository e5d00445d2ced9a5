"""What a simulation returns: trades as columns, and the equity curve.

Struct-of-arrays because the kernel fills them from compiled code and
metrics/reports read them vectorized; `to_records` gives the row view the
CLI, JSON output and the results store use.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import numpy as np

from engine.kernel.risk_events import RiskEvent

__all__ = ["EXIT_REASONS", "SimResult", "Trades"]

# Codes stored in Trades.exit_reason (index into this tuple).
EXIT_REASONS = ("exit_signal", "stop_loss", "trailing_stop", "roi", "max_hold", "end_of_data",
                "risk_halt", "risk_close_all")


@dataclass(frozen=True)
class Trades:
    symbol: np.ndarray        # int32: index into SimResult.symbols
    side: np.ndarray          # int8: +1 long, -1 short
    entry_index: np.ndarray   # int64: bar index on the shared clock of the fill
    exit_index: np.ndarray    # int64
    entry_time: np.ndarray    # int64 ms UTC: open time of the candle in which the entry filled
    exit_time: np.ndarray     # int64 ms UTC: open time of the candle in which the exit filled
    entry_price: np.ndarray   # float64, after slippage
    exit_price: np.ndarray    # float64, after slippage
    amount: np.ndarray        # float64: base-currency quantity
    stake: np.ndarray         # float64: quote spent at entry, before fee
    profit_ratio: np.ndarray  # float64: net of both fees
    profit_abs: np.ndarray    # float64: quote, net of both fees
    fees: np.ndarray          # float64: quote paid in fees (entry + exit)
    exit_reason: np.ndarray   # int8: index into EXIT_REASONS

    def __len__(self) -> int:
        return len(self.entry_index)

    def to_records(self, symbols: tuple[str, ...]) -> list[dict[str, object]]:
        from datetime import datetime

        def iso(ms: int) -> str:
            return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return [
            {
                "symbol": symbols[int(self.symbol[i])],
                "side": "long" if self.side[i] > 0 else "short",
                "entry_time": iso(int(self.entry_time[i])),
                "exit_time": iso(int(self.exit_time[i])),
                "entry_price": float(self.entry_price[i]),
                "exit_price": float(self.exit_price[i]),
                "amount": float(self.amount[i]),
                "stake": float(self.stake[i]),
                "profit_ratio": float(self.profit_ratio[i]),
                "profit_abs": float(self.profit_abs[i]),
                "fees": float(self.fees[i]),
                "exit_reason": EXIT_REASONS[int(self.exit_reason[i])],
            }
            for i in range(len(self))
        ]


@dataclass(frozen=True)
class SimResult:
    symbols: tuple[str, ...]
    timeframe: str
    time: np.ndarray          # int64 ms: open times of the shared clock
    trades: Trades
    equity: np.ndarray        # float64 per bar: cash + open positions marked at the close
    starting_balance: float
    risk_events: tuple[RiskEvent, ...] = ()   # rules that fired, in order (engine/kernel/risk.py)
