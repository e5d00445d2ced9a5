# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays the drivers pass in)
"""The kernel's fast paths: runs of bars on which only equity can change.

`_step.step_bars` hands a run of bars to these scans when its full per-bar
logic would change nothing but the equity marks: with no position open, until
the next entry signal (`any_entry`); with one position whose only exits are
its stop and exit signals, until the bar that touches one (`ride`). Risk rules
(`engine/kernel/risk.py`) do not force the full path: a ride evaluates them on
every close as the full path would (`risk.risk_on_close`, inlined here), and a
flat scan runs only while no rule term can change (`risk.risk_settled`).
`mark_last` then records each symbol's last candle as the per-bar marks would.

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
    Q_LAST_C,
    Q_LAST_I,
    Q_LAST_O,
    Q_LAST_T,
    Q_SIDE,
    Q_STAKE,
    Q_STOP,
)
from engine.kernel.risk import RS_NEV, risk_on_close

__all__ = ["any_entry", "mark_last", "ride", "value"]


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


@njit()
def ride(r, lag, bar0, time, O, H, L, C, EL, XL, ES, XS, pos, acct, equity, RP, RS, EV, tf_ms):  # noqa: E741
    """First row from r at which the one open position may exit; equity marked until then.

    With risk rules (RP non-empty) each close is evaluated as the full path would; the
    ride ends after a close where a rule fired (its action takes the full path), or
    before a row whose events might not fit in EV.
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
        if n_rules > 0 and RS[RS_NEV] + n_rules > EV.shape[0]:
            break
        eq = cash + value(side, stake, amount, C[q, 0])
        equity[q] = eq
        if n_rules > 0:
            n_ev = RS[RS_NEV]
            risk_on_close(RP, RS, EV, bar0 + q, float(time[q]), tf_ms, eq, n_open, 0.0 + amount * C[q, 0])
            if RS[RS_NEV] != n_ev:
                return q + 1
        q += 1
    return q


@njit()
def mark_last(r_from, r_to, bar0, time, O, C, pos):  # noqa: E741  (candle columns)
    """Each symbol's last candle in rows [r_from, r_to), as the per-bar marks would record it."""
    for s in range(pos.shape[0]):
        for q in range(r_to - 1, r_from - 1, -1):
            if not math.isnan(O[q, s]):
                pos[s, Q_LAST_I] = bar0 + q
                pos[s, Q_LAST_T] = float(time[q])
                pos[s, Q_LAST_O] = O[q, s]
                pos[s, Q_LAST_C] = C[q, s]
                break
