"""What the rest of the engine calls to get candles: `load_candles` and `data_source`.

A source is a store directory (the root, or one exchange's directory in it)
or a single candle file in any importable format. The backtest passes what
the user gave to `--data`; without it, the sample market's store.

When the store holds the symbol only in a smaller timeframe that divides the
one asked for (1m stored, 5m asked), the candles are resampled on UTC epoch
boundaries by `compiler.resample` (complete candles only) and `Loaded.resampled_from`
says so; nothing else is ever derived silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.data.errors import BadRowsError, DataError, NoDataError
from engine.data.importer import LoadedFile, read_candle_file
from engine.data.names import parse_file_name
from engine.data.store import CandleStore, StoreEntry, read_store_file
from engine.data.timeparse import parse_date

__all__ = ["DataSource", "data_source", "load_candles"]

Time = int | str | None   # ms, or a date string as accepted by `parse_date`


@dataclass(frozen=True)
class DataSource:
    """What a path holds: `kind` is 'store' or 'file'; one entry per (exchange, symbol, tf)."""

    path: Path
    kind: str
    entries: tuple[StoreEntry, ...]
    candles: Candles | None = field(default=None, compare=False, repr=False)  # a file's, read once

    def symbols(self, timeframe: str | None = None) -> list[str]:
        """Symbols held, in order, optionally only those usable at `timeframe`."""
        out: list[str] = []
        for e in self.entries:
            if e.symbol not in out and (timeframe is None or _divides(e.timeframe, timeframe)):
                out.append(e.symbol)
        return out

    def find(self, symbol: str, timeframe: str, exchange: str | None = None) -> StoreEntry:
        """The entry to load `symbol` at `timeframe`: the exact timeframe, else the largest
        stored one that divides it. Raises `NoDataError` naming what is there."""
        mine = [e for e in self.entries if e.symbol == symbol
                and (exchange is None or e.exchange == exchange)]
        exchanges = sorted({e.exchange for e in mine})
        if len(exchanges) > 1:
            raise DataError(f"{self.path}: {symbol} is held for several exchanges "
                            f"({', '.join(exchanges)}); choose one with --exchange")
        usable = [e for e in mine if _divides(e.timeframe, timeframe)]
        if not usable:
            held = ", ".join(f"{e.symbol} {e.timeframe}" for e in self.entries[:12]) or "nothing"
            raise NoDataError(f"{self.path} has no {symbol} candles at {timeframe} or a smaller "
                              f"timeframe that divides it (it holds: {held}); download or "
                              "import them with `superbot data download` / `superbot data import`")
        return max(usable, key=lambda e: timeframe_ms(e.timeframe))


def _divides(stored: str, wanted: str) -> bool:
    return timeframe_ms(wanted) % timeframe_ms(stored) == 0


def _is_store_dir(path: Path) -> bool:
    return any(path.glob("*/*/*.parquet")) or not any(path.glob("*/*.parquet"))


def _read_file(path: Path, symbol: str | None, timeframe: str | None) -> LoadedFile:
    """The file as its name or metadata describes it; when they say nothing, as the
    caller's symbol and timeframe describe it."""
    try:
        return read_candle_file(path)
    except BadRowsError:
        raise
    except DataError:
        if symbol is None or timeframe is None:
            raise
        return read_candle_file(path, symbol, timeframe)


def data_source(path: str | Path, symbol: str | None = None,
                timeframe: str | None = None) -> DataSource:
    """Describe a store directory (root or one exchange's directory) or a candle file.

    A file is read (and validated) once; `symbol` and `timeframe` name a file whose
    name does not follow freqtrade's pattern.
    """
    path = Path(path).expanduser()
    if path.is_file():
        loaded = _read_file(path, symbol, timeframe)
        c = loaded.candles
        entry = StoreEntry(loaded.exchange or "file", c.symbol, c.timeframe, path, len(c),
                           int(c.time[0]) if len(c) else None, int(c.time[-1]) if len(c) else None, {})
        return DataSource(path, "file", (entry,), c)
    if not path.is_dir():
        raise DataError(f"no such file or directory: {path}")
    if _is_store_dir(path):
        entries = list(CandleStore(path).entries())
    else:
        entries = [e for e in CandleStore(path.parent).entries() if e.exchange == path.name]
    if not entries:
        loose = sorted(p.name for p in path.iterdir() if parse_file_name(p) is not None)[:3]
        if loose:
            raise NoDataError(f"{path} is not a candle store but holds candle files ({', '.join(loose)}, ...); "
                              f"import them with `superbot data import {path}`, or pass one file with --data")
    return DataSource(path, "store", tuple(entries))


def _ms(value: Time) -> int | None:
    return None if value is None else value if isinstance(value, int) else parse_date(value)


def load_candles(source: str | Path | DataSource, symbol: str | None = None,
                 timeframe: str | None = None, start: Time = None, end: Time = None, *,
                 exchange: str | None = None) -> Candles:
    """Candles of `symbol` at `timeframe` with open time in [start, end) from a store or file.

    For a file, `symbol` and `timeframe` default to what the file holds (its
    name or metadata) and, when given, must match it (or the timeframe may be
    a multiple, then the file is resampled). For a store both are required
    unless the store holds a single symbol or timeframe. Pass a `DataSource`
    already described to read a file only once.
    """
    src = (source if isinstance(source, DataSource)
           else data_source(source, symbol=symbol, timeframe=timeframe))
    lo, hi = _ms(start), _ms(end)
    if src.kind == "file":
        c = src.candles if src.candles is not None else read_candle_file(src.path).candles
        if symbol is not None and symbol != c.symbol:
            raise NoDataError(f"{src.path} holds {c.symbol}, not {symbol}")
        candles = c.between(lo, hi)
        if timeframe is not None and timeframe != c.timeframe:
            if not _divides(c.timeframe, timeframe):
                raise NoDataError(f"{src.path} holds {c.timeframe} candles, which cannot make "
                                  f"{timeframe} candles")
            from compiler.resample import resample
            candles = resample(candles, timeframe)
        return candles
    symbol = symbol or _only(src, "symbol", sorted({e.symbol for e in src.entries}))
    timeframe = timeframe or _only(src, "timeframe",
                                   sorted({e.timeframe for e in src.entries if e.symbol == symbol}))
    entry = src.find(symbol, timeframe, exchange)
    candles = read_store_file(entry.path, lo, hi)
    if entry.timeframe != timeframe:
        from compiler.resample import resample
        candles = resample(candles, timeframe)
    return candles


def _only(src: DataSource, what: str, values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    if not values:
        raise NoDataError(f"{src.path} holds no candles; import, download or synthesize some "
                          "with `superbot data`")
    raise DataError(f"{src.path} holds several: {', '.join(values)}; choose the {what}")
