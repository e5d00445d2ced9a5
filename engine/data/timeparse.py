"""Times at the edges: user dates, file columns, and how they are printed.

Inside the engine a time is an int64 count of UTC milliseconds. Files and
users speak ISO-8601 strings, epoch seconds, milliseconds, microseconds or
nanoseconds; this module turns all of them into milliseconds, and says which
rows could not be read instead of guessing.

Epoch numbers are told apart by magnitude, once per column (never per row):
below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else
nanoseconds. A time with a fraction of a millisecond is rejected. ISO strings
without a zone are taken as UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["column_to_ms", "format_ms", "now_ms", "parse_date"]

_UNIT_SCALE = {"s": 1000, "ms": 1, "us": 1000, "ns": 1_000_000}  # us/ns divide, s multiplies


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def parse_date(text: str) -> int:
    """A user's date (`2024-01-01`, `20240101`, `2024-01-01T12:00`,
    `2024-01-01 12:00:00+02:00`, or epoch s / ms digits) as UTC milliseconds."""
    s = str(text).strip()
    if s.lstrip("-").isdigit() and len(s.lstrip("-")) >= 9:   # epoch; 20240101 is a date
        value = int(s)
        return value * 1000 if abs(value) < 100_000_000_000 else value
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"'{text}' is not a date; use ISO-8601 such as 2024-01-01 or "
                         "2024-01-01T12:00:00Z") from exc
    if pd.isna(ts):
        raise ValueError(f"'{text}' is not a date")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


def format_ms(ms: int | None) -> str:
    """`1704067200000` -> `2024-01-01 00:00:00` (UTC)."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _epoch_unit(values: np.ndarray) -> str:
    finite = np.abs(values[np.isfinite(values)]) if values.dtype.kind == "f" else np.abs(values)
    top = float(finite.max()) if len(finite) else 0.0
    if top < 1e11:
        return "s"
    if top < 1e14:
        return "ms"
    return "us" if top < 1e17 else "ns"


def _numbers_to_ms(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers (int or float, any unit) -> (ms, bad mask)."""
    unit = _epoch_unit(values)
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        safe = np.where(bad, 0.0, values)
        scaled = safe * 1000 if unit == "s" else safe / _UNIT_SCALE[unit]
        ms = np.round(scaled).astype(np.int64)
        bad |= np.abs(scaled - ms) > 1e-6          # a fraction of a millisecond
        return ms, bad
    ints = values.astype(np.int64)
    if unit == "s":
        return ints * 1000, np.zeros(len(ints), dtype=bool)
    if unit == "ms":
        return ints, np.zeros(len(ints), dtype=bool)
    div = _UNIT_SCALE[unit]
    return ints // div, ints % div != 0


def column_to_ms(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """A time column (pyarrow Array or ChunkedArray) -> (int64 ms, bad-row mask).

    Bad rows (null, unreadable, finer than a millisecond) get time 0 and
    `True` in the mask; the caller reports them with their positions.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    null = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    typ = column.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        if pa.types.is_date(typ):
            column = column.cast(pa.timestamp("ms"))
            typ = column.type
        raw = pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        div = _UNIT_SCALE[typ.unit] if typ.unit != "s" else 1
        if typ.unit == "s":
            return raw.astype(np.int64) * 1000, null
        ms = raw // div
        return ms.astype(np.int64), null | (raw % div != 0)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        values = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
        ms, bad = _numbers_to_ms(values)
        return ms, bad | null
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        texts = pd.Series(column.to_pandas(), dtype="object").fillna("").astype(str).str.strip()
        numeric = texts.str.fullmatch(r"-?[0-9]+(\.[0-9]+)?").to_numpy(dtype=bool)
        if n and numeric.all():
            as_float = bool(texts.str.contains(".", regex=False).any())
            values = texts.to_numpy().astype(np.float64 if as_float else np.int64)
            return _numbers_to_ms(values)
        # not all epoch numbers: the column is ISO text, and a bare number in it is a bad row
        parsed = pd.to_datetime(texts.where(~numeric, ""), utc=True, format="ISO8601",
                                errors="coerce")
        bad = parsed.isna().to_numpy() | null
        ns = parsed.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64(0, "ns")).astype(np.int64)
        return np.where(bad, 0, ns // 1_000_000).astype(np.int64), bad | (ns % 1_000_000 != 0)
    raise TypeError(f"a time column of type {typ} cannot be read")
