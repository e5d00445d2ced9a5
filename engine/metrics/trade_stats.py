"""Statistics of the closed trades: win rate, profit factor, durations, breakdowns.

Read from the columns of `Trades` with numpy reductions and `bincount`, so a
year of one-minute trades costs milliseconds. A trade wins when its
`profit_abs` (net of both fees) is > 0, loses when < 0, and is a draw at 0,
as freqtrade counts them. Undefined figures (no trades, no losing trade for
the profit factor) are NaN here; `compute_metrics` turns them into JSON null.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.kernel.trades import Trades
from engine.metrics._curve import union_length
from engine.metrics.freqtrade import expectancy_ratio

__all__ = ["exposure", "group_breakdown", "trade_summary"]


def trade_summary(trades: Trades) -> dict[str, float | int]:
    """Headline trade figures; see docs/metrics.md for each definition."""
    profit = np.asarray(trades.profit_abs, dtype=np.float64)
    ratio = np.asarray(trades.profit_ratio, dtype=np.float64)
    n = len(profit)
    nan = float("nan")
    gross_profit = float(profit[profit > 0].sum())
    gross_loss = 0.0 - float(profit[profit < 0].sum())  # 0.0 - 0.0 is +0.0; -(0.0) is -0.0
    seconds = (np.asarray(trades.exit_time, dtype=np.int64)
               - np.asarray(trades.entry_time, dtype=np.int64)) / 1000.0
    bars = np.asarray(trades.exit_index, dtype=np.int64) - np.asarray(trades.entry_index,
                                                                       dtype=np.int64)
    wins, losses = int((profit > 0).sum()), int((profit < 0).sum())
    return {
        "n_trades": n,
        "n_long": int((np.asarray(trades.side) > 0).sum()),
        "n_short": int((np.asarray(trades.side) < 0).sum()),
        "wins": wins,
        "losses": losses,
        "draws": n - wins - losses,
        "win_rate": wins / n if n else nan,
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else nan,
        "expectancy": float(profit.mean()) if n else nan,
        "expectancy_ratio": expectancy_ratio(profit),   # freqtrade's definition
        "avg_profit_ratio": float(ratio.mean()) if n else nan,
        "avg_win_ratio": float(ratio[profit > 0].mean()) if wins else nan,
        "avg_loss_ratio": float(ratio[profit < 0].mean()) if losses else nan,
        "best_trade": float(ratio.max()) if n else nan,
        "worst_trade": float(ratio.min()) if n else nan,
        "fees": float(np.asarray(trades.fees, dtype=np.float64).sum()),
        "avg_trade_duration_s": float(seconds.mean()) if n else nan,
        "median_trade_duration_s": float(np.median(seconds)) if n else nan,
        "avg_trade_duration_bars": float(bars.mean()) if n else nan,
    }


def exposure(trades: Trades, n_bars: int) -> float:
    """Fraction of bars whose close finds at least one position open.

    A trade holds bars `[entry_index, exit_index)`: it is open at the close of
    its entry bar and closed by the close of its exit bar, the same marking
    the equity curve uses. A stop hit inside the entry bar holds none.
    """
    if n_bars <= 0:
        return float("nan")
    entry = np.asarray(trades.entry_index, dtype=np.int64)
    exit_ = np.asarray(trades.exit_index, dtype=np.int64)
    if len(entry) > 1 and np.any(entry[1:] < entry[:-1]):
        order = np.argsort(entry, kind="stable")
        entry, exit_ = entry[order], exit_[order]
    # the union of the trades' bar intervals: O(trades), not O(bars)
    return union_length(entry, exit_, n_bars) / n_bars


def group_breakdown(codes: np.ndarray, labels: Sequence[str], trades: Trades,
                    starting_balance: float, *, keep_empty: bool) -> dict[str, dict[str, Any]]:
    """Per-group figures (trades, wins, win rate, average and total profit) keyed by label.

    `codes` holds each trade's group index into `labels` (a symbol index or an
    exit reason code). Groups without trades are kept only with `keep_empty`.
    """
    k = len(labels)
    codes = np.asarray(codes, dtype=np.int64)
    profit = np.asarray(trades.profit_abs, dtype=np.float64)
    ratio = np.asarray(trades.profit_ratio, dtype=np.float64)
    seconds = (np.asarray(trades.exit_time, dtype=np.int64)
               - np.asarray(trades.entry_time, dtype=np.int64)) / 1000.0
    count = np.bincount(codes, minlength=k)
    wins = np.bincount(codes, weights=(profit > 0).astype(np.float64), minlength=k)
    sum_ratio = np.bincount(codes, weights=ratio, minlength=k)
    sum_profit = np.bincount(codes, weights=profit, minlength=k)
    sum_seconds = np.bincount(codes, weights=seconds, minlength=k)
    nan = float("nan")
    out: dict[str, dict[str, Any]] = {}
    for i, label in enumerate(labels):  # one entry per group, not per bar
        n = int(count[i])
        if n == 0 and not keep_empty:
            continue
        out[label] = {
            "n_trades": n,
            "wins": int(wins[i]),
            "win_rate": float(wins[i]) / n if n else nan,
            "avg_profit_ratio": float(sum_ratio[i]) / n if n else nan,
            "total_profit_abs": float(sum_profit[i]),
            "total_profit_ratio": float(sum_profit[i]) / starting_balance
            if starting_balance > 0 else nan,
            "avg_trade_duration_s": float(sum_seconds[i]) / n if n else nan,
        }
    return out
