"""A market: candles of one or more symbols on one shared clock, gaps handled.

The portfolio kernel needs every symbol on the same bars. Each symbol's gaps
are filled by the chosen policy first (freqtrade's rule by default); the
shared clock is then the range all symbols cover, so no symbol trades on
bars it has no candle for.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.data.errors import NoDataError
from engine.data.gaps import fill_gaps
from engine.data.load import data_source, load_candles
from engine.data.sample import SAMPLE_SYMBOLS, ensure_sample_market
from engine.data.timeparse import parse_date

__all__ = ["Market", "load_market"]


@dataclass(frozen=True)
class Market:
    symbols: tuple[str, ...]
    timeframe: str
    candles: dict[str, Candles]              # per symbol, on the shared clock
    gaps_filled: dict[str, int]
    source: str

    @property
    def time(self) -> np.ndarray:
        return self.candles[self.symbols[0]].time

    def stacked(self, field: str) -> np.ndarray:
        """[n_bars, n_symbols] array of one OHLCV field."""
        return np.column_stack([self.candles[s].column(field) for s in self.symbols])

    def take(self, start: int, stop: int) -> Market:
        return Market(self.symbols, self.timeframe, {s: c.take(start, stop) for s, c in self.candles.items()},
                      self.gaps_filled, self.source)


def _default_symbols(source: Path | None) -> tuple[str, ...]:
    if source is None:
        return (SAMPLE_SYMBOLS[0],)
    src = data_source(source)
    symbols = sorted({e.symbol for e in src.entries}) if src.kind == "store" else [src.candles.symbol]  # type: ignore[union-attr]
    if len(symbols) != 1:
        raise NoDataError(f"{source} holds {len(symbols)} symbols ({', '.join(symbols[:6])}); "
                          "choose with --symbols")
    return (symbols[0],)


def load_market(timeframe: str, data: str | None, symbols: tuple[str, ...], start: str | None,
                end: str | None, warmup_bars: int, gaps: str = "fill") -> Market:
    """Candles for `symbols` from `start - warmup` to `end`, gap-handled and on one clock."""
    source = Path(data) if data else None
    root = source if source is not None else ensure_sample_market()
    symbols = symbols or _default_symbols(source)
    step = timeframe_ms(timeframe)
    lo = parse_date(start) if start else None
    hi = parse_date(end) if end else None
    if lo is not None and hi is not None and hi <= lo:
        raise NoDataError(f"--to {end} is not after --from {start}")
    load_from = None if lo is None else lo - warmup_bars * step
    candles: dict[str, Candles] = {}
    filled: dict[str, int] = {}
    for symbol in symbols:
        c = load_candles(root, symbol, timeframe, load_from, hi)
        if len(c) == 0:
            raise NoDataError(f"no {timeframe} candles for {symbol} in {root} for the requested range")
        candles[symbol], filled[symbol] = fill_gaps(c, gaps)
    first = max(int(c.time[0]) for c in candles.values())
    last = min(int(c.time[-1]) for c in candles.values())
    if last < first:
        raise NoDataError("the symbols' histories do not overlap: " + ", ".join(symbols))
    if gaps == "drop" and len(symbols) > 1:
        times = [c.between(first, last + 1).time for c in candles.values()]
        if any(len(t) != len(times[0]) or (t != times[0]).any() for t in times):
            raise NoDataError("with gaps: drop, symbols have different candles; use gaps: fill for a portfolio")
    shared = {s: c.between(first, last + 1) for s, c in candles.items()}
    return Market(tuple(symbols), timeframe, shared, filled, str(root))
