"""A market: candles of one or more symbols on one shared clock, gaps handled.

Each symbol's gaps are handled by the chosen policy first (freqtrade's flat
candles by default), on its own history. The shared clock is the union of the
symbols' candle times: a symbol listed later simply has no candle (NaN
prices, no signal) before its listing, so adding it never cuts the history
of the others. Indicators are computed on each symbol's own candles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.data.errors import NoDataError
from engine.data.gaps import fill_gaps
from engine.data.load import DataSource, data_source, load_candles
from engine.data.sample import SAMPLE_SYMBOLS, ensure_sample_market
from engine.data.timeparse import format_ms, parse_date

__all__ = ["Market", "load_market"]


@dataclass(frozen=True)
class Market:
    symbols: tuple[str, ...]
    timeframe: str
    candles: dict[str, Candles]              # per symbol, its own candles
    gaps_filled: dict[str, int]
    source: str
    clock: np.ndarray = field(init=False, repr=False)             # union of the symbols' times
    rows: dict[str, np.ndarray] = field(init=False, repr=False)   # each candle's row in the clock

    def __post_init__(self) -> None:
        times = [self.candles[s].time for s in self.symbols]
        if len(times) == 1:  # one symbol: its own times are the clock
            clock, rows = times[0], {self.symbols[0]: np.arange(len(times[0]))}
        else:
            clock = np.unique(np.concatenate(times))
            rows = {s: np.searchsorted(clock, t) for s, t in zip(self.symbols, times, strict=True)}
        object.__setattr__(self, "clock", clock)
        object.__setattr__(self, "rows", rows)

    @property
    def time(self) -> np.ndarray:
        return self.clock

    def stacked(self, field: str) -> np.ndarray:
        """[n_bars, n_symbols] array of one OHLCV field; NaN where a symbol has no candle."""
        if len(self.symbols) == 1:
            return self.candles[self.symbols[0]].column(field).reshape(-1, 1)
        out = np.full((len(self.clock), len(self.symbols)), np.nan)
        for j, s in enumerate(self.symbols):
            out[self.rows[s], j] = self.candles[s].column(field)
        return out

    def own_range(self, symbol: str, a: int, b: int) -> tuple[int, int]:
        """The symbol's own candle indexes [lo, hi) that fall in clock rows [a, b)."""
        rows = self.rows[symbol]
        return int(np.searchsorted(rows, a, "left")), int(np.searchsorted(rows, b, "left"))

    def take(self, start: int, stop: int) -> Market:
        """Clock rows [start, stop) (slices: nothing is searched or copied again)."""
        candles, rows = {}, {}
        for s in self.symbols:
            lo, hi = self.own_range(s, start, stop)
            if hi > lo:
                candles[s], rows[s] = self.candles[s].take(lo, hi), self.rows[s][lo:hi] - start
        keep = tuple(s for s in self.symbols if s in candles)
        market = object.__new__(Market)
        for name, value in (("symbols", keep), ("timeframe", self.timeframe), ("candles", candles),
                            ("gaps_filled", self.gaps_filled), ("source", self.source),
                            ("clock", self.clock[start:stop]), ("rows", rows)):
            object.__setattr__(market, name, value)
        return market


def _default_symbols(src: DataSource) -> tuple[str, ...]:
    symbols = src.symbols()
    if not symbols:
        raise NoDataError(f"{src.path} holds no candles; get some with `superbot data download`, "
                          "`superbot data import FILE` or `superbot data synth`, then pass that "
                          "store with --data (or leave --data out to use the sample market)")
    if len(symbols) != 1:
        raise NoDataError(f"{src.path} holds {len(symbols)} symbols ({', '.join(symbols[:6])}"
                          f"{', ...' if len(symbols) > 6 else ''}); choose with --symbols")
    return (symbols[0],)


def _held_range(src: DataSource, symbol: str) -> str:
    """What the source holds of `symbol`, for an error about a range outside it."""
    spans = [f"{e.timeframe} {format_ms(e.first)} .. {format_ms(e.last)}"
             for e in src.entries if e.symbol == symbol and e.first is not None]
    return f"{symbol} has candles {'; '.join(spans)} (open times, UTC)" if spans else f"{symbol}: none"


def _date(option: str, text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise NoDataError(f"{option} {text!r} is not an ISO-8601 date or datetime (UTC), "
                          "e.g. 2024-03-01 or 2024-03-01T12:00") from None


def load_market(timeframe: str, data: str | None, symbols: tuple[str, ...], start: str | None,
                end: str | None, warmup_bars: int, gaps: str = "fill",
                date_names: tuple[str, str] = ("--from", "--to")) -> Market:
    """Candles for `symbols` from `start - warmup` to `end`, gap-handled and on one clock.

    The source is described once (a single candle file is read and validated
    once) and every symbol is loaded from that description. `date_names` are
    what messages call `start` and `end`: the options, or a deployment's fields.
    """
    root = Path(data) if data else ensure_sample_market()
    src = data_source(root)
    if not symbols:   # the sample market trades its first symbol unless told otherwise
        symbols = (SAMPLE_SYMBOLS[0],) if not data else _default_symbols(src)
    symbols = tuple(dict.fromkeys(symbols))  # each market once
    step = timeframe_ms(timeframe)
    from_name, to_name = date_names
    lo, hi = _date(from_name, start), _date(to_name, end)
    if lo is not None and hi is not None and hi <= lo:
        raise NoDataError(f"{to_name} {end} is not after {from_name} {start}")
    load_from = None if lo is None else lo - warmup_bars * step
    candles: dict[str, Candles] = {}
    filled: dict[str, int] = {}
    for symbol in symbols:
        c = load_candles(src, symbol, timeframe, load_from, hi)
        if len(c) == 0:
            asked = " ".join(x for x in (f"{from_name} {start}" if start else "",
                                         f"{to_name} {end}" if end else "") if x)
            raise NoDataError(f"no {timeframe} candles for {symbol} in {root} for "
                              f"{asked or 'the bounds given'}; {_held_range(src, symbol)}",
                              hint=f"choose {from_name}/{to_name} inside that range")
        candles[symbol], filled[symbol] = fill_gaps(c, gaps)
    return Market(tuple(symbols), timeframe, candles, filled, str(root))
