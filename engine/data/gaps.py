"""Missing candles: one explicit policy, never a silent fill.

The default (`fill`) inserts flat, zero-volume candles at the previous close,
as freqtrade does before computing indicators, so results stay comparable;
`drop` keeps the data as it is (indicators then span the gap), `error` refuses
data with gaps. Every policy reports how many candles were missing.
"""
from __future__ import annotations

import numpy as np

from compiler.timeframes import timeframe_ms
from dsl.errors import UserError
from engine.data.candles import Candles
from engine.data.wording import count

__all__ = ["GAP_POLICIES", "GapError", "count_gaps", "fill_gaps", "missing_ranges"]

GAP_POLICIES = ("fill", "drop", "error")


class GapError(UserError, ValueError):
    """Data has missing candles and the policy is `error`."""


def count_gaps(candles: Candles) -> int:
    """Number of candles missing between the first and the last one."""
    if len(candles) < 2:
        return 0
    step = timeframe_ms(candles.timeframe)
    span = (int(candles.time[-1]) - int(candles.time[0])) // step + 1
    return span - len(candles)


def missing_ranges(candles: Candles) -> list[tuple[int, int]]:
    """Each run of missing candles as (open time of the first missing candle, how many)."""
    if len(candles) < 2:
        return []
    step = timeframe_ms(candles.timeframe)
    jumps = np.diff(candles.time) // step - 1
    at = np.flatnonzero(jumps > 0)
    return [(int(candles.time[i]) + step, int(jumps[i])) for i in at]


def fill_gaps(candles: Candles, policy: str = "fill") -> tuple[Candles, int]:
    """(candles on a complete grid, number of candles that were missing)."""
    if policy not in GAP_POLICIES:
        raise ValueError(f"unknown gap policy {policy!r}; use one of {', '.join(GAP_POLICIES)}")
    missing = count_gaps(candles)
    if missing == 0 or policy == "drop":
        return candles, missing
    if policy == "error":
        raise GapError(f"{candles.symbol} {candles.timeframe}: {count(missing, 'candle')} "
                       f"{'is' if missing == 1 else 'are'} missing")
    step = timeframe_ms(candles.timeframe)
    slot = (candles.time - candles.time[0]) // step
    n = int(slot[-1]) + 1
    present = np.zeros(n, dtype=bool)
    present[slot] = True
    # index of the last real candle at or before every slot
    last = np.maximum.accumulate(np.where(present, np.arange(n), -1))
    src = np.searchsorted(slot, np.arange(n)[present])
    row = np.empty(n, dtype=np.int64)
    row[present] = src
    row = row[last]  # for a gap slot: the row of the previous real candle
    prev_close = candles.close[row]
    def col(values: np.ndarray) -> np.ndarray:
        out = np.empty(n)
        out[present] = values
        out[~present] = prev_close[~present]
        return out
    volume = np.zeros(n)
    volume[present] = candles.volume
    time = candles.time[0] + np.arange(n, dtype=np.int64) * step
    filled = Candles(candles.symbol, candles.timeframe, time, col(candles.open), col(candles.high),
                     col(candles.low), col(candles.close), volume, ~present)
    return filled, missing
