"""Higher timeframes from execution candles, and alignment back without look-ahead.

The rule (DESIGN §3): the value of a 1h term at a 5m bar t is the value of
the last 1h candle whose CLOSE time is <= the close time of bar t. Candles
are bucketed on UTC epoch boundaries (weeks on Mondays). The last bucket is used only once its
final execution candle has closed, so no value ever comes from a candle still
forming. When the data starts inside a bucket, that first candle is kept,
built from the (closed) bars there are, as freqtrade does: its close is the
true close, and results stay comparable with freqtrade's.

Columns are built on first use (`Resampled.column`): a strategy that reads
only the 1h close never pays for the 1h high, low, open and volume.
"""
from __future__ import annotations

import numpy as np

from compiler.candles import Candles
from compiler.timeframes import timeframe_ms

__all__ = ["WEEK_ANCHOR_MS", "Resampled", "align", "close_times", "resample"]

# Weeks start on Monday 00:00 UTC, as exchanges' weekly candles do (the epoch was a Thursday).
WEEK_ANCHOR_MS = 4 * 86_400_000


def close_times(candles: Candles | Resampled) -> np.ndarray:
    return candles.time + timeframe_ms(candles.timeframe)


class Resampled:
    """A higher timeframe's complete candles, each column reduced when first asked for."""

    def __init__(self, candles: Candles, timeframe: str):
        period, step = timeframe_ms(timeframe), timeframe_ms(candles.timeframe)
        anchor = WEEK_ANCHOR_MS if timeframe.endswith("w") else 0
        bucket = (candles.time - anchor) // period
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        keep = np.ones(len(starts), dtype=bool)
        if len(starts) and candles.time[-1] + step < bucket[starts[-1]] * period + anchor + period:
            keep[-1] = False                                  # this candle has not closed yet
        self.symbol, self.timeframe = candles.symbol, timeframe
        self.time = bucket[starts][keep] * period + anchor
        self._source = candles
        self._starts = starts
        self._ends = np.concatenate((starts[1:], [len(candles)]))
        self._keep = keep
        self._columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.time)

    def column(self, name: str) -> np.ndarray:
        values = self._columns.get(name)
        if values is None:
            src, starts = self._source, self._starts
            if len(starts) == 0:
                values = np.empty(0)
            elif name == "open":
                values = src.open[starts]
            elif name == "high":
                values = np.maximum.reduceat(src.high, starts)  # each slice runs to the next start
            elif name == "low":
                values = np.minimum.reduceat(src.low, starts)
            elif name == "close":
                values = src.close[self._ends - 1]
            elif name == "volume":
                values = np.add.reduceat(src.volume, starts)
            else:
                raise KeyError(name)
            values = self._columns[name] = values[self._keep] if len(starts) else values
        return values

    def candles(self) -> Candles:
        cols = [self.column(f) for f in ("open", "high", "low", "close", "volume")]
        return Candles(self.symbol, self.timeframe, self.time, *cols)


def resample(candles: Candles, timeframe: str) -> Candles:
    """OHLCV of `timeframe` (open=first, high=max, low=min, close=last, volume=sum); no open candle."""
    if timeframe == candles.timeframe or len(candles) == 0:
        return candles
    return Resampled(candles, timeframe).candles()


def align(values: np.ndarray, source_close: np.ndarray, target_close: np.ndarray) -> np.ndarray:
    """For each target bar, the value of the last source candle closed by the target's close."""
    if values.dtype == bool:
        values = values.astype(np.float64)
    index = np.searchsorted(source_close, target_close, side="right") - 1
    out = np.full(len(target_close), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out
