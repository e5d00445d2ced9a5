# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays the drivers pass in)
"""Pieces of the kernel's fast paths: runs of bars on which only equity can change.

`_step.step_bars` runs through such bars in tight scans when its full per-bar
logic would change nothing but the equity marks: with no position open, until
the next entry signal (`any_entry`); with one position whose only exits are
its stop and exit signals, until the bar that touches one (the ride). Those
two loops are written out in `step_bars` (a call per scan would pay numba's
reference counting on every array argument, several times per trade). Risk
rules (`engine/kernel/risk.py`) do not force the full path: a ride evaluates them
on every close (`ride_rules`, called once per ride) when they read a term
that moves with equity, else only carries their state (`risk.risk_after_ride`);
a flat scan runs only while no rule term can change (`risk.risk_settled`).

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
from engine.kernel.risk import RS_NEV, risk_close

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
def ride_rules(r, lag, bar0, time, O, H, L, C, EL, XL, ES, XS, pos, acct, equity, RP, RS, EV, tf_ms):  # noqa: E741
    """The ride of `_step.step_bars` (the one open position's quiet bars) when a rule reads
    drawdown, daily_pnl or exposure (`risk.risk_reads_marks`), terms that move with every
    close: each close runs the programs as the full path would. The ride ends after a close
    where a rule fired (its action takes the full path) or before a row whose events might
    not fit in EV. Returns the first row not ridden. (Rules reading only trade terms ride in
    `step_bars` itself, then `risk.risk_after_ride`.)
    """
    side = pos[0, Q_SIDE]
    stop = pos[0, Q_STOP]
    has_stop = pos[0, Q_HAS_STOP] > 0.0
    amount = pos[0, Q_AMOUNT]
    stake = pos[0, Q_STAKE]
    cash = acct[A_CASH]
    n_open = acct[A_OPEN]
    n_rules = RP.shape[0]
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
        if RS[RS_NEV] + n_rules > EV.shape[0]:
            break
        eq = cash + value(side, stake, amount, C[q, 0])
        equity[q] = eq
        n_ev = RS[RS_NEV]
        risk_close(RP, RS, EV, bar0 + q, float(time[q]), tf_ms, eq, n_open, 0.0 + amount * C[q, 0])
        q += 1
        if RS[RS_NEV] != n_ev:
            break
    return q
