"""The price tick a market trades in, inferred from its candles.

Stops are rounded to the exchange's tick. Without a market list at hand
(offline backtests), the candles tell it: the finest decimal their closes use.
freqtrade's backtester does the same, so inferring it is also what keeps the
two engines' stop prices identical.
"""
from __future__ import annotations

import numpy as np

__all__ = ["infer_price_tick"]

_MAX_DECIMALS = 12


_SAMPLE = 4096   # prices that pick the candidate; every price then confirms it


def _on_grid(values: np.ndarray, decimals: int) -> bool:
    scaled = values * 10.0**decimals
    # a price one float ulp off its decimal value still counts as on the grid
    return bool(np.all(np.abs(scaled - np.round(scaled)) <= 1e-6))


def infer_price_tick(prices: np.ndarray) -> float:
    """10**-d for the smallest d at which every finite price is a whole number of ticks.

    The smallest d that fits an even sample is a lower bound for all prices, so
    the search starts there and the whole column is usually checked once.
    """
    values = np.asarray(prices, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return 0.0
    sample = values[:: max(1, len(values) // _SAMPLE)]
    start = next((d for d in range(_MAX_DECIMALS + 1) if _on_grid(sample, d)), _MAX_DECIMALS + 1)
    for decimals in range(start, _MAX_DECIMALS + 1):
        if _on_grid(values, decimals):
            return float(10.0**-decimals)
    return 0.0
