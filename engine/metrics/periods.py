"""Returns per calendar month (UTC): the table a user scans for a strategy's bad months.

A bar belongs to the month its candle opens in; a month's return is its last
bar's equity over the previous month's last equity (the starting balance for
the first month), minus 1, so the months compound exactly to the total
return. Partial first and last months are included as they are. Vectorized:
one `datetime64[M]` cast and a boundary search, never a loop over bars.
"""
from __future__ import annotations

import numpy as np

__all__ = ["monthly_returns"]


def monthly_returns(time_ms: np.ndarray, equity: np.ndarray,
                    starting_balance: float) -> dict[str, float]:
    """`{"2024-01": 0.052, "2024-02": -0.013, ...}` in time order; NaN after a wipe-out."""
    time_ms = np.asarray(time_ms, dtype=np.int64)
    equity = np.asarray(equity, dtype=np.float64)
    if len(time_ms) == 0:
        return {}
    month = time_ms.astype("datetime64[ms]").astype("datetime64[M]")
    last = np.flatnonzero(np.append(month[1:] != month[:-1], True))  # last bar of each month
    closing = equity[last]
    opening = np.concatenate(([starting_balance], closing[:-1]))
    out = np.full(len(last), np.nan)
    np.divide(closing, opening, out=out, where=opening > 0)
    labels = np.datetime_as_string(month[last], unit="M")
    return {str(k): float(v - 1.0) for k, v in zip(labels, out, strict=True)}
