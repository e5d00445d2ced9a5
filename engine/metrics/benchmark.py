"""Buy-and-hold of the backtest's symbols: the figure every strategy must beat.

Equal weight, bought at the first available close and never rebalanced, no
fees: its return is the mean of the symbols' own returns, and its curve is the
starting balance times the mean of each symbol's close relative to its first
close (a symbol not yet trading holds its weight in cash).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["buy_and_hold_curve", "buy_and_hold_returns"]


def _first_last(close: np.ndarray) -> tuple[float, float] | None:
    def usable(x: float) -> bool:
        return bool(np.isfinite(x) and x > 0)
    if len(close) and usable(close[0]) and usable(close[-1]):  # the usual case: no scan
        return float(close[0]), float(close[-1])
    finite = np.flatnonzero(np.isfinite(close) & (close > 0))
    if len(finite) == 0:
        return None
    return float(close[finite[0]]), float(close[finite[-1]])


def buy_and_hold_returns(closes: Mapping[str, np.ndarray]) -> tuple[float, dict[str, float]]:
    """(equal-weight return, each symbol's return); NaN for a symbol with no price."""
    per_symbol: dict[str, float] = {}
    for symbol, close in closes.items():
        ends = _first_last(np.asarray(close, dtype=np.float64))
        per_symbol[symbol] = ends[1] / ends[0] - 1.0 if ends else float("nan")
    valid = [r for r in per_symbol.values() if np.isfinite(r)]
    return (float(np.mean(valid)) if valid else float("nan")), per_symbol


def _relative(close: np.ndarray) -> np.ndarray:
    """close / first close, forward-filled over NaN, 1.0 before the first price."""
    ok = np.isfinite(close) & (close > 0)
    if not ok.any():
        return np.ones(len(close))
    last_ok = np.maximum.accumulate(np.where(ok, np.arange(len(close)), -1))
    first = close[int(np.argmax(ok))]
    filled = np.where(last_ok >= 0, close[np.maximum(last_ok, 0)], first)
    return np.asarray(filled / first, dtype=np.float64)


def buy_and_hold_curve(closes: Mapping[str, np.ndarray], starting_balance: float) -> np.ndarray:
    """Equity of the equal-weight buy-and-hold portfolio at each bar's close."""
    columns = [_relative(np.asarray(c, dtype=np.float64)) for c in closes.values()]
    if not columns:
        return np.zeros(0)
    return np.asarray(starting_balance * np.mean(columns, axis=0), dtype=np.float64)
