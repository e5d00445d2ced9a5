"""Figures defined as freqtrade defines them, so a user switching from freqtrade can compare.

Our own Sharpe, Sortino, Calmar and max drawdown read the mark-to-market
equity curve bar by bar (returns.py). freqtrade's read the closed trades
only: each trade's `profit_abs / starting_balance` is one "return", the mean
is taken over whole calendar days of the backtest, and the drawdown is
measured on the balance after each closed trade. On the same trades the two
families differ, and neither is wrong; docs/metrics.md puts them side by
side. The formulas below follow `freqtrade/data/metrics.py`
(`calculate_sharpe`, `calculate_sortino`, `calculate_calmar`,
`calculate_max_drawdown`, `calculate_expectancy`, `calculate_market_change`)
as of freqtrade 2024.10-2026.9; tests check them against hand-computed trade
lists.

Where freqtrade returns a sentinel instead of a figure (0 without trades or
with a zero-length backtest, -100 when a deviation or the drawdown is 0,
expectancy ratio 100 without a losing trade), we return NaN, which the
metrics dict shows as null: an undefined figure is never a number here.

Steps of `freqtrade_figures`:
1. per-trade returns `profit_abs / starting_balance`, trades ordered by exit
   time (stable, so simultaneous exits keep the kernel's order);
2. the backtest length in whole days, `max(1, floor((last open - first open) / 1 day))`;
3. Sharpe, Sortino (population deviations, numpy's default `ddof=0`);
4. the drawdown of the closed-trade balance, then Calmar from it.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["backtest_days", "expectancy_ratio", "freqtrade_drawdown", "freqtrade_figures",
           "market_change"]

_DAY_MS = 86_400_000


def backtest_days(first_open_ms: int, last_open_ms: int) -> int:
    """freqtrade's `max(1, (max_date - min_date).days)`: whole days between the first and
    last candle's OPEN times (a timedelta's `.days` floors)."""
    return max(1, (int(last_open_ms) - int(first_open_ms)) // _DAY_MS)


def freqtrade_drawdown(profit_abs: np.ndarray, starting_balance: float) -> float:
    """`calculate_max_drawdown(..., value_col="profit_abs", starting_balance=B).relative_account_drawdown`.

    `profit_abs` in exit order. The cumulative profit after each trade and its
    running maximum (which starts at the FIRST trade's cumulative profit, not
    at 0: a first losing trade is not a drawdown in freqtrade) give the
    absolute drawdown; at the trade where it is deepest (the first such
    trade), the relative drawdown is `(peak balance - balance) / peak
    balance`. Note that this is the relative drawdown at the deepest
    *absolute* drawdown, which is what freqtrade shows as "Max % of account
    underwater" / `max_drawdown_account`. 0.0 without trades or without a
    drawdown (freqtrade's `ValueError` branch reports 0.0 as well).
    """
    profit = np.asarray(profit_abs, dtype=np.float64)
    if len(profit) == 0:
        return 0.0
    cumulative = np.cumsum(profit)
    high = np.maximum.accumulate(cumulative)
    deepest = int(np.argmin(cumulative - high))
    if deepest == 0:  # the drawdown series is all zeros: no losing stretch
        return 0.0
    if not starting_balance:  # freqtrade's approximation without a balance
        return float((high[deepest] - cumulative[deepest]) / high[deepest])
    peak_balance = starting_balance + high[deepest]
    return float((peak_balance - (starting_balance + cumulative[deepest])) / peak_balance)


def expectancy_ratio(profit_abs: np.ndarray) -> float:
    """freqtrade's `expectancy_ratio`: `(1 + avg_win / avg_loss) * win_rate - 1`.

    Wins are `profit_abs > 0`, losses `< 0`, averages in money. NaN without
    trades or without a losing trade (freqtrade shows 100 there).
    """
    profit = np.asarray(profit_abs, dtype=np.float64)
    n = len(profit)
    wins, losses = profit[profit > 0], profit[profit < 0]
    if n == 0 or len(losses) == 0:
        return float("nan")
    average_win = float(wins.sum()) / len(wins) if len(wins) else 0.0
    average_loss = abs(float(losses.sum())) / len(losses)
    return (1.0 + average_win / average_loss) * (len(wins) / n) - 1.0


def freqtrade_figures(profit_abs: np.ndarray, exit_time: np.ndarray, starting_balance: float,
                      first_open_ms: int | None, last_open_ms: int | None) -> dict[str, float]:
    """`sharpe_ft`, `sortino_ft`, `calmar_ft`, `max_drawdown_ft` of the closed trades.

    `first_open_ms` / `last_open_ms` are the open times of the backtest's
    first and last candle (freqtrade's `min_date` / `max_date`).
    """
    nan = float("nan")
    profit = np.asarray(profit_abs, dtype=np.float64)
    # 1. exit order; a stable sort keeps the kernel's order among equal exit times
    order = np.argsort(np.asarray(exit_time, dtype=np.int64), kind="stable")
    profit = profit[order]
    max_dd = freqtrade_drawdown(profit, starting_balance)
    out = {"sharpe_ft": nan, "sortino_ft": nan, "calmar_ft": nan, "max_drawdown_ft": max_dd}
    if (len(profit) == 0 or first_open_ms is None or last_open_ms is None
            or first_open_ms == last_open_ms or not starting_balance > 0):
        return out
    # 2. whole days
    days = backtest_days(first_open_ms, last_open_ms)
    returns = profit / starting_balance
    daily_mean = float(returns.sum()) / days
    # 3. Sharpe and Sortino: deviations over trades (ddof=0), annualized by sqrt(365)
    deviation = float(np.std(returns))
    if deviation != 0:
        out["sharpe_ft"] = daily_mean / deviation * math.sqrt(365)
    losing = returns[profit < 0]
    down = float(np.std(losing)) if len(losing) else nan
    if down != 0 and not math.isnan(down):
        out["sortino_ft"] = daily_mean / down * math.sqrt(365)
    # 4. Calmar: the daily mean in percent over the relative drawdown
    if max_dd != 0:
        out["calmar_ft"] = float(returns.sum()) / days * 100 / max_dd * math.sqrt(365)
    return out


def market_change(closes: Mapping[str, np.ndarray]) -> float:
    """freqtrade's `market_change`: mean over symbols of (last - first) / first close.

    First and last non-NaN close of each symbol, over the data given: freqtrade
    passes every loaded candle, the startup (warm-up) candles included.
    """
    changes = []
    for close in closes.values():
        c = np.asarray(close, dtype=np.float64)
        finite = c[np.isfinite(c)]
        if len(finite) and finite[0] != 0:
            changes.append((finite[-1] - finite[0]) / finite[0])
    return float(np.mean(changes)) if changes else float("nan")
