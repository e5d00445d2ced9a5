"""The floor of a backtest: the least code that computes the same trades (numpy + TA-Lib + numba).

Used as a separate process by `bench_cli.py` (`python benchmarks/_floor.py FILE`):
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

__all__ = ["BALANCE", "FEE", "STOP", "cross_above", "floor_loop", "main"]

FEE = 0.001
STOP = 0.05
BALANCE = 10_000.0


@numba.njit(cache=True)
def floor_loop(open_, high, low, close, entry, exit_, stop, fee, balance, trades, equity):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Long-only, one position, the whole balance; returns the number of trades written to `trades`."""
    n = open_.shape[0]
    cash = balance
    amount = 0.0
    entry_px = 0.0
    stop_px = 0.0
    held = False
    n_tr = 0
    for i in range(n):
        o = open_[i]
        el = entry[i - 1] if i > 0 else False
        xl = exit_[i - 1] if i > 0 else False
        exited = False
        if held:
            px = -1.0
            if xl and not el:
                px = o
            elif stop_px >= low[i]:
                px = o if stop_px > high[i] else stop_px
            if px >= 0.0:
                cash += amount * px * (1.0 - fee)
                trades[n_tr, 0] = entry_px
                trades[n_tr, 1] = px
                n_tr += 1
                held = False
                exited = True
        if not held and not exited and el and not xl and i < n - 1:
            stake = cash / (1.0 + fee)
            cash -= stake * (1.0 + fee)
            amount = stake / o
            entry_px = o
            stop_px = o * (1.0 - stop)
            held = True
            if stop_px >= low[i]:
                px = o if stop_px > high[i] else stop_px
                cash += amount * px * (1.0 - fee)
                trades[n_tr, 0] = entry_px
                trades[n_tr, 1] = px
                n_tr += 1
                held = False
        equity[i] = cash + amount * close[i] if held else cash
    if held:
        px = open_[n - 1]
        cash += amount * px * (1.0 - fee)
        trades[n_tr, 0] = entry_px
        trades[n_tr, 1] = px
        n_tr += 1
        equity[n - 1] = cash
    return n_tr


def cross_above(a: np.ndarray, level: float) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] > level) & (a[:-1] <= level)
    return out


def main(path: str) -> None:
    frame = pd.read_parquet(path)
    o, h, low, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    rsi = talib.RSI(c, 14)
    entry, exit_ = cross_above(rsi, 30.0), cross_above(rsi, 70.0)
    trades = np.empty((len(c) // 2 + 2, 2))
    equity = np.empty(len(c))
    n_tr = floor_loop(o, h, low, c, entry, exit_, STOP, FEE, BALANCE, trades, equity)
    json.dump({"trades": int(n_tr), "total_return": float(equity[-1] / BALANCE - 1.0)}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
