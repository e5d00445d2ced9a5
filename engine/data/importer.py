"""Importing candle files into the store, and reading one file as candles.

Steps of `read_candle_file`:
1. read every row of the file (`engine.data.readers`);
2. name it: --symbol / --timeframe when given, else the file's own metadata
   (a SuperBot store file), else freqtrade's file name (`_identify`);
3. apply the candle rules and the bad-rows policy (`engine.data.validation`).

`import_path` does this for a file or for every candle file under a
directory, then merges each into the store. Files that are not trade candles
(freqtrade's trades, mark, index and funding-rate files, HDF5) are listed as
skipped with the reason, never ignored silently; a file that fails does not
stop the others, and its error is returned with it. In a directory, a file
without candle columns is skipped with the reason; named on its own, it is
an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compiler.timeframes import TIMEFRAMES, timeframe_ms
from engine.data.candles import Candles
from engine.data.errors import DataError, NotCandlesError, RowProblem
from engine.data.names import check_symbol, parse_file_name
from engine.data.readers import file_format, read_source
from engine.data.store import CandleStore, MergeResult
from engine.data.validation import RawCandles, apply_policy

__all__ = [
    "DEFAULT_IMPORT_EXCHANGE",
    "ImportOutcome",
    "LoadedFile",
    "import_path",
    "read_candle_file",
    "spacing_timeframe",
]

DEFAULT_IMPORT_EXCHANGE = "imported"
_NOT_READ = {".h5": "HDF5 files are not read; convert them to feather first "
                    "(freqtrade convert-data --format-to feather)",
             ".hdf5": "HDF5 files are not read; convert them to feather first"}


@dataclass(frozen=True)
class LoadedFile:
    """A file read as candles, with the rows skipped under `--bad-rows skip`."""

    path: Path
    candles: Candles
    skipped: list[RowProblem]
    exchange: str | None = None     # what the file's own metadata says, if anything


@dataclass
class ImportOutcome:
    """What happened to one file: imported, skipped (with why), or failed (with the error)."""

    path: Path
    loaded: LoadedFile | None = None
    merged: MergeResult | None = None
    skipped_file: str | None = None
    error: DataError | None = None
    notes: list[str] = field(default_factory=list)


_SAMPLE = 4096   # spacings looked at to guess the step; the guess is then checked on all rows


def _usual_step(time: np.ndarray) -> int | None:
    """The candles' usual spacing in ms, in O(n) and without sorting.

    The most common positive difference between neighbours in an even sample
    is the guess; it is kept when every positive difference of the whole file
    is a multiple of it (gaps are), which costs one vectorized pass. Files
    that fail the check (rows out of order, times off the grid) take the exact
    but sorting way: the median spacing between distinct times.
    """
    steps = np.diff(time)
    positive = steps[steps > 0]
    if len(positive) == 0:
        return None
    sample = positive[:: max(1, len(positive) // _SAMPLE)]
    values, counts = np.unique(sample, return_counts=True)     # a few thousand values
    guess = int(values[np.argmax(counts)])
    if len(positive) == len(steps) and not np.any(positive % guess):
        return guess
    return _exact_step(time)


def _exact_step(time: np.ndarray) -> int | None:
    """The median spacing between distinct times: sorts, so only for irregular files."""
    distinct = np.diff(np.unique(time))
    return int(np.median(distinct)) if len(distinct) else None


def spacing_timeframe(time: np.ndarray) -> str | None:
    """The timeframe the candles' usual spacing matches, if any."""
    step = _usual_step(np.asarray(time, dtype=np.int64))
    return next((tf for tf in TIMEFRAMES if timeframe_ms(tf) == step), None)


def _identify(path: Path, raw: RawCandles, meta: dict[str, str], symbol: str | None,
              timeframe: str | None) -> tuple[str, str]:
    name = parse_file_name(path)
    symbol = symbol or meta.get("symbol") or (name.symbol if name else None)
    tf_from_name = timeframe is None and not meta.get("timeframe")
    timeframe = timeframe or meta.get("timeframe") or (name.timeframe if name else None)
    seen = spacing_timeframe(raw.time[~raw.bad_time])
    seen_hint = f"; the candles are {seen} apart" if seen else ""
    if symbol is None or timeframe is None:
        missing = " and ".join(x for x, v in (("--symbol", symbol), ("--timeframe", timeframe))
                               if v is None)
        raise DataError(f"{path}: the file name does not say the symbol and timeframe "
                        f"(freqtrade names files like BTC_USDT-5m.feather){seen_hint}; "
                        f"pass {missing}")
    check_symbol(symbol)
    source = "the file name gives" if tf_from_name else "the timeframe"
    if timeframe not in TIMEFRAMES:
        raise DataError(f"{path}: {source} timeframe '{timeframe}', which is not a timeframe "
                        f"({' '.join(TIMEFRAMES)}){seen_hint}; pass --timeframe "
                        f"{seen or 'TF'}")
    if seen and timeframe_ms(seen) < timeframe_ms(timeframe):
        raise DataError(f"{path}: {source} {timeframe}, but the candles are {seen} apart; "
                        f"pass --timeframe {seen}")
    return symbol, timeframe


def read_candle_file(path: str | Path, symbol: str | None = None, timeframe: str | None = None,
                     bad_rows: str = "error") -> LoadedFile:
    """One candle file (csv, parquet, feather, freqtrade json/json.gz) as validated candles.

    Raises `BadRowsError` listing every bad row when `bad_rows='error'` (the default);
    with `'skip'` the bad rows are left out and returned in `LoadedFile.skipped`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    source = read_source(path)
    name = parse_file_name(path)
    if name is not None and not name.is_trade_candles and symbol is None:
        kind = "trades" if name.candle_type == "trades" else f"{name.candle_type} candles"
        raise DataError(f"{path}: holds {kind}, not trade candles; only spot and futures "
                        "candles are imported")
    sym, tf = _identify(path, source.raw, source.meta, symbol, timeframe)
    candles, skipped = apply_policy(source.raw, sym, tf, str(path), bad_rows)
    return LoadedFile(path, candles, skipped, source.meta.get("exchange"))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _skip_reason(path: Path) -> str | None:
    """Why a file found in a directory is not imported, or None to import it."""
    suffix = path.suffix.lower()
    if suffix in _NOT_READ:
        return _NOT_READ[suffix]
    if file_format(path) is None:
        return ""                    # not a data file at all: not worth a line
    name = parse_file_name(path)
    if name is not None and not name.is_trade_candles:
        return ("trades, not candles" if name.candle_type == "trades"
                else f"{name.candle_type} candles, not trade candles")
    return None


def import_path(path: str | Path, store: CandleStore, exchange: str | None = None,
                symbol: str | None = None, timeframe: str | None = None,
                bad_rows: str = "error") -> list[ImportOutcome]:
    """Import a file, or every candle file under a directory, into `store`.

    The exchange is `exchange`, else the one a SuperBot store file names, else
    `imported`. Each outcome tells what was added and replaced, what was skipped.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file or directory: {path}")
    outcomes: list[ImportOutcome] = []
    for file in _files(path) if path.is_dir() else [path]:
        reason = _skip_reason(file) if path.is_dir() else None
        if reason == "":
            continue
        outcome = ImportOutcome(file)
        outcomes.append(outcome)
        if reason is not None:
            outcome.skipped_file = reason
            continue
        try:
            outcome.loaded = read_candle_file(file, symbol, timeframe, bad_rows)
        except NotCandlesError as exc:
            if not path.is_dir():
                outcome.error = exc
            else:   # a directory may hold other files (trades, reports): list, do not fail
                outcome.skipped_file = f"not candle data ({str(exc).split(': ', 1)[-1]})"
            continue
        except DataError as exc:
            outcome.error = exc
            continue
        if len(outcome.loaded.candles) == 0:
            outcome.notes.append("no candles in the file")
            continue
        ex = exchange or outcome.loaded.exchange or DEFAULT_IMPORT_EXCHANGE
        outcome.merged = store.merge(ex, outcome.loaded.candles)
    return outcomes
