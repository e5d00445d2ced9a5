"""Reading candle files of every supported format into raw columns.

Formats: CSV with a header row (.csv, .csv.gz), parquet, feather (Arrow
IPC, freqtrade's default), and freqtrade's JSON (.json, .json.gz, .jsongz:
a list of `[ts_ms, open, high, low, close, volume]`, or pandas' column
orientation `{"date": {"0": ts, ...}, "open": {...}}`).

Readers only read: they keep every row, in file order, and mark what they
could not parse. `engine.data.validation` then applies the candle rules.

Numbers are parsed correctly rounded, so a value in a text file becomes the
nearest double of its decimal text (Python's `json` and `float`, never a
fast approximate parser; see the float caveat in the data README).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import feather

from engine.data.candles import FIELDS
from engine.data.errors import DataError, NotCandlesError
from engine.data.timeparse import column_to_ms
from engine.data.validation import RawCandles

__all__ = ["FORMATS", "TIME_COLUMNS", "SourceFile", "read_source"]

TIME_COLUMNS = ("date", "time", "timestamp", "datetime", "open_time", "opentime", "ts")
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".feather": "feather",
           ".json": "json", ".json.gz": "json", ".jsongz": "json"}


@dataclass
class SourceFile:
    """A file's rows, and what its own metadata says (a SuperBot store file knows its symbol)."""

    raw: RawCandles
    format: str
    meta: dict[str, str] = field(default_factory=dict)


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    return None


def _find(names: list[str], wanted: tuple[str, ...], path: Path, what: str) -> str:
    lower = {n.lower().strip(): n for n in names}
    for w in wanted:
        if w in lower:
            return lower[w]
    raise NotCandlesError(f"{path}: no {what} column; the columns are {', '.join(names) or 'none'} "
                    f"(expected one of {', '.join(wanted)})")


def _floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text or numbers -> (float64, rows that are not numbers). Correctly rounded."""
    if values.dtype.kind in "iuf":
        return values.astype(np.float64), np.zeros(len(values), dtype=bool)
    texts = np.asarray(values, dtype=object)
    try:
        return np.array([float(x) for x in texts], dtype=np.float64), np.zeros(len(texts), bool)
    except (TypeError, ValueError):
        out = np.full(len(texts), np.nan)
        bad = np.zeros(len(texts), dtype=bool)
        for i, x in enumerate(texts):
            try:
                out[i] = float(x)
            except (TypeError, ValueError):
                bad[i] = True
        return out, bad


def _from_table(table: pa.Table, path: Path, first_line: int | None = None) -> RawCandles:
    names = table.column_names
    time_name = _find(names, TIME_COLUMNS, path, "date/time")
    time, bad_time = column_to_ms(table.column(time_name))
    columns: dict[str, np.ndarray] = {}
    unreadable: dict[str, np.ndarray] = {}
    for f in FIELDS:
        col = table.column(_find(names, (f,), path, f))
        if (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)) and col.null_count == 0:
            columns[f] = col.cast(pa.float64()).to_numpy(zero_copy_only=False)   # no copy when it can
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            null = col.is_null().to_numpy(zero_copy_only=False)
            values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
            columns[f], unreadable[f] = np.where(null, np.nan, values), np.asarray(null, bool)
        else:
            columns[f], unreadable[f] = _floats(col.to_numpy(zero_copy_only=False))
    return RawCandles(time, columns, bad_time, first_line=first_line, unreadable=unreadable)


def _read_csv(path: Path) -> RawCandles:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from exc
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return _from_table(table, path, first_line=2)   # line 1 is the header


def _json_rows(rows: list[Any], path: Path) -> RawCandles:
    n = len(rows)
    if n and all(isinstance(r, list) and len(r) == 6 for r in rows):
        try:
            arr = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is not None:
            times = np.array([r[0] for r in rows])
            time, bad_time = column_to_ms(pa.array(times))
            return RawCandles(time, {f: arr[:, i + 1] for i, f in enumerate(FIELDS)}, bad_time)
    # irregular rows: read one by one so each bad row is reported, not the whole file
    time = np.zeros(n, dtype=np.int64)
    bad_time = np.ones(n, dtype=bool)
    cols = {f: np.full(n, np.nan) for f in FIELDS}
    unreadable = {f: np.zeros(n, dtype=bool) for f in FIELDS}
    ts_values: list[float] = []
    ts_rows: list[int] = []
    for i, r in enumerate(rows):
        if not isinstance(r, list) or len(r) < 6:
            for f in FIELDS:
                unreadable[f][i] = True
            continue
        if isinstance(r[0], (int, float)) and not isinstance(r[0], bool):
            ts_values.append(r[0])
            ts_rows.append(i)
        for k, f in enumerate(FIELDS, start=1):
            try:
                cols[f][i] = float(r[k])
            except (TypeError, ValueError):
                unreadable[f][i] = True
    if ts_rows:
        ms, bad = column_to_ms(pa.array(ts_values, type=pa.float64()))
        time[ts_rows], bad_time[ts_rows] = ms, bad
    return RawCandles(time, cols, bad_time, unreadable=unreadable)


def _read_json(path: Path) -> RawCandles:
    opener = gzip.open if path.name.lower().endswith(("gz",)) else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable JSON file ({exc})") from exc
    if isinstance(data, list):
        return _json_rows(data, path)
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        keys = sorted(next(iter(data.values()), {}), key=lambda k: int(k))  # pandas row labels
        table = pa.table({name: pa.array([col.get(k) for k in keys]) for name, col in data.items()})
        return _from_table(table, path)
    raise DataError(f"{path}: JSON is neither a list of [time, open, high, low, close, volume] "
                    "rows nor a {column: {row: value}} object")


def read_source(path: str | Path) -> SourceFile:
    """Every row of a candle file, in file order, with what could not be parsed marked."""
    path = Path(path)
    fmt = file_format(path)
    if fmt is None:
        raise DataError(f"{path}: unknown file type; use .csv, .parquet, .feather, .json or .json.gz")
    if fmt == "csv":
        return SourceFile(_read_csv(path), fmt)
    if fmt == "json":
        return SourceFile(_read_json(path), fmt)
    pa.set_memory_pool(pa.system_memory_pool())   # returns freed buffers to the OS (see store.py)
    try:
        table = feather.read_table(path) if fmt == "feather" else pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{path}: not a readable {fmt} file ({exc})") from exc
    meta = {k.decode()[len("superbot."):]: v.decode() for k, v in (table.schema.metadata or {}).items()
            if k.decode().startswith("superbot.")}
    return SourceFile(_from_table(table, path), fmt, meta)
