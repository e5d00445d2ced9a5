# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays the drivers pass in)
"""Pieces of the kernel's fast paths: runs of bars on which only equity can change.

`_step.step_bars` runs through such bars in tight scans when its full per-bar
logic would change nothing but the equity marks: with no position open, until
the next entry signal (`any_entry`); with one position whose only exits are
its stop and exit signals, until the bar that touches one (the ride). Those
two loops are written out in `step_bars` (a call per scan would pay numba's
reference counting on every array argument, several times per trade). Risk
rules (`engine/kernel/risk.py`) do not force the full path: a ride with rules
(`ride_rules`, called once per ride) keeps them as the full path would on
every close, and a flat scan runs only while no rule term can change
(`risk.risk_settled`).

Compiled into `step_bars` (no numba cache of their own, see `_step.py`): after
changing this file, touch `_step.py` so numba's cache is refreshed.
"""
from __future__ import annotations

import math

from numba import njit

from engine.kernel._layout import (
    A_CASH,
    A_OPEN,
    Q_AMOUNT,
    Q_HAS_STOP,
    Q_SIDE,
    Q_STAKE,
    Q_STOP,
)
from engine.kernel.risk import (
    DAY_MS,
    RS_DAY,
    RS_DAY_EQ,
    RS_LAST_EQ,
    RS_NEV,
    RS_PEAK,
    risk_close,
    risk_write_terms,
)

__all__ = ["any_entry", "ride_rules", "value"]


@njit(inline="always")
def value(side, stake, amount, close):
    """A position marked at `close`: a long's amount, or a short's collateral plus its profit.

    The per-bar marks and `ride` both use it, so both paths give the same bits.
    """
    if side > 0:
        return amount * close
    return 2.0 * stake - amount * close


@njit(inline="always")
def any_entry(EL, ES, j, n):
    """An entry signal of any symbol on row j. Inlined: the flat scan calls it every bar."""
    for s in range(n):  # noqa: SIM110  (numba compiles this loop; any() of a generator it does not)
        if EL[j, s] or ES[j, s]:
            return True
    return False


# `ride_rules` spells the quiet-bar test of `_step.step_bars`'s ride without rules: a helper
# taking the arrays, even inlined, costs numba's reference counting on each of them at every bar.

@njit(error_model="numpy")
def ride_rules(r, lag, bar0, time, O, H, L, C, EL, XL, ES, XS, pos, acct, equity, RP, RS, EV, tf_ms,  # noqa: E741
               marks_read):
    """The ride of `_step.step_bars` (the one open position's quiet bars) with risk rules, as
    the full path would evaluate them on each close. Returns the first row not ridden.

    marks_read (`risk.risk_reads_marks`): a rule reads drawdown, daily_pnl or exposure,
    which move with every close; each close then runs the programs, and the ride ends after
    a close where a rule fired (its action takes the full path) or before a row whose events
    might not fit in EV. Otherwise the rules read only terms a ride cannot change
    (open_positions, consecutive_losses): their answers stay those of the last close, and
    the ride only carries the state `risk._update_terms` keeps (peak, day, the day's start,
    the last close) on locals, writing it and the last close's terms back at the end.
    """
    side = pos[0, Q_SIDE]
    stop = pos[0, Q_STOP]
    has_stop = pos[0, Q_HAS_STOP] > 0.0
    amount = pos[0, Q_AMOUNT]
    stake = pos[0, Q_STAKE]
    cash = acct[A_CASH]
    n_open = acct[A_OPEN]
    n_rules = RP.shape[0]
    peak = RS[RS_PEAK]
    day = RS[RS_DAY]
    day_eq = RS[RS_DAY_EQ]
    last_eq = RS[RS_LAST_EQ]
    day_end = (day + 1.0) * DAY_MS   # floor(t / DAY_MS) != day exactly when t >= day_end (t increasing)
    eq = last_eq
    q = r
    n_rows = O.shape[0]
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
        if marks_read and RS[RS_NEV] + n_rules > EV.shape[0]:
            break
        eq = cash + value(side, stake, amount, C[q, 0])
        equity[q] = eq
        if marks_read:
            n_ev = RS[RS_NEV]
            risk_close(RP, RS, EV, bar0 + q, float(time[q]), tf_ms, eq, n_open, 0.0 + amount * C[q, 0])
            q += 1
            if RS[RS_NEV] != n_ev:
                break
            continue
        if eq > peak:
            peak = eq
        t = float(time[q])
        if t >= day_end:
            day = math.floor(t / DAY_MS)
            day_end = (day + 1.0) * DAY_MS
            day_eq = last_eq
        last_eq = eq
        q += 1
    if not marks_read and q > r:
        RS[RS_PEAK] = peak
        RS[RS_DAY] = day
        RS[RS_DAY_EQ] = day_eq
        RS[RS_LAST_EQ] = last_eq
        risk_write_terms(RS, eq, n_open, 0.0 + amount * C[q - 1, 0])
    return q
