"""Column layout of the flat arrays the compiled kernel reads and writes.

numba compiles fastest and runs fastest on plain float64 arrays, and arrays
are what a Python event driver can hold between bars; these integer
constants name their columns (numba folds module globals into constants).
`pack_params` is the one place a `KernelConfig` becomes such an array.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compiler.timeframes import MINUTE_MS
from engine.kernel.config import EndOfDataPrice, KernelConfig, SizingMode, StopGapFill

__all__ = ["new_state", "pack_params", "pack_roi", "pack_ticks"]

# --- parameters (P) --------------------------------------------------------------
P_FEE = 0
P_SLIP = 1          # fraction (bps / 1e4)
P_SL = 2            # stop distance as a positive fraction; 0 = no stop
P_TRAIL = 3         # 1.0 when a trailing stop is configured
P_TRIG = 4
P_DIST = 5
P_MAXHOLD_MS = 6    # 0 = no max hold
P_SIZING = 7        # 0 percent, 1 amount, 2 risk
P_SIZE = 8
P_MAXOPEN = 9
P_TF_MIN = 10
P_GAP_OPEN = 11     # 1.0: StopGapFill.OPEN
P_END_CLOSE = 12    # 1.0: EndOfDataPrice.CLOSE
P_MINSTAKE = 13
P_BALANCE = 14
P_EXIT_TIMEOUT_MS = 15  # an exit order older than this is cancelled; < 0 = never
P_RESERVE_FEES = 16     # 1.0: an entry needs stake + fee free, open trades' fees count as spent
P_RED_ROI = 17          # 1.0: take ROI on a red entry candle (freqtrade does not)
N_P = 18

SIZING_PERCENT, SIZING_AMOUNT, SIZING_RISK = 0, 1, 2

# --- per-symbol position state (Q), shape [n_symbols, N_Q] -----------------------
Q_SIDE = 0          # 0 flat, +1 long, -1 short
Q_ENTRY = 1         # entry price after slippage
Q_AMOUNT = 2
Q_STAKE = 3         # quote committed, before fee
Q_FEE = 4           # entry fee paid
Q_STOP = 5
Q_HAS_STOP = 6
Q_TRAILED = 7       # the stop has moved from its initial level
Q_ENTRY_I = 8
Q_ENTRY_T = 9
Q_EXIT_I = 10       # bar index of the last exit (no re-entry on that bar)
Q_LAST_I = 11       # last bar with a candle for this symbol
Q_LAST_T = 12
Q_LAST_O = 13
Q_LAST_C = 14
Q_PEND = 15         # 1.0: an exit order is waiting (its price was outside the candle)
Q_PEND_P = 16       # its price (on the tick, before slippage)
Q_PEND_R = 17       # its exit reason
Q_PEND_T = 18       # open time of the candle it was placed on (for the exit timeout)
N_Q = 19

# --- account (A) -----------------------------------------------------------------
A_CASH = 0          # free balance
A_OPEN = 1          # open positions
A_REALIZED = 2      # sum of closed trades' profit_abs
A_EQUITY = 3        # cash + open positions marked at the last close
A_NEXT_BAR = 4      # bar index the next step will process
N_A = 5

# --- trade records (T), shape [capacity, N_T] ------------------------------------
T_SYM = 0
T_SIDE = 1
T_ENTRY_I = 2
T_EXIT_I = 3
T_ENTRY_T = 4
T_EXIT_T = 5
T_ENTRY_P = 6
T_EXIT_P = 7
T_AMOUNT = 8
T_STAKE = 9
T_PROFIT_R = 10
T_PROFIT_A = 11
T_FEES = 12
T_REASON = 13
N_T = 14

# exit reason codes: indexes into engine.kernel.trades.EXIT_REASONS
R_EXIT_SIGNAL, R_STOP_LOSS, R_TRAILING, R_ROI, R_MAX_HOLD, R_END = 0, 1, 2, 3, 4, 5
R_RISK_HALT, R_RISK_CLOSE_ALL = 6, 7   # closed by a risk rule (engine/kernel/risk.py)


def pack_params(cfg: KernelConfig) -> np.ndarray:
    p = np.zeros(N_P, dtype=np.float64)
    p[P_FEE] = cfg.fee
    p[P_SLIP] = cfg.slippage_bps / 10_000.0
    p[P_SL] = 0.0 if cfg.stoploss is None else abs(cfg.stoploss)
    if cfg.trailing is not None:
        p[P_TRAIL] = 1.0
        p[P_TRIG], p[P_DIST] = cfg.trailing
    p[P_MAXHOLD_MS] = 0.0 if cfg.max_hold_minutes is None else cfg.max_hold_minutes * MINUTE_MS
    p[P_SIZING] = {SizingMode.PERCENT: SIZING_PERCENT, SizingMode.AMOUNT: SIZING_AMOUNT,
                   SizingMode.RISK: SIZING_RISK}[cfg.sizing.mode]
    p[P_SIZE] = cfg.sizing.value
    p[P_MAXOPEN] = cfg.max_open_positions
    p[P_TF_MIN] = cfg.timeframe_minutes
    p[P_GAP_OPEN] = 1.0 if cfg.stop_gap_fill is StopGapFill.OPEN else 0.0
    p[P_END_CLOSE] = 1.0 if cfg.end_of_data_price is EndOfDataPrice.CLOSE else 0.0
    p[P_MINSTAKE] = cfg.min_stake
    p[P_BALANCE] = cfg.starting_balance
    p[P_EXIT_TIMEOUT_MS] = -1.0 if cfg.exit_timeout_minutes is None else cfg.exit_timeout_minutes * MINUTE_MS
    p[P_RESERVE_FEES] = 1.0 if cfg.reserve_fees else 0.0
    p[P_RED_ROI] = 1.0 if cfg.roi_on_red_entry_candle else 0.0
    return p


def pack_ticks(cfg: KernelConfig, n_symbols: int,
               price_ticks: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """[n_symbols, 2]: (tick, 1/tick when that is a whole number else 0) per symbol.

    With a decimal tick (1e-8, 0.01) prices are computed as k / (1/tick), the
    correctly rounded double of the decimal price an exchange would quote.
    """
    if price_ticks is None:
        ticks = np.full(n_symbols, cfg.price_tick, dtype=np.float64)
    else:
        ticks = np.asarray(price_ticks, dtype=np.float64).reshape(-1)
        if ticks.shape != (n_symbols,) or not np.all(np.isfinite(ticks)) or np.any(ticks < 0):
            raise ValueError(f"price_ticks must hold one tick >= 0 per symbol ({n_symbols}), "
                             f"was {np.asarray(price_ticks)!r}")
    out = np.zeros((n_symbols, 2), dtype=np.float64)
    out[:, 0] = ticks
    for k, tick in enumerate(ticks):
        if tick > 0:
            inv = 1.0 / tick
            if abs(inv - round(inv)) <= 1e-9 * inv:
                out[k, 1] = float(round(inv))
    return out


def pack_roi(cfg: KernelConfig) -> tuple[np.ndarray, np.ndarray]:
    """(minutes ascending, ratios) of the ROI table."""
    minutes = np.array([m for m, _ in cfg.roi], dtype=np.float64)
    ratios = np.array([r for _, r in cfg.roi], dtype=np.float64)
    return minutes, ratios


def new_state(cfg: KernelConfig, n_symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions [n_symbols, N_Q], account [N_A]) for a fresh, flat account."""
    pos = np.zeros((n_symbols, N_Q), dtype=np.float64)
    pos[:, Q_EXIT_I] = -1.0
    pos[:, Q_LAST_I] = -1.0
    pos[:, Q_LAST_O] = np.nan
    pos[:, Q_LAST_C] = np.nan
    acct = np.zeros(N_A, dtype=np.float64)
    acct[A_CASH] = cfg.starting_balance
    acct[A_EQUITY] = cfg.starting_balance
    return pos, acct
