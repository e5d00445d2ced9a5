# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays passed in, see the drivers)
"""What one open position does on one candle: freqtrade's exit rules on scalars.

`exit_decision` is the per-position half of `_step.step_bars`'s bar: scalars
in and out, no array (numba charges reference counting on every array
argument of a call), so a reader can check each rule on paper. Prices are on
the exchange's tick (`tick_round`, `tick_up`, `tick_down`) and profits net of
both fees (`profit_ratio`), as freqtrade computes them (docs/backtest.md).

Compiled into `step_bars` (no numba cache of their own, see `_step.py`): after
changing this file, touch `_step.py` so numba's cache is refreshed.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from compiler.timeframes import MINUTE_MS
from engine.kernel._layout import R_EXIT_SIGNAL, R_MAX_HOLD, R_ROI, R_STOP_LOSS, R_TRAILING

__all__ = ["exit_decision", "profit_ratio", "tick_down", "tick_round", "tick_up"]

_MINUTE_MS = float(MINUTE_MS)


# --- prices on the exchange's tick -------------------------------------------------
# With a decimal tick (1e-8, 0.01, ...) `k / inv` is the correctly rounded double of
# the decimal k * tick, which is what an exchange (and freqtrade's Decimal maths) uses.

@njit()
def tick_round(x: float, tick: float, inv: float) -> float:
    """Nearest multiple of the tick."""
    if tick <= 0.0:
        return x
    if inv > 0.0:
        return np.rint(x * inv) / inv
    return np.rint(x / tick) * tick


@njit()
def tick_up(x: float, tick: float, inv: float) -> float:
    """Smallest tick multiple >= x (a long's stop: never looser than asked)."""
    if tick <= 0.0:
        return x
    if inv > 0.0:
        k = np.rint(x * inv)
        c = k / inv
        if c == x:
            return x
        return (k + 1.0) / inv if x > c else c
    k = np.rint(x / tick)
    if abs(x - k * tick) <= 1e-12 * abs(x):
        return k * tick
    return np.ceil(x / tick) * tick


@njit()
def tick_down(x: float, tick: float, inv: float) -> float:
    """Largest tick multiple <= x (a short's stop): the mirror image of `tick_up`."""
    return -tick_up(-x, tick, inv)


@njit()
def profit_ratio(side: float, entry: float, exit_: float, fee: float) -> float:
    """Net of both fees: long exit*(1-fee) / (entry*(1+fee)) - 1, short mirrored."""
    if side > 0:
        return exit_ * (1.0 - fee) / (entry * (1.0 + fee)) - 1.0
    return 1.0 - exit_ * (1.0 + fee) / (entry * (1.0 - fee))


@njit()
def _round8(x: float) -> float:
    # freqtrade compares profits rounded to 8 decimals; so do we, for identical triggers
    return np.rint(x * 1e8) / 1e8


# --- exits of one position on one bar ------------------------------------------------

@njit()
def _roi_price(side, entry, ratio, fee):
    """The exit price whose profit, net of both fees, is exactly `ratio`."""
    if side > 0:
        return entry * (1.0 + ratio) * (1.0 + fee) / (1.0 - fee)
    return entry * (1.0 - ratio) * (1.0 - fee) / (1.0 + fee)


@njit()
def _roi_rate(side, rate, roi_minutes, dur_min, o, h, lo, tf_min):
    beyond = o > rate if side > 0 else o < rate
    # a new ROI step that starts on this candle's open, with the open already past it
    if dur_min > 0 and dur_min == roi_minutes and roi_minutes % tf_min == 0 and beyond:
        return o
    return min(max(rate, lo), h)


@njit()
def _red_entry_candle(side, entry, rate, o, c):
    """freqtrade takes no ROI on the entry candle of a long that opened below a falling
    candle's open when the ROI price is above its close (the price may never have got
    there after the entry); shorts mirrored."""
    if side > 0:
        return o > c and entry < o and rate > c
    return o < c and entry > o and rate < c


@njit()
def _stop_rate(side, stop, stop_at_open, had_stop, trailed, dur_ms, o, h, lo, gap_open, trig,
               dist):
    if side > 0:
        if stop > h or (gap_open and had_stop and o < stop_at_open):
            return o
        if trailed and dur_ms < _MINUTE_MS:
            # trailed on its entry candle: assume it rose just past the trigger, then fell
            return max(lo, o * (1.0 + trig - dist))
        return stop
    if stop < lo or (gap_open and had_stop and o > stop_at_open):
        return o
    if trailed and dur_ms < _MINUTE_MS:
        return min(h, o * (1.0 - trig + dist))
    return stop


@njit()
def exit_decision(side, entry, entry_t, stop, has_stop, trailed, pend, pend_p,
                   t, o, h, lo, c, exit_sig, roi_m, roi_r,
                   fee, sl, trail, trig, dist, maxhold, gap_open, tf_min, tick, inv, red_roi):
    """One position on one candle, scalars in and out (no array: no per-call overhead).

    roi_m/roi_r: the ROI step in force (minutes, ratio), roi_m < 0 for none.
    red_roi: take ROI on a red entry candle all the same (`_red_entry_candle`).
    Returns (stop, has_stop, trailed, reason, rate): the trailed stop and the exit
    order to place (reason < 0: none).
    """
    dur_ms = t - entry_t
    dur_min = math.floor(dur_ms / _MINUTE_MS)
    bound = h if side > 0 else lo
    bound_profit = _round8(profit_ratio(side, entry, bound, fee))
    had_stop = has_stop
    stop_at_open = stop

    # 1. trail the stop with the candle's best price (freqtrade: before checking the worst)
    if trail:
        dir_ok = (not has_stop) or (stop < lo if side > 0 else stop > h)
        if dir_ok and not bound_profit < trig:
            d = dist if (bound_profit > trig or sl <= 0.0) else sl
            cand = tick_up(bound * (1.0 - d), tick, inv) if side > 0 else tick_down(bound * (1.0 + d), tick, inv)
            if (not has_stop) or (side > 0 and cand > stop) or (side < 0 and cand < stop):
                stop = cand
                has_stop = True
                trailed = True

    # 2. what this candle touched
    stop_hit = has_stop and (stop >= lo if side > 0 else stop <= h)
    roi_hit = roi_m >= 0.0 and bound_profit > roi_r

    # 3. the first exit by priority: exit_signal, max_hold, stop_loss, roi, trailing_stop.
    # An exit is an order at a price on the tick; one priced like the order already
    # waiting is not placed again (freqtrade then tries the next reason).
    reason = -1
    rate = 0.0
    if exit_sig:
        q = tick_round(o, tick, inv)
        if not (pend and q == pend_p):
            reason, rate = R_EXIT_SIGNAL, q
    if reason < 0 and maxhold > 0.0 and dur_ms >= maxhold:
        q = tick_round(o, tick, inv)
        if not (pend and q == pend_p):
            reason, rate = R_MAX_HOLD, q
    if reason < 0 and stop_hit:
        q = tick_round(_stop_rate(side, stop, stop_at_open, had_stop, trailed, dur_ms, o, h, lo,
                                  gap_open, trig, dist), tick, inv)
        if not trailed and not (pend and q == pend_p):
            reason, rate = R_STOP_LOSS, q
    if reason < 0 and roi_hit:
        roi_p = _roi_price(side, entry, roi_r, fee)
        if red_roi or dur_min != 0 or not _red_entry_candle(side, entry, roi_p, o, c):
            q = tick_round(_roi_rate(side, roi_p, roi_m, dur_min, o, h, lo, tf_min), tick, inv)
            if not (pend and q == pend_p):
                reason, rate = R_ROI, q
    if reason < 0 and stop_hit and trailed:
        q = tick_round(_stop_rate(side, stop, stop_at_open, had_stop, trailed, dur_ms, o, h, lo,
                                  gap_open, trig, dist), tick, inv)
        if not (pend and q == pend_p):
            reason, rate = R_TRAILING, q
    return stop, has_stop, trailed, reason, rate
