# mypy: disable-error-code="no-untyped-def,no-any-return"
# (numba-compiled: argument types are fixed by the arrays the drivers pass in)
"""Portfolio risk rules inside the compiled kernel: the terms, the programs, the actions.

A deployment's rules (`compiler/risk.py` compiles each `when:` to a postfix
program) run here, inside `_step.step_bars`, so the vector driver (backtest,
optimize) and the Stepper (paper, demo, live, replay) enforce them with one
implementation. Definitions and timing are in docs/risk.md.

Per bar, three hooks in `_step.step_bars`:
1. at the open, before the exits: when a halt or close_all fired at the
   previous close (`RS_CLOSING` holds its exit reason), `_step` closes every
   open position at this open, like an exit signal;
2. before the entries: `risk_blocks_entries` — none after a halt, while a
   close_all is still closing and on the bar of its closes, before a pause's
   end, and after a close where a pause without `for` held;
3. after the marks: `risk_count_losses` over the trades closed since the last
   close, then `risk_after_bar` — the portfolio terms at this close
   (`_update_terms`), each rule's program (`_run`), the actions that fire
   (a rule fires when its condition becomes true: true at this close, false
   at the previous one), one event row each.

State is one float array `RS` (layout below), the programs one array `RP`
[n_rules, RP_OPS + 2 * longest program], the events `EV` [capacity, N_EV].
With no rule the kernel never calls into this module. With rules it keeps its
fast paths: a ride evaluates them on each close (`_scan.ride_rules`), or carries
only their state when no rule reads a term that moves with equity
(`risk_reads_marks`, `risk_after_ride`); a flat
scan stops where a term may change (`risk_settled`, `risk_day_end`).
These functions have no numba cache of their own: they are compiled into
`step_bars`, the kernel's one cached entry point (see `_step.py`), so after
changing this file, touch `_step.py` so numba's cache is refreshed.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from compiler.risk import ACTIONS, OPCODES, PORTFOLIO_TERMS, RiskPolicy
from engine.kernel._layout import (
    Q_AMOUNT,
    Q_LAST_C,
    Q_SIDE,
    R_RISK_CLOSE_ALL,
    R_RISK_HALT,
    T_PROFIT_A,
)
from engine.kernel.risk_events import RiskEvent

__all__ = ["N_EV", "events_from_rows", "grow_events", "new_risk_state", "risk_after_bar",
           "risk_after_ride", "risk_blocks_entries", "risk_close", "risk_count_losses", "risk_day_end", "risk_on_close",
           "risk_reads_marks", "risk_settled", "risk_write_terms"]

# --- risk state (RS) --------------------------------------------------------------
RS_PEAK = 0          # highest equity at a close so far (the starting balance at first)
RS_DAY = 1           # UTC day (days since the epoch) of the last evaluated bar
RS_DAY_EQ = 2        # equity when that day began: at the last close of the day before
RS_LAST_EQ = 3       # equity at the last evaluated close
RS_LOSSES = 4        # losing trades in a row
RS_SEEN = 5          # trade rows already counted into RS_LOSSES
RS_HALT = 6          # 1.0 once a halt fired
RS_CLOSING = 7       # exit reason with which to close everything at the next open; 0 none
RS_PAUSE_UNTIL = 8   # ms: no entry at a bar opening before this
RS_HOLD = 9          # 1.0: a pause without `for` held at the last close
RS_NEV = 10          # events recorded
RS_NO_ENTRY_I = 11   # bar index without entries (the bar of a close_all's closes)
RS_TERMS = 12        # the portfolio terms at the last close, in PORTFOLIO_TERMS order
N_RS = RS_TERMS + len(PORTFOLIO_TERMS)   # then one "was true" flag per rule, then the stack

# --- programs (RP) ----------------------------------------------------------------
RP_ACTION = 0        # index into compiler.risk.ACTIONS
RP_PAUSE_MS = 1      # pause length; 0: while the condition holds
RP_LEN = 2           # opcodes in the program
RP_OPS = 3           # (opcode, argument) pairs from here

ACT_HALT, ACT_CLOSE_ALL, ACT_PAUSE, ACT_ALERT = (ACTIONS.index(a) for a in ("halt", "close_all", "pause", "alert"))
(OP_NUM, OP_TERM, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
 OP_AND, OP_OR, OP_NOT) = range(len(OPCODES))

# --- events (EV) ------------------------------------------------------------------
EV_BAR = 0           # bar index whose close fired the rule
EV_TIME = 1          # that close, ms UTC: the action takes effect from the bar opening then
EV_RULE = 2          # index of the rule
EV_ACTION = 3
EV_UNTIL = 4         # pause: end, ms UTC; NaN otherwise
EV_TERMS = 5         # the portfolio terms at that close
N_EV = EV_TERMS + len(PORTFOLIO_TERMS)

DAY_MS = 86_400_000.0
MARK_TERMS = (PORTFOLIO_TERMS.index("drawdown"), PORTFOLIO_TERMS.index("daily_pnl"), PORTFOLIO_TERMS.index("exposure"))


def pack_risk(policy: RiskPolicy) -> np.ndarray:
    """RP: one row per rule, its action, pause length and program."""
    width = RP_OPS + 2 * max((len(r.program) for r in policy.rules), default=0)
    rp = np.zeros((len(policy.rules), width), dtype=np.float64)
    for k, rule in enumerate(policy.rules):
        rp[k, RP_ACTION] = ACTIONS.index(rule.then)
        rp[k, RP_PAUSE_MS] = rule.pause_ms or 0.0
        rp[k, RP_LEN] = len(rule.program)
        for m, (op, arg) in enumerate(rule.program):
            rp[k, RP_OPS + 2 * m] = op
            rp[k, RP_OPS + 2 * m + 1] = arg
    return rp


def new_risk_state(policy: RiskPolicy, starting_balance: float) -> np.ndarray:
    """RS for a fresh account: the peak and the day's start are the starting balance."""
    depth = max((r.depth for r in policy.rules), default=0)
    rs = np.zeros(N_RS + len(policy.rules) + depth, dtype=np.float64)
    rs[RS_PEAK] = rs[RS_DAY_EQ] = rs[RS_LAST_EQ] = starting_balance
    rs[RS_DAY] = -1.0e18
    rs[RS_PAUSE_UNTIL] = -math.inf
    rs[RS_NO_ENTRY_I] = -1.0
    return rs


def new_events(policy: RiskPolicy, n_bars: int) -> np.ndarray:
    return np.empty((len(policy.rules) * 8 + min(n_bars, 64) if policy.rules else 0, N_EV), dtype=np.float64)


def grow_events(ev: np.ndarray, rs: np.ndarray, n_rules: int) -> np.ndarray:
    """A bigger event buffer when the next bar's events may not fit (the kernel paused)."""
    n = int(rs[RS_NEV])
    if n + n_rules <= ev.shape[0]:
        return ev
    bigger = np.empty((max(2 * ev.shape[0], n + n_rules), N_EV), dtype=np.float64)
    bigger[:n] = ev[:n]
    return bigger


def events_from_rows(rows: np.ndarray, policy: RiskPolicy) -> tuple[RiskEvent, ...]:
    out = []
    for row in rows:
        rule = policy.rules[int(row[EV_RULE])]
        out.append(RiskEvent(
            bar=int(row[EV_BAR]), time=int(row[EV_TIME]), rule=int(row[EV_RULE]), when=rule.when,
            action=ACTIONS[int(row[EV_ACTION])], pause_ms=rule.pause_ms,
            until=None if math.isnan(row[EV_UNTIL]) else int(row[EV_UNTIL]),
            values={t: float(row[EV_TERMS + PORTFOLIO_TERMS.index(t)]) for t in rule.terms}))
    return tuple(out)


# --- compiled ---------------------------------------------------------------------

@njit(inline="always")
def risk_blocks_entries(RS, i, t):
    """True when the rules forbid entries on bar i (open time t)."""
    return (RS[RS_HALT] > 0.0 or RS[RS_CLOSING] > 0.0 or RS[RS_HOLD] > 0.0
            or t < RS[RS_PAUSE_UNTIL] or RS[RS_NO_ENTRY_I] == i)


@njit
def risk_count_losses(RS, tr, n_tr):
    """consecutive_losses over the trade rows closed since the last call, in row order."""
    for k in range(int(RS[RS_SEEN]), n_tr):
        if tr[k, T_PROFIT_A] < 0.0:
            RS[RS_LOSSES] += 1.0
        else:
            RS[RS_LOSSES] = 0.0
    RS[RS_SEEN] = n_tr


@njit(error_model="numpy", inline="always")
def _update_terms(RS, t, eq, n_open, value):
    """The five portfolio terms at this close, into RS[RS_TERMS:]; value: the open positions'
    amount times their last close."""
    if eq > RS[RS_PEAK]:
        RS[RS_PEAK] = eq
    day = math.floor(t / DAY_MS)
    if day != RS[RS_DAY]:   # the first bar of a UTC day: the day began at the previous close
        RS[RS_DAY] = day
        RS[RS_DAY_EQ] = RS[RS_LAST_EQ]
    RS[RS_LAST_EQ] = eq
    risk_write_terms(RS, eq, n_open, value)


@njit(error_model="numpy", inline="always")
def risk_write_terms(RS, eq, n_open, value):
    """The terms from the state `_update_terms` keeps (its last step; `risk_after_ride` too)."""
    RS[RS_TERMS + 0] = 1.0 - eq / RS[RS_PEAK]          # drawdown
    RS[RS_TERMS + 1] = eq / RS[RS_DAY_EQ] - 1.0        # daily_pnl
    RS[RS_TERMS + 2] = n_open                          # open_positions
    RS[RS_TERMS + 3] = value / eq if eq > 0.0 else math.inf   # exposure
    RS[RS_TERMS + 4] = RS[RS_LOSSES]                   # consecutive_losses


@njit(error_model="numpy", inline="always")
def _run(RP, k, RS, sp0):
    """Rule k's program on the terms in RS; its stack lives in RS from sp0. True/False."""
    sp = sp0
    for m in range(int(RP[k, RP_LEN])):
        op = int(RP[k, RP_OPS + 2 * m])
        arg = RP[k, RP_OPS + 2 * m + 1]
        if op == OP_NUM:
            RS[sp] = arg
            sp += 1
            continue
        if op == OP_TERM:
            RS[sp] = RS[RS_TERMS + int(arg)]
            sp += 1
            continue
        if op == OP_NEG:
            RS[sp - 1] = -RS[sp - 1]
            continue
        if op == OP_NOT:
            RS[sp - 1] = 0.0 if RS[sp - 1] != 0.0 else 1.0
            continue
        b = RS[sp - 1]
        a = RS[sp - 2]
        sp -= 1
        if op == OP_ADD:
            v = a + b
        elif op == OP_SUB:
            v = a - b
        elif op == OP_MUL:
            v = a * b
        elif op == OP_DIV:
            v = a / b
        elif op == OP_LT:
            v = 1.0 if a < b else 0.0
        elif op == OP_LE:
            v = 1.0 if a <= b else 0.0
        elif op == OP_GT:
            v = 1.0 if a > b else 0.0
        elif op == OP_GE:
            v = 1.0 if a >= b else 0.0
        elif op == OP_EQ:
            v = 1.0 if a == b else 0.0
        elif op == OP_NE:
            v = 1.0 if a != b else 0.0
        elif op == OP_AND:
            v = 1.0 if (a != 0.0 and b != 0.0) else 0.0
        else:  # OP_OR
            v = 1.0 if (a != 0.0 or b != 0.0) else 0.0
        RS[sp - 1] = v
    return RS[sp0] != 0.0 and not math.isnan(RS[sp0])


@njit(error_model="numpy")
def risk_after_bar(RP, RS, EV, pos, i, t, tf_ms, eq, n_open):
    """Bar i (open time t) has closed and been marked (equity eq, n_open positions): evaluate
    the rules, take their actions. Trades closed so far must have been counted
    (`risk_count_losses`); EV must have room for one event per rule.

    Few array arguments and not inlined: numba pays reference counting per array argument
    on every call, and an inlined body slowed the whole bar loop (benchmarks/bench_risk.py).
    """
    value = 0.0
    for s in range(pos.shape[0]):
        if pos[s, Q_SIDE] != 0.0:
            value += pos[s, Q_AMOUNT] * pos[s, Q_LAST_C]
    risk_on_close(RP, RS, EV, i, t, tf_ms, eq, n_open, value)


@njit(error_model="numpy")
def risk_close(RP, RS, EV, i, t, tf_ms, eq, n_open, value):
    """`risk_on_close` as a function of its own, for `_scan.ride_rules`'s loop."""
    risk_on_close(RP, RS, EV, i, t, tf_ms, eq, n_open, value)


@njit(error_model="numpy")
def risk_after_ride(RS, equity, time, r, q, n_open, value):
    """Rows r..q-1 were a ride (one open position, no exit) marked at equity[r:q], and no
    rule reads a term that moves with equity (`risk_reads_marks`): the rules' answers stay
    those of the last close, so only the state `_update_terms` keeps moves, here in one
    pass with its steps on locals (a day starts where floor(t / DAY_MS) changes, i.e. at
    t >= day_end for increasing t). value: the position's amount times the last close.
    """
    peak = RS[RS_PEAK]
    day = RS[RS_DAY]
    day_eq = RS[RS_DAY_EQ]
    last_eq = RS[RS_LAST_EQ]
    day_end = (day + 1.0) * DAY_MS
    for k in range(r, q):
        eq = equity[k]
        if eq > peak:
            peak = eq
        t = float(time[k])
        if t >= day_end:
            day = math.floor(t / DAY_MS)
            day_end = (day + 1.0) * DAY_MS
            day_eq = last_eq
        last_eq = eq
    RS[RS_PEAK] = peak
    RS[RS_DAY] = day
    RS[RS_DAY_EQ] = day_eq
    RS[RS_LAST_EQ] = last_eq
    risk_write_terms(RS, last_eq, n_open, value)


@njit(inline="always")
def risk_reads_marks(RP):
    """True when a rule reads drawdown, daily_pnl or exposure: terms that move with the
    equity at every close (open_positions and consecutive_losses move only with trades)."""
    for k in range(RP.shape[0]):
        for m in range(int(RP[k, RP_LEN])):
            if int(RP[k, RP_OPS + 2 * m]) == OP_TERM and int(RP[k, RP_OPS + 2 * m + 1]) in MARK_TERMS:
                return True
    return False


@njit(error_model="numpy", inline="always")
def risk_on_close(RP, RS, EV, i, t, tf_ms, eq, n_open, value):
    """`risk_after_bar` on scalars: value is the open positions' amount times their last
    close. The rules run unless a halt has fired.
    """
    if RS[RS_HALT] > 0.0:
        return
    _update_terms(RS, t, eq, n_open, value)
    n_rules = RP.shape[0]
    sp0 = N_RS + n_rules
    t_close = t + tf_ms
    hold = 0.0
    for k in range(n_rules):
        now = _run(RP, k, RS, sp0)
        was = RS[N_RS + k] > 0.0
        RS[N_RS + k] = 1.0 if now else 0.0
        action = int(RP[k, RP_ACTION])
        pause_ms = RP[k, RP_PAUSE_MS]
        if now and action == ACT_PAUSE and pause_ms <= 0.0:
            hold = 1.0
        if not now or was:
            continue
        e = int(RS[RS_NEV])
        RS[RS_NEV] = e + 1
        EV[e, EV_BAR] = i
        EV[e, EV_TIME] = t_close
        EV[e, EV_RULE] = k
        EV[e, EV_ACTION] = action
        EV[e, EV_UNTIL] = np.nan
        for m in range(len(PORTFOLIO_TERMS)):
            EV[e, EV_TERMS + m] = RS[RS_TERMS + m]
        if action == ACT_HALT:
            RS[RS_HALT] = 1.0
            if n_open > 0.0:
                RS[RS_CLOSING] = R_RISK_HALT
            break
        if action == ACT_CLOSE_ALL:
            if n_open > 0.0:
                RS[RS_CLOSING] = R_RISK_CLOSE_ALL
            RS[RS_NO_ENTRY_I] = i + 1
        elif action == ACT_PAUSE and pause_ms > 0.0:
            EV[e, EV_UNTIL] = t_close + pause_ms
            if t_close + pause_ms > RS[RS_PAUSE_UNTIL]:
                RS[RS_PAUSE_UNTIL] = t_close + pause_ms
    RS[RS_HOLD] = hold


@njit(inline="always")
def risk_settled(RS, cash, n_tr):
    """True when a flat bar closing at equity `cash` cannot change what the rules see: the
    last close was evaluated flat at this equity, no trade closed since and nothing is
    closing (or a halt ended the rules). Until the next UTC day (`risk_day_end`), such
    bars leave every term, flag and action as they are, so the kernel may skip them.
    """
    if RS[RS_CLOSING] > 0.0:
        return False
    if RS[RS_HALT] > 0.0:
        return True
    return (RS[RS_DAY] > -1.0e17 and RS[RS_LAST_EQ] == cash and RS[RS_TERMS + 2] == 0.0
            and RS[RS_SEEN] == n_tr)


@njit(inline="always")
def risk_day_end(RS):
    """Open time (ms) from which a bar starts a new UTC day: daily_pnl's base moves there."""
    if RS[RS_HALT] > 0.0:
        return math.inf
    return (RS[RS_DAY] + 1.0) * DAY_MS
