"""Coarser candles for display, so a year of one-minute data charts fast.

525,600 candles would make a 30 MB page that a browser draws for seconds,
and no screen shows that many anyway. The report picks the smallest standard
timeframe that keeps a chart under `max_points` candles, resamples OHLC
exactly (first open, highest high, lowest low, last close, UTC-aligned
buckets like exchange candles), and keeps every trade marker at its exact
time and price. Lines take the value at each bucket's last bar; drawdown
takes each bucket's deepest point, so the worst drawdown is never smoothed
away.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.timeframes import TIMEFRAMES, timeframe_ms

__all__ = ["Buckets", "buckets", "display_timeframe", "resample_ohlc"]


def display_timeframe(n_bars: int, timeframe: str, max_points: int) -> str:
    """The smallest timeframe (a whole multiple of `timeframe`) with <= max_points candles."""
    base = timeframe_ms(timeframe)
    span = n_bars * base
    for candidate in TIMEFRAMES:
        ms = timeframe_ms(candidate)
        if ms >= base and ms % base == 0 and span / ms <= max_points:
            return candidate
    return TIMEFRAMES[-1]


@dataclass(frozen=True)
class Buckets:
    """Rows of a time series grouped into display candles."""

    start: np.ndarray     # int64: first row of each bucket
    stop: np.ndarray      # int64: one past its last row
    time: np.ndarray      # int64 ms: bucket open time
    bucket_ms: int

    def __len__(self) -> int:
        return len(self.start)

    def last(self, values: np.ndarray) -> np.ndarray:
        """The value at each bucket's last row."""
        return np.asarray(np.asarray(values)[self.stop - 1])

    def first(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(values)[self.start])

    def max(self, values: np.ndarray) -> np.ndarray:
        """Highest value in each bucket, NaN ignored (NaN when all are)."""
        if len(self) == 0:
            return np.zeros(0)
        return np.fmax.reduceat(np.asarray(values, dtype=np.float64), self.start)

    def min(self, values: np.ndarray) -> np.ndarray:
        if len(self) == 0:
            return np.zeros(0)
        return np.fmin.reduceat(np.asarray(values, dtype=np.float64), self.start)


def buckets(time: np.ndarray, bucket_ms: int) -> Buckets:
    """Group sorted open times into UTC-aligned buckets of `bucket_ms`."""
    time = np.asarray(time, dtype=np.int64)
    if len(time) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Buckets(empty, empty, empty, bucket_ms)
    key = time // bucket_ms
    start = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    stop = np.append(start[1:], len(time))
    return Buckets(start, stop, key[start] * bucket_ms, bucket_ms)


def resample_ohlc(b: Buckets, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                  close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(open, high, low, close) of each bucket."""
    return b.first(open_), b.max(high), b.min(low), b.last(close)
