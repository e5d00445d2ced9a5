"""The vector driver: a whole history through the compiled kernel in one call.

Steps:
1. Shape and check the inputs: prices [n_bars, n_symbols] on one shared clock,
   signals as computed on each bar's close (`_prepare`, `signals.signal_arrays`).
2. Pack the config into flat arrays (`_layout.pack_params`, `pack_roi`, `new_state`).
3. Run the compiled loop (`_step.step_bars`, signals lagged one row); it pauses when the trade buffer
   is full, the buffer doubles and the loop resumes from the same state.
4. In the same call, close what is still open at the end of the data (`finish=True`).
5. Build the column-wise `Trades` and the `SimResult` (`trades_from_rows`).

No Python loop over bars: a year of 1m candles runs in milliseconds.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.kernel._layout import (
    A_EQUITY,
    N_T,
    T_AMOUNT,
    T_ENTRY_I,
    T_ENTRY_P,
    T_ENTRY_T,
    T_EXIT_I,
    T_EXIT_P,
    T_EXIT_T,
    T_FEES,
    T_PROFIT_A,
    T_PROFIT_R,
    T_REASON,
    T_SIDE,
    T_STAKE,
    T_SYM,
    new_state,
    pack_params,
    pack_roi,
    pack_ticks,
)
from engine.kernel.config import KernelConfig
from engine.kernel.jit_cache import announce_compile
from engine.kernel.signals import Signals, signal_arrays
from engine.kernel.trades import SimResult, Trades

__all__ = ["simulate", "trades_from_rows"]


def trades_from_rows(rows: np.ndarray) -> Trades:
    """Trades from kernel trade rows, ordered by entry bar, then symbol."""
    order = np.lexsort((rows[:, T_SYM], rows[:, T_ENTRY_I]))
    r = rows[order]
    return Trades(
        symbol=r[:, T_SYM].astype(np.int32),
        side=r[:, T_SIDE].astype(np.int8),
        entry_index=r[:, T_ENTRY_I].astype(np.int64),
        exit_index=r[:, T_EXIT_I].astype(np.int64),
        entry_time=r[:, T_ENTRY_T].astype(np.int64),
        exit_time=r[:, T_EXIT_T].astype(np.int64),
        entry_price=r[:, T_ENTRY_P].copy(),
        exit_price=r[:, T_EXIT_P].copy(),
        amount=r[:, T_AMOUNT].copy(),
        stake=r[:, T_STAKE].copy(),
        profit_ratio=r[:, T_PROFIT_R].copy(),
        profit_abs=r[:, T_PROFIT_A].copy(),
        fees=r[:, T_FEES].copy(),
        exit_reason=r[:, T_REASON].astype(np.int8),
    )


def _prices(name: str, value: object, n_bars: int | None) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{name} has {a.ndim} dimensions; use [n_bars] or [n_bars, n_symbols]")
    if n_bars is not None and a.shape[0] != n_bars:
        raise ValueError(f"{name} has {a.shape[0]} bars, time has {n_bars}; align them on one clock")
    return np.ascontiguousarray(a)


def _increasing(t: np.ndarray) -> bool:
    """In numpy, not one more compiled function to load (a loaded market skips it: time_checked)."""
    return bool(np.all(t[1:] > t[:-1]))


def _prepare(time: object, open: object, high: object, low: object,
             close: object, time_checked: bool = False) -> tuple[np.ndarray, ...]:
    t = np.ascontiguousarray(np.asarray(time, dtype=np.int64))
    if t.ndim != 1:
        raise ValueError("time must be one shared clock: a 1-D array of open times in ms")
    if not time_checked and not _increasing(t):
        raise ValueError("time must be strictly increasing (open times in ms, UTC)")
    o, h, lo, c = (_prices(n, v, len(t)) for n, v in
                   (("open", open), ("high", high), ("low", low), ("close", close)))
    if not (o.shape == h.shape == lo.shape == c.shape):
        raise ValueError(f"open/high/low/close shapes differ: {o.shape} {h.shape} {lo.shape} "
                         f"{c.shape}")
    return t, o, h, lo, c


def simulate(time: np.ndarray, open: np.ndarray, high: np.ndarray, low: np.ndarray,
             close: np.ndarray, signals: Signals | Mapping[str, object] | None,
             config: KernelConfig, symbols: Sequence[str] | None = None, *,
             price_ticks: Sequence[float] | np.ndarray | None = None,
             time_checked: bool = False) -> SimResult:
    """Run the kernel over a whole history.

    time: int64 ms open times [n_bars] — the shared clock.
    open/high/low/close: float [n_bars, n_symbols] ([n_bars] for one symbol);
        NaN where a symbol has no candle (before its listing). Fill gaps inside a
        symbol's history first (engine.data.gaps.fill_gaps), as freqtrade does.
    signals: entry_long/exit_long/entry_short/exit_short, each bool with the
        prices' shape, as computed on each bar's CLOSE — do not shift them: a
        signal on row i fills at the open of row i+1.
    symbols: names of the price columns (default s0, s1, ...).
    price_ticks: one exchange price tick per symbol; default config.price_tick for all.
    time_checked: the caller guarantees `time` is strictly increasing (a loaded
        market is); skips a pass over the clock on every optimizer trial.
    """
    t, o, h, lo, c = _prepare(time, open, high, low, close, time_checked)
    announce_compile()
    # numba loads with the first run, not with the package: importing engine.kernel (its
    # config, its result types) stays light for the CLI (tests/test_cli_startup.py)
    from engine.kernel._step import step_bars
    from engine.kernel.risk import RS_NEV, events_from_rows, grow_events, new_events, new_risk_state, pack_risk
    n_bars, n_sym = o.shape
    names = tuple(symbols) if symbols is not None else tuple(f"s{k}" for k in range(n_sym))
    if len(names) != n_sym:
        raise ValueError(f"{len(names)} symbols named for {n_sym} price columns")
    el, xl, es, xs = signal_arrays(signals, n_bars, n_sym)
    params = pack_params(config)
    ticks = pack_ticks(config, n_sym, price_ticks)
    roi_min, roi_ratio = pack_roi(config)
    pos, acct = new_state(config, n_sym)
    equity = np.empty(n_bars, dtype=np.float64)  # step_bars marks every row (no 4 MB fill per optimizer trial)
    risk_p, risk_s = pack_risk(config.risk), new_risk_state(config.risk, config.starting_balance)
    events = new_events(config.risk, n_bars)

    rows = np.empty((n_sym + max(256, n_bars * n_sym // 32), N_T), dtype=np.float64)
    n_tr, bar = 0, 0
    while True:
        bar, n_tr = step_bars(bar, 0, t, o, h, lo, c, el, xl, es, xs, 1, n_bars - 1, params,
                              ticks, roi_min, roi_ratio, pos, acct, rows, n_tr, equity,
                              risk_p, risk_s, events, True, True)
        if bar >= n_bars:
            break
        if n_tr + 2 * n_sym > rows.shape[0]:  # a bar's trades and the final closes
            rows = _grow(rows, n_tr)
        events = grow_events(events, risk_s, len(config.risk.rules))
    if n_bars:
        equity[-1] = acct[A_EQUITY]  # after the final closes
    return SimResult(symbols=names, timeframe=config.timeframe, time=t,
                     trades=trades_from_rows(rows[:n_tr]), equity=equity,
                     starting_balance=config.starting_balance,
                     risk_events=events_from_rows(events[:int(risk_s[RS_NEV])], config.risk))


def _grow(rows: np.ndarray, n_tr: int) -> np.ndarray:
    bigger = np.empty((rows.shape[0] * 2, N_T), dtype=np.float64)
    bigger[:n_tr] = rows[:n_tr]
    return bigger
