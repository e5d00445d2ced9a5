"""Statistics of the equity curve: per-bar returns, risk-adjusted ratios, drawdowns.

Every figure here comes from one series, the *curve*: the starting balance
followed by the account equity marked at the close of each bar. Prefixing the
starting balance makes the n per-bar returns of an n-bar backtest compound to
exactly the total return, and lets a loss on the very first bar count as a
drawdown. The definitions (annualization, risk-free rate 0, Sortino's downside
deviation, drawdown duration) are written down in docs/metrics.md; everything
is vectorized numpy, never a Python loop over bars.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.timeframes import MINUTE_MS, timeframe_ms
from engine.metrics._curve import curve_pass

__all__ = [
    "MINUTES_PER_YEAR",
    "ZERO_DEVIATION",
    "Drawdown",
    "annualized_return",
    "bar_returns",
    "curve_times",
    "drawdown_from_pass",
    "drawdown_series",
    "equity_curve",
    "max_drawdown",
    "periods_per_year",
    "sharpe_ratio",
    "sortino_ratio",
]

MINUTES_PER_YEAR = 365 * 24 * 60  # crypto trades every day of the year
ZERO_DEVIATION = 1e-12            # a (downside) deviation below this is treated as zero


def periods_per_year(timeframe: str) -> float:
    """Bars in a 365-day year: 525,600 for `1m`, 8,760 for `1h`, 365 for `1d`."""
    return MINUTES_PER_YEAR / (timeframe_ms(timeframe) / MINUTE_MS)


def equity_curve(equity: np.ndarray, starting_balance: float) -> np.ndarray:
    """`[starting_balance, equity[0], ..., equity[n-1]]` as float64."""
    curve = np.empty(len(equity) + 1, dtype=np.float64)
    curve[0] = starting_balance
    curve[1:] = equity
    return curve


def curve_times(time: np.ndarray, bar_ms: int) -> np.ndarray:
    """Time (int64 ms) of each curve point: the first bar's open, then each bar's close."""
    if len(time) == 0:
        return np.zeros(1, dtype=np.int64)
    return np.concatenate([np.asarray(time[:1], dtype=np.int64),
                           np.asarray(time, dtype=np.int64) + np.int64(bar_ms)])


def bar_returns(curve: np.ndarray) -> np.ndarray:
    """Simple returns `curve[t] / curve[t-1] - 1`; 0 where the previous value is not positive."""
    prev, nxt = curve[:-1], curve[1:]
    out = np.zeros(len(nxt), dtype=np.float64)
    np.divide(nxt - prev, prev, out=out, where=prev > 0)
    return out


def annualized_return(total_return: float, n_bars: int, per_year: float) -> float:
    """Compound annual growth rate: `(1 + total) ** (per_year / n_bars) - 1`.

    -1.0 when the account was wiped out; `inf` when the growth overflows a
    float (a very short, very profitable backtest), which JSON shows as null.
    """
    if n_bars <= 0:
        return float("nan")
    growth = 1.0 + total_return
    if growth <= 0:
        return -1.0
    with np.errstate(over="ignore"):
        return float(np.expm1(np.log(growth) * (per_year / n_bars)))


def sharpe_ratio(returns: np.ndarray, per_year: float) -> float:
    """`mean(r) / std(r, ddof=1) * sqrt(per_year)`; NaN with < 2 returns or zero deviation."""
    if len(returns) < 2:
        return float("nan")
    deviation = float(np.std(returns, ddof=1))
    if not deviation > ZERO_DEVIATION:
        return float("nan")
    return float(np.mean(returns)) / deviation * float(np.sqrt(per_year))


def sortino_ratio(returns: np.ndarray, per_year: float) -> float:
    """`mean(r) / DD * sqrt(per_year)`, DD = `sqrt(mean(min(r, 0) ** 2))` over ALL bars.

    The downside deviation is taken against a target of 0 and averaged over
    every bar (Sortino & Price), not only the losing ones. NaN with < 2
    returns or when no bar lost money (the ratio would be infinite).
    """
    if len(returns) < 2:
        return float("nan")
    downside = float(np.sqrt(np.mean(np.square(np.minimum(returns, 0.0)))))
    if not downside > ZERO_DEVIATION:
        return float("nan")
    return float(np.mean(returns)) / downside * float(np.sqrt(per_year))


def drawdown_series(curve: np.ndarray) -> np.ndarray:
    """`curve / running_peak - 1` at each point: 0 at a new high, negative below it."""
    peak = np.maximum.accumulate(curve)
    out = np.zeros(len(curve), dtype=np.float64)
    np.divide(curve, peak, out=out, where=peak > 0)
    return np.where(peak > 0, out - 1.0, 0.0)


@dataclass(frozen=True)
class Drawdown:
    """The deepest drawdown of a curve and the longest time spent below a peak.

    Indices are positions in the curve (0 = the starting balance, i = close of
    bar i-1). A duration runs from the peak to the recovery, the first point
    back at or above the peak, or to the last point when it never recovered.
    """

    depth: float                # fraction below the peak, >= 0 (0.1 = 10 %)
    depth_abs: float            # quote currency: peak value - trough value
    peak: int | None            # None when the curve never fell below a peak
    trough: int | None
    recovery: int | None        # None when not recovered by the end (or no drawdown)
    duration_bars: int          # peak -> recovery (or end) of the deepest drawdown
    longest_peak: int | None    # the longest underwater period, whatever its depth
    longest_bars: int


_NO_DRAWDOWN = Drawdown(0.0, 0.0, None, None, None, 0, None, 0)


def max_drawdown(curve: np.ndarray) -> Drawdown:
    """Deepest and longest drawdown of `curve` (see `Drawdown`), in one compiled pass."""
    if len(curve) < 2:
        return _NO_DRAWDOWN
    c = np.asarray(curve, dtype=np.float64)
    return drawdown_from_pass(curve_pass(c[1:], float(c[0])))


def drawdown_from_pass(stats: tuple) -> Drawdown:  # type: ignore[type-arg]
    """The `Drawdown` part of `_curve.curve_pass`'s result."""
    depth, depth_abs, peak, trough, recovery, duration, longest_peak, longest_bars = stats[4:]
    if trough < 0:
        return _NO_DRAWDOWN

    def none(i: int) -> int | None:
        return None if i < 0 else int(i)
    return Drawdown(float(depth), float(depth_abs), none(peak), none(trough), none(recovery),
                    int(duration), none(longest_peak), int(longest_bars))
