"""One columnar OHLCV representation for the whole engine.

Times are int64 UTC milliseconds of each candle's OPEN; prices and volume are
float64 arrays. Columnar arrays (not a DataFrame) because the compiler and the
trade kernel work on numpy arrays directly and numba accepts them as they are.

It lives in `compiler` because the evaluators and the resampler take candles
and the compiler must never import the engine (layers read dsl -> compiler ->
engine); `engine.data.candles` re-exports it for the data layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FIELDS", "Candles"]

FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Candles:
    symbol: str
    timeframe: str
    time: np.ndarray                     # int64 ms, open time, strictly increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    filled: np.ndarray | None = field(default=None, compare=False)  # bool: candle was a filled gap

    def __post_init__(self) -> None:
        n = len(self.time)
        for name in FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, time has {n}")

    def __len__(self) -> int:
        return len(self.time)

    def column(self, name: str) -> np.ndarray:
        if name not in FIELDS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]

    def take(self, start: int, stop: int) -> Candles:
        """Rows [start, stop) as views (no copy)."""
        sl = slice(start, stop)
        return Candles(self.symbol, self.timeframe, self.time[sl], self.open[sl], self.high[sl],
                       self.low[sl], self.close[sl], self.volume[sl],
                       None if self.filled is None else self.filled[sl])

    def between(self, start_ms: int | None = None, end_ms: int | None = None) -> Candles:
        """Candles whose open time is in [start_ms, end_ms)."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.time, start_ms, "left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.time, end_ms, "left"))
        return self.take(lo, hi)

    @classmethod
    def from_arrays(cls, symbol: str, timeframe: str, time: np.ndarray, open: np.ndarray,
                    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> Candles:
        def f(a: np.ndarray) -> np.ndarray:   # no copy when already contiguous float64
            return np.ascontiguousarray(a, dtype=np.float64)

        return cls(symbol, timeframe, np.ascontiguousarray(time, dtype=np.int64),
                   f(open), f(high), f(low), f(close), f(volume))
