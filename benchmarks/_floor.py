"""The floor of a backtest: the least code that computes the same trades (numpy + TA-Lib + numba).

`bench_backtest.py` calls it in its own process; `bench_cli.py` runs it as a
separate process (`python benchmarks/_floor.py FILE`):
it imports the stack superbot uses (numpy, pandas, TA-Lib, numba), reads the
same parquet candle file, computes the RSI-cross signals with TA-Lib and numpy
and runs them through one cached @numba.njit loop with the same fill, stop and
fee rules as superbot (a signal on bar i-1's close acts at bar i's open; the
stop is checked against the low, the entry bar included), then prints the
trade count and total return as JSON.
"""
from __future__ import annotations

import json
import sys

import numba
import numpy as np
import pandas as pd
import talib

__all__ = ["BALANCE", "FEE", "STOP", "cross_above", "floor_loop", "main", "rsi_15m_above", "signals"]

FEE = 0.001
STOP = 0.05
BALANCE = 10_000.0
_M1 = 60_000
_M15 = 15 * _M1


@numba.njit(cache=True)
def floor_loop(open_, high, low, close, entry, exit_, stop, fee, balance, trades, equity):  # type: ignore[no-untyped-def]  # numba infers the types  # pragma: no cover
    """Long-only, one position, the whole balance; freqtrade's order within a bar.

    A signal on bar i-1's close acts at bar i's open. Exit signal (ignored when the
    entry signal is also set) at the open; then the stop against the low, filling at
    the stop, or at the open when the whole bar is below it. Entries at the open
    (not on a bar with an exit), and the stop is checked on the entry bar too.
    Still open at the end: closed at the last bar's open. Returns the trade count;
    rows are (entry bar, exit bar, entry price, exit price, profit ratio, reason).
    """
    n = open_.shape[0]
    cash = balance
    amount = 0.0
    entry_px = 0.0
    stop_px = 0.0
    entry_i = -1
    held = False
    n_tr = 0
    for i in range(n):
        o = open_[i]
        el = entry[i - 1] if i > 0 else False
        xl = exit_[i - 1] if i > 0 else False
        exited = False
        if held:
            px = -1.0
            reason = 0
            if xl and not el:
                px = o
            elif stop_px >= low[i]:
                px = o if stop_px > high[i] else stop_px
                reason = 1
            if px >= 0.0:
                cash += amount * px * (1.0 - fee)
                trades[n_tr, 0] = entry_i
                trades[n_tr, 1] = i
                trades[n_tr, 2] = entry_px
                trades[n_tr, 3] = px
                trades[n_tr, 4] = px * (1.0 - fee) / (entry_px * (1.0 + fee)) - 1.0
                trades[n_tr, 5] = reason
                n_tr += 1
                held = False
                exited = True
        if not held and not exited and el and not xl and i < n - 1:
            stake = cash / (1.0 + fee)
            cash -= stake * (1.0 + fee)
            amount = stake / o
            entry_px = o
            stop_px = o * (1.0 - stop)
            entry_i = i
            held = True
            if stop_px >= low[i]:
                px = o if stop_px > high[i] else stop_px
                cash += amount * px * (1.0 - fee)
                trades[n_tr, 0] = entry_i
                trades[n_tr, 1] = i
                trades[n_tr, 2] = entry_px
                trades[n_tr, 3] = px
                trades[n_tr, 4] = px * (1.0 - fee) / (entry_px * (1.0 + fee)) - 1.0
                trades[n_tr, 5] = 1
                n_tr += 1
                held = False
        equity[i] = cash + amount * close[i] if held else cash
    if held:
        px = open_[n - 1]
        cash += amount * px * (1.0 - fee)
        trades[n_tr, 0] = entry_i
        trades[n_tr, 1] = n - 1
        trades[n_tr, 2] = entry_px
        trades[n_tr, 3] = px
        trades[n_tr, 4] = px * (1.0 - fee) / (entry_px * (1.0 + fee)) - 1.0
        trades[n_tr, 5] = 2
        n_tr += 1
        equity[n - 1] = cash
    return n_tr


def cross_above(a: np.ndarray, level: float) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] > level) & (a[:-1] <= level)
    return out


def rsi_15m_above(time_ms: np.ndarray, close: np.ndarray, level: float) -> np.ndarray:
    """RSI(14) of the last CLOSED 15m candle > level, on the 1m bars."""
    bucket = time_ms // _M15
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.concatenate((starts[1:], [len(time_ms)]))
    open_15 = bucket[starts] * _M15
    keep = np.ones(len(starts), dtype=bool)
    keep[0] = time_ms[0] == open_15[0]
    keep[-1] &= time_ms[-1] + _M1 >= open_15[-1] + _M15
    rsi15 = talib.RSI(close[ends - 1][keep], 14)
    index = np.searchsorted(open_15[keep] + _M15, time_ms + _M1, side="right") - 1
    with np.errstate(invalid="ignore"):
        return np.where(index >= 0, rsi15[index], np.nan) > level


def signals(name: str, time_ms: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entry, exit) of a workload with plain numpy + TA-Lib; shared by the floor and vectorbt."""
    rsi = talib.RSI(close, 14)
    entry, exit_ = cross_above(rsi, 30.0), cross_above(rsi, 70.0)
    if name == "rsi_cross_15m":
        entry &= rsi_15m_above(time_ms, close, 50.0)
    return entry, exit_


def main(path: str) -> None:
    """The rsi_cross workload on a parquet candle file, as one process (bench_cli.py's floor)."""
    frame = pd.read_parquet(path)
    o, h, low, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    time_ms = frame["date"].to_numpy("datetime64[ms]").astype(np.int64)
    entry, exit_ = signals("rsi_cross", time_ms, c)
    trades = np.empty((len(c) // 2 + 2, 6))
    equity = np.empty(len(c))
    n_tr = floor_loop(o, h, low, c, entry, exit_, STOP, FEE, BALANCE, trades, equity)
    json.dump({"trades": int(n_tr), "total_return": float(equity[-1] / BALANCE - 1.0)}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
