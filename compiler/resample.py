"""Higher timeframes from execution candles, and alignment back without look-ahead.

The rule (DESIGN §3): the value of a 1h term at a 5m bar t is the value of
the last 1h candle whose CLOSE time is <= the close time of bar t. Candles
are bucketed on UTC epoch boundaries; a bucket the data only partly covers at
either end (the data starts or stops inside it) is never used, so no
higher-timeframe value is ever built from an incomplete candle.
"""
from __future__ import annotations

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles

__all__ = ["resample", "align", "close_times"]


def close_times(candles: Candles) -> np.ndarray:
    return candles.time + timeframe_ms(candles.timeframe)


def resample(candles: Candles, timeframe: str) -> Candles:
    """OHLCV of `timeframe` (open=first, high=max, low=min, close=last, volume=sum); no open candle."""
    if timeframe == candles.timeframe or len(candles) == 0:
        return candles
    period, step = timeframe_ms(timeframe), timeframe_ms(candles.timeframe)
    bucket = candles.time // period
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.concatenate((starts[1:], [len(candles)]))
    times = bucket[starts] * period
    keep = np.ones(len(starts), dtype=bool)
    if candles.time[-1] + step < times[-1] + period:
        keep[-1] = False                                  # this candle has not closed yet
    if not keep.any():
        empty = np.empty(0)
        return Candles(candles.symbol, timeframe, np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty)
    # reduce over every bucket first: reduceat runs each slice to the next start
    return Candles(
        candles.symbol, timeframe, times[keep],
        candles.open[starts][keep],
        np.maximum.reduceat(candles.high, starts)[keep],
        np.minimum.reduceat(candles.low, starts)[keep],
        candles.close[ends - 1][keep],
        np.add.reduceat(candles.volume, starts)[keep],
    )


def align(values: np.ndarray, source_close: np.ndarray, target_close: np.ndarray) -> np.ndarray:
    """For each target bar, the value of the last source candle closed by the target's close."""
    if values.dtype == bool:
        values = values.astype(np.float64)
    index = np.searchsorted(source_close, target_close, side="right") - 1
    out = np.full(len(target_close), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out
