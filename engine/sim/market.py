"""The candle clock: which candles are closed, which one is open, and the price now.

The simulator plays stored (or synthetic) candles of one timeframe. Its clock
`now` is the OPEN time of the current, still open candle: every candle with an
open time before `now` is closed and public; the open candle shows only its
open price (open = high = low = close, volume 0), because its future must
not leak. The price now is that open. `advance(1)` closes the open candle:
its high/low is what resting orders are matched against (engine/sim/book.py),
and the next candle opens.

Symbols share the clock; a symbol without a candle at `now` (a gap) keeps the
close of its last closed candle as its price.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.sim.errors import SimConfigError

__all__ = ["INTERVALS", "Bar", "Market", "exchange_symbol"]

# Binance's intervals up to a day (weeks and months do not start on epoch boundaries)
INTERVALS = {name: n * unit for unit, names in ((60_000, {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30}),
                                                (3_600_000, {"1h": 1, "2h": 2, "4h": 4, "6h": 6, "8h": 8,
                                                             "12h": 12}),
                                                (86_400_000, {"1d": 1}))
             for name, n in names.items()}
DEFAULT_HISTORY = 1000   # candles already closed when the clock starts (when the data has them)


def exchange_symbol(symbol: str) -> str:
    """'BTC/USDT' -> 'BTCUSDT', Binance's spelling."""
    return symbol.replace("/", "")


@dataclass(frozen=True)
class Bar:
    """One candle as the matcher sees it (floats from the data layer)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Market:
    """Candles of several symbols at one timeframe and a clock over them."""

    def __init__(self, candles: list[Candles], start: int | None = None) -> None:
        if not candles:
            raise SimConfigError("the simulator needs candles of at least one symbol",
                                 location="--data", hint="pass a candle store or file with --data")
        timeframes = sorted({c.timeframe for c in candles})
        if len(timeframes) != 1:
            raise SimConfigError(f"candles of one timeframe are needed, were {', '.join(timeframes)}",
                                 location="--timeframe", hint="choose one timeframe with --timeframe")
        empty = [c.symbol for c in candles if len(c) == 0]
        if empty:
            raise SimConfigError(f"no candles for {', '.join(empty)}", location="--data",
                                 hint="download or import candles with `superbot data`")
        self.timeframe = timeframes[0]
        self.step = timeframe_ms(self.timeframe)
        self.candles = {exchange_symbol(c.symbol): c for c in candles}
        self.pairs = {exchange_symbol(c.symbol): tuple(c.symbol.split("/", 1)) for c in candles}
        self.first = min(int(c.time[0]) for c in candles)
        self.last = max(int(c.time[-1]) for c in candles)
        if start is None:
            longest = max(candles, key=len)
            start = int(longest.time[min(DEFAULT_HISTORY, len(longest) - 1)])
        if not self.first <= start <= self.last + self.step:
            raise SimConfigError(f"the start {start} is outside the data ({self.first}..{self.last})",
                                 location="--start", hint="choose a start time inside the candles")
        self.now = start - (start - self.first) % self.step

    @property
    def finished(self) -> bool:
        """The last candle has closed: nothing more to play."""
        return self.now > self.last

    def interval(self, name: str) -> int | None:
        """The length in ms of Binance interval `name` if the candles can make it, else None."""
        size = INTERVALS.get(name)
        return size if size is not None and size % self.step == 0 else None

    def _index(self, symbol: str) -> int:
        """Number of closed candles of `symbol` (= index of the open one, if it exists)."""
        return int(np.searchsorted(self.candles[symbol].time, self.now, side="left"))

    def price(self, symbol: str) -> Decimal:
        """The price now: the open of the open candle, else the last close."""
        c = self.candles[symbol]
        i = self._index(symbol)
        value = c.open[i] if i < len(c) and int(c.time[i]) == self.now else c.close[max(i - 1, 0)]
        return Decimal(repr(float(value)))

    def closed(self, symbol: str, start: int | None, end: int | None, limit: int) -> list[Bar]:
        """Closed candles with open time in [start, end], at most `limit`: the first ones
        after `start` if given, else the last ones up to `end` (Binance's klines rule)."""
        c = self.candles[symbol]
        hi = self._index(symbol)
        if end is not None:
            hi = min(hi, int(np.searchsorted(c.time, end, side="right")))
        lo = 0 if start is None else int(np.searchsorted(c.time, start, side="left"))
        if start is None:
            lo = max(lo, hi - limit)
        hi = min(hi, lo + limit)
        return [self._bar(c, i) for i in range(lo, hi)]

    def open_bar(self, symbol: str) -> Bar | None:
        """The candle that is open now, showing only its open price."""
        c = self.candles[symbol]
        i = self._index(symbol)
        if i >= len(c) or int(c.time[i]) != self.now:
            return None
        o = float(c.open[i])
        return Bar(self.now, o, o, o, o, 0.0)

    def coarse(self, symbol: str, interval: int, start: int | None, end: int | None,
               limit: int) -> list[Bar]:
        """Candles of a larger `interval` (a multiple of the step, on UTC epoch boundaries) made
        of the closed candles, as klines show them: the candle holding `now` last, built from
        its closed part and the open candle's open (its close is the price now)."""
        c = self.candles[symbol]
        current = self.now - self.now % interval
        last = current if end is None else min(current, end - end % interval)
        if start is not None:
            first = start + (-start) % interval
            last = min(last, first + (limit - 1) * interval)
        else:
            first = last - (limit - 1) * interval
        if last < first:
            return []
        lo = int(np.searchsorted(c.time, first, side="left"))
        hi = min(self._index(symbol), int(np.searchsorted(c.time, last + interval, side="left")))
        bars: list[Bar] = []
        if hi > lo:
            t = c.time[lo:hi]
            keys = t - t % interval
            cuts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            highs = np.maximum.reduceat(c.high[lo:hi], cuts)
            lows = np.minimum.reduceat(c.low[lo:hi], cuts)
            vols = np.add.reduceat(c.volume[lo:hi], cuts)
            ends = np.r_[cuts[1:], hi - lo] - 1
            bars = [Bar(int(keys[a]), float(c.open[lo + a]), float(highs[j]), float(lows[j]),
                        float(c.close[lo + e]), float(vols[j]))
                    for j, (a, e) in enumerate(zip(cuts, ends, strict=True))]
        live = self.open_bar(symbol) if last == current else None
        if live is not None:
            if bars and bars[-1].time == current:
                b = bars[-1]
                bars[-1] = Bar(b.time, b.open, max(b.high, live.open), min(b.low, live.open), live.open,
                               b.volume)
            else:
                bars.append(Bar(current, live.open, live.open, live.open, live.open, 0.0))
        return bars

    def last_closed(self, symbol: str, count: int) -> list[Bar]:
        """The last `count` closed candles (for the 24h ticker)."""
        return self.closed(symbol, None, None, count)

    def tick(self) -> dict[str, Bar]:
        """Close the open candle: move the clock one step; returns the candles that closed."""
        if self.finished:
            return {}
        out: dict[str, Bar] = {}
        for symbol, c in self.candles.items():
            i = self._index(symbol)
            if i < len(c) and int(c.time[i]) == self.now:
                out[symbol] = self._bar(c, i)
        self.now += self.step
        return out

    @staticmethod
    def _bar(c: Candles, i: int) -> Bar:
        return Bar(int(c.time[i]), float(c.open[i]), float(c.high[i]), float(c.low[i]),
                   float(c.close[i]), float(c.volume[i]))
