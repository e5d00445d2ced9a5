"""The candle rules, checked row by row, and the one policy for rows that break them.

Rules (a row breaks a rule -> one `RowProblem` naming its position):
1. its time can be read, and sits on the timeframe's grid (`_grid`);
2. open, high, low, close, volume are finite numbers; prices > 0, volume >= 0
   (`_values`);
3. high >= max(open, close) and low <= min(open, close) (`_values`);
4. its time is later than every earlier row's: a row with the time of an
   earlier row is a duplicate, a row with an earlier time is out of order
   (`_order`).

Policy (`BAD_ROWS`): `error` (the default) loads nothing and raises
`BadRowsError` listing every bad row; `skip` loads the other rows, in their
order, and returns the list of skipped rows so the caller prints it. Rows
are never sorted, deduplicated or repaired silently.
"""
from __future__ import annotations

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import FIELDS, Candles
from engine.data.errors import BadRowsError, RowProblem

__all__ = ["BAD_ROWS", "RawCandles", "apply_policy", "find_problems"]

BAD_ROWS = ("error", "skip")


class RawCandles:
    """Columns as read from a source, before the rules: times may be unreadable."""

    def __init__(self, time: np.ndarray, columns: dict[str, np.ndarray],
                 bad_time: np.ndarray | None = None, first_line: int | None = None,
                 unreadable: dict[str, np.ndarray] | None = None) -> None:
        self.time = np.asarray(time, dtype=np.int64)
        self.columns = {k: np.asarray(columns[k], dtype=np.float64) for k in FIELDS}
        self.bad_time = (np.zeros(len(self.time), dtype=bool) if bad_time is None
                         else np.asarray(bad_time, dtype=bool))
        self.first_line = first_line  # line number of row 0 in a text file
        self.unreadable = unreadable or {}  # column -> rows whose text is not a number

    def __len__(self) -> int:
        return len(self.time)


def _fmt(x: float) -> str:
    return repr(float(x))


def _values(raw: RawCandles, reasons: dict[int, list[str]]) -> None:
    c = raw.columns
    for name in FIELDS:
        unreadable = raw.unreadable.get(name, np.zeros(len(raw), dtype=bool))
        for i in np.flatnonzero(unreadable):
            reasons.setdefault(int(i), []).append(f"{name} cannot be read as a number")
        for i in np.flatnonzero(~np.isfinite(c[name]) & ~unreadable):
            reasons.setdefault(int(i), []).append(f"{name} is not a finite number ({c[name][i]})")
    with np.errstate(invalid="ignore"):
        top = np.maximum(c["open"], c["close"])
        bottom = np.minimum(c["open"], c["close"])
        for i in np.flatnonzero(c["high"] < top):
            reasons.setdefault(int(i), []).append(
                f"high {_fmt(c['high'][i])} is below max(open, close) {_fmt(top[i])}")
        for i in np.flatnonzero(c["low"] > bottom):
            reasons.setdefault(int(i), []).append(
                f"low {_fmt(c['low'][i])} is above min(open, close) {_fmt(bottom[i])}")
        for name in ("open", "high", "low", "close"):          # a price is never 0 or below
            for i in np.flatnonzero(c[name] <= 0):
                reasons.setdefault(int(i), []).append(f"{name} {_fmt(c[name][i])} is not positive")
        for i in np.flatnonzero(c["volume"] < 0):
            reasons.setdefault(int(i), []).append(f"volume {_fmt(c['volume'][i])} is negative")


def _grid(raw: RawCandles, step: int, timeframe: str, reasons: dict[int, list[str]]) -> None:
    for i in np.flatnonzero(raw.bad_time):
        reasons.setdefault(int(i), []).append("its time cannot be read")
    good = np.flatnonzero(~raw.bad_time)
    if len(good) == 0:
        return
    residue = raw.time[good] % step
    if not np.any(residue != residue[0]):                 # the usual case, checked in O(n)
        return
    values, counts = np.unique(residue, return_counts=True)
    usual = int(values[np.argmax(counts)])               # the grid most rows sit on
    for i in good[residue != usual]:
        off = (int(raw.time[i]) - int(usual)) % step
        reasons.setdefault(int(i), []).append(
            f"time is not on the {timeframe} grid ({off // 1000}s past a {timeframe} boundary)")


def _order(raw: RawCandles, reasons: dict[int, list[str]]) -> None:
    good = np.flatnonzero(~raw.bad_time)
    t = raw.time[good]
    if len(t) < 2 or bool(np.all(t[1:] > t[:-1])):     # sorted and unique: nothing to sort
        return
    order = np.argsort(t, kind="stable")           # equal times keep their row order
    ts = t[order]
    new_run = np.concatenate(([True], ts[1:] != ts[:-1]))
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ts)), 0))
    first_of: dict[int, int] = {}
    for k in np.flatnonzero(~new_run):              # a later row with an earlier row's time
        first_of[int(order[k])] = int(order[run_start[k]])
    for pos, first in first_of.items():
        reasons.setdefault(int(good[pos]), []).append(f"duplicate: same time as row {good[first]}")
    running = np.maximum.accumulate(t)
    earlier = np.flatnonzero(t[1:] < running[:-1]) + 1
    if len(earlier):
        max_pos = np.maximum.accumulate(np.where(t == running, np.arange(len(t)), 0))
        for pos in earlier.tolist():
            if pos in first_of:
                continue
            ref = int(good[max_pos[pos - 1]])
            reasons.setdefault(int(good[pos]), []).append(f"out of order: earlier than row {ref}")


def find_problems(raw: RawCandles, timeframe: str) -> list[RowProblem]:
    """Every row that breaks a rule, in row order; an empty list when all rows are good."""
    step = timeframe_ms(timeframe)
    reasons: dict[int, list[str]] = {}
    _grid(raw, step, timeframe, reasons)
    _values(raw, reasons)
    _order(raw, reasons)
    return [
        RowProblem(row=i, reason="; ".join(reasons[i]),
                   time=None if raw.bad_time[i] else int(raw.time[i]),
                   line=None if raw.first_line is None else raw.first_line + i)
        for i in sorted(reasons)
    ]


def apply_policy(raw: RawCandles, symbol: str, timeframe: str, source: str,
                 bad_rows: str = "error") -> tuple[Candles, list[RowProblem]]:
    """(candles, the rows that were skipped). `error` raises when a row is bad."""
    if bad_rows not in BAD_ROWS:
        raise ValueError(f"unknown bad-rows policy {bad_rows!r}; use one of {', '.join(BAD_ROWS)}")
    problems = find_problems(raw, timeframe)
    if problems and bad_rows == "error":
        raise BadRowsError(source, problems, hint="fix the rows, or pass --bad-rows skip to load "
                           "the other rows and list the skipped ones")
    c = raw.columns
    if not problems:   # the usual case: the columns as read, not a masked copy of each
        return Candles.from_arrays(symbol, timeframe, raw.time, *(c[f] for f in FIELDS)), problems
    keep = np.ones(len(raw), dtype=bool)
    keep[[p.row for p in problems]] = False
    candles = Candles.from_arrays(symbol, timeframe, raw.time[keep], c["open"][keep],
                                  c["high"][keep], c["low"][keep], c["close"][keep],
                                  c["volume"][keep])
    return candles, problems
