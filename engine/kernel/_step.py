# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays passed in, see the drivers)
"""The compiled trade kernel: what one bar does to the positions and the account.

`step_bars` holds the bar, written once: the vector driver (`simulate`) runs
it over a whole history, the event driver (`Stepper`) over one row at a time,
so replayed and vectorised runs cannot drift apart. `finish=True` ends a run (`_close_all`).
The bar is a loop body rather than a function called per bar because numba
charges reference counting on every array argument of every call (~100 ns a
call here, 50x the bar itself); the per-position logic is `_exits.exit_decision`,
scalars in and out.

One bar, in freqtrade's order (the field's reference, see docs/backtest.md):

1. Exits of positions open at the bar's start (`_exits.exit_decision`): the stop is
   trailed with the bar's best price, then checked against its worst price;
   the first exit by priority exit_signal > max_hold (both at the open) >
   stop_loss > roi > trailing_stop becomes an order at its own price, which
   fills when the bar's range contains it (always, for prices on the tick).
   An order still waiting longer than the exit timeout is cancelled at the
   open of the next bar, before that bar's exits are decided (freqtrade's
   `unfilledtimeout.exit`). No ROI on a red entry candle (`_exits._red_entry_candle`).
2. Entries, symbols in column order (`_enter`): at the open, when the previous
   close signalled, a slot and the balance allow it, and the symbol did not
   exit on this bar; the new position's exits are checked on the same bar.
3. Marks: equity = free balance + open positions at this bar's close.

Column constants come from `_layout` (numba freezes them at compile time:
after changing `_layout`, touch this file so numba's cache is refreshed).

Only `step_bars`, the one function the drivers call, is a cached entry point
(`finish=True` also closes what is open at the end); the helpers are `@njit()`
without a cache of their own, compiled into it, so a new process loads one
function from numba's cache.
"""
from __future__ import annotations

import math

from numba import njit

from compiler.timeframes import MINUTE_MS
from engine.kernel._exits import exit_decision, profit_ratio, tick_down, tick_round, tick_up
from engine.kernel._layout import (
    A_CASH,
    A_EQUITY,
    A_NEXT_BAR,
    A_OPEN,
    A_REALIZED,
    P_BALANCE,
    P_DIST,
    P_END_CLOSE,
    P_EXIT_TIMEOUT_MS,
    P_FEE,
    P_GAP_OPEN,
    P_MAXHOLD_MS,
    P_MAXOPEN,
    P_MINSTAKE,
    P_RED_ROI,
    P_RESERVE_FEES,
    P_SIZE,
    P_SIZING,
    P_SL,
    P_SLIP,
    P_TF_MIN,
    P_TRAIL,
    P_TRIG,
    Q_AMOUNT,
    Q_ENTRY,
    Q_ENTRY_I,
    Q_ENTRY_T,
    Q_EXIT_I,
    Q_FEE,
    Q_HAS_STOP,
    Q_LAST_C,
    Q_LAST_I,
    Q_LAST_O,
    Q_LAST_T,
    Q_PEND,
    Q_PEND_P,
    Q_PEND_R,
    Q_PEND_T,
    Q_SIDE,
    Q_STAKE,
    Q_STOP,
    Q_TRAILED,
    R_END,
    SIZING_AMOUNT,
    SIZING_PERCENT,
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
)
from engine.kernel._scan import any_entry, ride_rules, value
from engine.kernel.risk import (
    RS_CLOSING,
    RS_HALT,
    RS_NEV,
    RS_SEEN,
    risk_after_bar,
    risk_after_ride,
    risk_blocks_entries,
    risk_count_losses,
    risk_day_end,
    risk_reads_marks,
    risk_settled,
)

__all__ = ["ENTRY_POINTS", "step_bars"]

_MINUTE_MS = float(MINUTE_MS)


# --- closing and opening -----------------------------------------------------------

@njit()
def _close(s, i, t, rate, reason, P, pos, acct, tr, n_tr):
    side = pos[s, Q_SIDE]
    fee = P[P_FEE]
    px = rate * (1.0 - side * P[P_SLIP])
    amount = pos[s, Q_AMOUNT]
    stake = pos[s, Q_STAKE]
    fee_e = pos[s, Q_FEE]
    value = amount * px
    fee_x = value * fee
    if side > 0:
        acct[A_CASH] += value - fee_x
        pa = value - fee_x - stake - fee_e
    else:
        acct[A_CASH] += 2.0 * stake - value - fee_x
        pa = stake - value - fee_e - fee_x
    row = tr[n_tr]
    row[T_SYM] = s
    row[T_SIDE] = side
    row[T_ENTRY_I] = pos[s, Q_ENTRY_I]
    row[T_EXIT_I] = i
    row[T_ENTRY_T] = pos[s, Q_ENTRY_T]
    row[T_EXIT_T] = t
    row[T_ENTRY_P] = pos[s, Q_ENTRY]
    row[T_EXIT_P] = px
    row[T_AMOUNT] = amount
    row[T_STAKE] = stake
    row[T_PROFIT_R] = profit_ratio(side, pos[s, Q_ENTRY], px, fee)
    row[T_PROFIT_A] = pa
    row[T_FEES] = fee_e + fee_x
    row[T_REASON] = reason
    acct[A_REALIZED] += pa
    acct[A_OPEN] -= 1.0
    pos[s, Q_SIDE] = 0.0
    pos[s, Q_PEND] = 0.0
    pos[s, Q_EXIT_I] = i
    return n_tr + 1


@njit()
def _enter(s, side, i, t, o, P, TK, pos, acct):
    fee = P[P_FEE]
    tick = TK[s, 0]
    inv = TK[s, 1]
    price = tick_round(o, tick, inv) * (1.0 + side * P[P_SLIP])
    cash = acct[A_CASH]
    equity = P[P_BALANCE] + acct[A_REALIZED]
    if P[P_RESERVE_FEES] > 0.0:
        # stake and its entry fee must fit the cash (open trades' fees already spent)
        avail = cash / (1.0 + fee)
    else:
        # freqtrade's wallet: starting balance + closed profit - open stakes; no fee reserved
        open_stakes = 0.0
        for k in range(pos.shape[0]):
            if pos[k, Q_SIDE] != 0.0:
                open_stakes += pos[k, Q_STAKE]
        avail = equity - open_stakes
    mode = int(P[P_SIZING])
    if mode == SIZING_AMOUNT:
        stake = P[P_SIZE]
        if stake > avail:
            return False            # a fixed stake is never shrunk (freqtrade)
    else:
        if mode == SIZING_PERCENT:
            stake = equity * P[P_SIZE] / 100.0
        else:  # risk: the loss at the stop, both fees included, is P_SIZE of equity
            sl = P[P_SL]
            stake = equity * P[P_SIZE] / (sl + fee * (2.0 - side * sl))
        stake = min(stake, avail)
    if not stake > 0.0 or stake < P[P_MINSTAKE]:
        return False
    fee_e = stake * fee
    acct[A_CASH] = cash - stake - fee_e
    acct[A_OPEN] += 1.0
    pos[s, Q_SIDE] = side
    pos[s, Q_ENTRY] = price
    pos[s, Q_AMOUNT] = stake / price
    pos[s, Q_STAKE] = stake
    pos[s, Q_FEE] = fee_e
    pos[s, Q_ENTRY_I] = i
    pos[s, Q_ENTRY_T] = t
    pos[s, Q_TRAILED] = 0.0
    pos[s, Q_PEND] = 0.0
    sl = P[P_SL]
    if sl > 0.0:
        pos[s, Q_HAS_STOP] = 1.0
        if side > 0:
            pos[s, Q_STOP] = tick_up(price * (1.0 - sl), tick, inv)
        else:
            pos[s, Q_STOP] = tick_down(price * (1.0 + sl), tick, inv)
    else:
        pos[s, Q_HAS_STOP] = 0.0
        pos[s, Q_STOP] = 0.0
    return True


@njit(inline="always")
def _settle(s, i, t, stop, has_stop, trailed, reason, rate, lo, hi, P, pos, acct, tr, n_tr):
    """Record one bar's exit decision for symbol s and fill the waiting exit order if it can.

    The order fills when its price lies within the candle: always for prices on the
    tick grid; candles one ulp off the grid can leave it waiting a bar. Inlined: no
    per-call cost for the array arguments.
    """
    pos[s, Q_STOP] = stop
    pos[s, Q_HAS_STOP] = 1.0 if has_stop else 0.0
    pos[s, Q_TRAILED] = 1.0 if trailed else 0.0
    if reason >= 0:
        pos[s, Q_PEND] = 1.0
        pos[s, Q_PEND_P] = rate
        pos[s, Q_PEND_R] = reason
        pos[s, Q_PEND_T] = t
    if pos[s, Q_PEND] > 0.0 and lo <= pos[s, Q_PEND_P] <= hi:
        n_tr = _close(s, i, t, pos[s, Q_PEND_P], int(pos[s, Q_PEND_R]), P, pos, acct, tr, n_tr)
    return n_tr


# --- bars, all symbols ---------------------------------------------------------------

@njit(cache=True)
def step_bars(r0, bar0, time, O, H, L, C, EL, XL, ES, XS, lag, no_entry_row,  # noqa: E741  (candle columns)
              P, TK, roi_min, roi_ratio, pos, acct, tr, n_tr, equity, RP, RS, EV, fast, finish):
    """Advance all positions and the account bar by bar over rows [r0, len(O)).

    Row r is bar `bar0 + r` with open time time[r]; O/H/L/C[r, s] its prices
    (NaN: symbol s has no candle). The signals acting on row r are row r - lag
    of EL/XL/ES/XS (entry/exit long/short, computed at the PREVIOUS close): the
    vector driver passes whole histories with lag 1, the event driver one row of
    prices and the previous close's signals with lag 0. No entry on row
    `no_entry_row`. equity[r] gets cash + positions marked at the close.

    One function for both drivers, and no per-bar function call taking arrays:
    in numba each such call pays reference counting on every array argument.
    Returns (next row, trades); stops early when `tr` may not hold another bar.
    `finish`: after the last row, close what is still open at each symbol's last
    candle (end_of_data); the room for those closes is kept free while stepping.

    `fast` lets the loop run through bars on which nothing can happen with a
    tight scan: with no position open, the account only changes at the next
    entry signal; with one position and only a stop and exit signals, only at
    the bar that touches the stop or brings the signal. The event driver passes
    False and steps every bar through the full logic; a test proves both agree.

    RP/RS/EV: the portfolio risk rules, their state and their events (`engine/kernel/risk.py`);
    the fast paths (`engine/kernel/_scan.py`) keep them: a ride evaluates them on each close,
    a flat scan stops where a term they read may change.
    """
    n_rows, n = O.shape
    fee = P[P_FEE]
    sl = P[P_SL]
    trail = P[P_TRAIL] > 0.0
    trig = P[P_TRIG]
    dist = P[P_DIST]
    maxhold = P[P_MAXHOLD_MS]
    gap_open = P[P_GAP_OPEN] > 0.0
    tf_min = P[P_TF_MIN]
    timeout = P[P_EXIT_TIMEOUT_MS]
    red_roi = P[P_RED_ROI] > 0.0
    n_roi = roi_min.shape[0]
    # with only a stop and exit signals, a bar that touches neither changes nothing but equity
    quiet_rules = fast and n_roi == 0 and not trail and maxhold <= 0.0
    n_rules = RP.shape[0]
    tf_ms = tf_min * _MINUTE_MS
    marks_read = n_rules > 0 and risk_reads_marks(RP)
    r = r0 - 1
    while r + 1 < n_rows:
        r += 1
        if n_tr + (2 * n if finish else n) > tr.shape[0] or RS[RS_NEV] + n_rules > EV.shape[0]:
            return r, n_tr
        if fast and acct[A_OPEN] == 0.0 and (n_rules == 0 or risk_settled(RS, acct[A_CASH], n_tr)):
            # flat until the next entry signal: equity is the cash, nothing else changes
            # (with rules: nor any term they read, until a new UTC day moves daily_pnl's base)
            cash = acct[A_CASH]
            day_end = risk_day_end(RS) if n_rules > 0 else math.inf
            q = r
            while q < n_rows:
                j = q - lag
                if j >= 0 and any_entry(EL, ES, j, n):
                    break
                if n_rules > 0 and time[q] >= day_end:
                    break
                equity[q] = cash
                q += 1
            if q > r:
                # each symbol's last candle in rows r..q-1, as the per-bar marks would record it
                for s in range(n):
                    for k in range(q - 1, r - 1, -1):
                        if not math.isnan(O[k, s]):
                            pos[s, Q_LAST_I] = bar0 + k
                            pos[s, Q_LAST_T] = float(time[k])
                            pos[s, Q_LAST_O] = O[k, s]
                            pos[s, Q_LAST_C] = C[k, s]
                            break
                acct[A_EQUITY] = cash
                acct[A_NEXT_BAR] = bar0 + q
                r = q - 1
                continue
        if (quiet_rules and n == 1 and pos[0, Q_SIDE] != 0.0 and pos[0, Q_PEND] == 0.0
                and (n_rules == 0 or (RS[RS_CLOSING] == 0.0 and RS[RS_SEEN] == n_tr))):
            if n_rules == 0 or RS[RS_HALT] > 0.0 or not marks_read:  # after a halt no rule runs
                # the ride written out here: a call would pay reference counting on its ten
                # arrays, once per ride, several times per trade (`_scan.ride_rules`: rules
                # that read terms moving with equity run on each close there)
                side = pos[0, Q_SIDE]
                stop = pos[0, Q_STOP]
                has_stop = pos[0, Q_HAS_STOP] > 0.0
                amount = pos[0, Q_AMOUNT]
                stake = pos[0, Q_STAKE]
                cash = acct[A_CASH]
                q = r
                while q < n_rows:
                    if math.isnan(O[q, 0]):
                        break
                    j = q - lag
                    if j >= 0:
                        if side > 0:
                            if XL[j, 0] and not EL[j, 0]:
                                break
                        elif XS[j, 0] and not ES[j, 0]:
                            break
                    if has_stop and (stop >= L[q, 0] if side > 0 else stop <= H[q, 0]):
                        break
                    equity[q] = cash + value(side, stake, amount, C[q, 0])
                    q += 1
                if n_rules > 0 and RS[RS_HALT] == 0.0 and q > r:
                    risk_after_ride(RS, equity, time, r, q, acct[A_OPEN], 0.0 + amount * C[q - 1, 0])
            else:
                q = ride_rules(r, lag, bar0, time, O, H, L, C, EL, XL, ES, XS, pos, acct, equity, RP, RS, EV,
                               tf_ms)
            if q > r:  # bars r..q-1 touched neither the stop nor an exit signal, fired no rule
                # the last of them has a candle (a ride stops at a missing one): mark it
                pos[0, Q_LAST_I] = bar0 + q - 1
                pos[0, Q_LAST_T] = float(time[q - 1])
                pos[0, Q_LAST_O] = O[q - 1, 0]
                pos[0, Q_LAST_C] = C[q - 1, 0]
                acct[A_EQUITY] = equity[q - 1]
                acct[A_NEXT_BAR] = bar0 + q
                r = q - 1
                continue
        i = bar0 + r
        j = r - lag
        t = float(time[r])
        if n_rules > 0 and RS[RS_CLOSING] > 0.0:
            # 0. a halt or close_all fired at the previous close: everything exits at this open
            for s in range(n):
                if pos[s, Q_SIDE] != 0.0 and not math.isnan(O[r, s]):
                    n_tr = _close(s, i, t, tick_round(O[r, s], TK[s, 0], TK[s, 1]), int(RS[RS_CLOSING]), P,
                                  pos, acct, tr, n_tr)
            if acct[A_OPEN] == 0.0:
                RS[RS_CLOSING] = 0.0
        # 1. exits of positions open at the bar's start
        for s in range(n):
            o = O[r, s]
            if pos[s, Q_SIDE] == 0.0 or math.isnan(o):
                continue
            side = pos[s, Q_SIDE]
            if pos[s, Q_PEND] > 0.0 and timeout >= 0.0 and t - pos[s, Q_PEND_T] > timeout:
                pos[s, Q_PEND] = 0.0  # unfilled too long: cancelled, the position stays open
            xsig = False
            if j >= 0:
                xsig = (XL[j, s] and not EL[j, s]) if side > 0 else (XS[j, s] and not ES[j, s])
            dur_min = math.floor((t - pos[s, Q_ENTRY_T]) / _MINUTE_MS)
            roi_m = -1.0
            roi_r = 0.0
            for k in range(n_roi):
                if roi_min[k] <= dur_min:
                    roi_m = roi_min[k]
                    roi_r = roi_ratio[k]
            stop, has_stop, trailed, reason, rate = exit_decision(
                side, pos[s, Q_ENTRY], pos[s, Q_ENTRY_T], pos[s, Q_STOP], pos[s, Q_HAS_STOP] > 0,
                pos[s, Q_TRAILED] > 0, pos[s, Q_PEND] > 0, pos[s, Q_PEND_P], t, o, H[r, s],
                L[r, s], C[r, s], xsig, roi_m, roi_r, fee, sl, trail, trig, dist, maxhold, gap_open,
                tf_min, TK[s, 0], TK[s, 1], red_roi)
            n_tr = _settle(s, i, t, stop, has_stop, trailed, reason, rate, L[r, s], H[r, s], P, pos,
                           acct, tr, n_tr)
        # 2. entries, then the new position's exits on its entry candle
        if r != no_entry_row and j >= 0 and not (n_rules > 0 and risk_blocks_entries(RS, i, t)):
            for s in range(n):
                if not (EL[j, s] or ES[j, s]):
                    continue
                o = O[r, s]
                if math.isnan(o) or pos[s, Q_SIDE] != 0.0 or pos[s, Q_EXIT_I] == i:
                    continue
                side = 0.0
                if EL[j, s] and not XL[j, s] and not ES[j, s]:
                    side = 1.0
                elif ES[j, s] and not XS[j, s] and not EL[j, s]:
                    side = -1.0
                if side == 0.0 or acct[A_OPEN] >= P[P_MAXOPEN]:
                    continue
                if not _enter(s, side, i, t, o, P, TK, pos, acct):
                    continue
                roi_m = -1.0
                roi_r = 0.0
                if n_roi > 0 and roi_min[0] <= 0.0:
                    roi_m = roi_min[0]
                    roi_r = roi_ratio[0]
                stop, has_stop, trailed, reason, rate = exit_decision(
                    side, pos[s, Q_ENTRY], t, pos[s, Q_STOP], pos[s, Q_HAS_STOP] > 0, False,
                    False, 0.0, t, o, H[r, s], L[r, s], C[r, s], False, roi_m, roi_r, fee, sl, trail,
                    trig, dist, maxhold, gap_open, tf_min, TK[s, 0], TK[s, 1], red_roi)
                n_tr = _settle(s, i, t, stop, has_stop, trailed, reason, rate, L[r, s], H[r, s], P,
                               pos, acct, tr, n_tr)
        # 3. marks
        eq = acct[A_CASH]
        for s in range(n):
            if not math.isnan(O[r, s]):
                pos[s, Q_LAST_I] = i
                pos[s, Q_LAST_T] = t
                pos[s, Q_LAST_O] = O[r, s]
                pos[s, Q_LAST_C] = C[r, s]
            if pos[s, Q_SIDE] != 0.0:
                eq += value(pos[s, Q_SIDE], pos[s, Q_STAKE], pos[s, Q_AMOUNT], pos[s, Q_LAST_C])
        acct[A_EQUITY] = eq
        acct[A_NEXT_BAR] = i + 1
        equity[r] = eq
        if n_rules > 0:  # 4. the risk rules on this close (engine/kernel/risk.py)
            if n_tr > RS[RS_SEEN]:
                risk_count_losses(RS, tr, n_tr)
            risk_after_bar(RP, RS, EV, pos, i, t, tf_ms, eq, acct[A_OPEN])
    if finish:
        n_tr = _close_all(P, TK, pos, acct, tr, n_tr)
    return n_rows, n_tr


@njit()
def _close_all(P, TK, pos, acct, tr, n_tr):
    """Close every open position at its symbol's last candle (reason end_of_data)."""
    for s in range(pos.shape[0]):
        if pos[s, Q_SIDE] == 0.0:
            continue
        raw = pos[s, Q_LAST_C] if P[P_END_CLOSE] > 0.0 else pos[s, Q_LAST_O]
        rate = tick_round(raw, TK[s, 0], TK[s, 1])
        n_tr = _close(s, pos[s, Q_LAST_I], pos[s, Q_LAST_T], rate, R_END, P, pos, acct, tr, n_tr)
    acct[A_EQUITY] = acct[A_CASH]
    return n_tr


# what the drivers call: the only function numba keeps in its cache (see jit_cache.py)
ENTRY_POINTS = (step_bars,)
