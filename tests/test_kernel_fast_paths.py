"""The kernel's fast paths (`engine/kernel/_scan.py`) keep the risk rules: simulate, which
rides quiet bars and skips flat ones, gives the bits of the Stepper, which steps every bar
through the full logic."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from compiler.risk import RiskPolicy
from engine.kernel import KernelConfig, SimResult, Sizing, Stepper, simulate
from engine.kernel.trades import EXIT_REASONS, Trades

MIN = 60_000
DAY = 86_400_000


def _market(n: int, seed: int, bar_ms: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.006, (n, 1)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * (1 + rng.normal(0, 0.001, (n, 1)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, (n, 1))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, (n, 1))))
    return (np.arange(n, dtype=np.int64) * bar_ms, *(np.round(a, 2) for a in (open_, high, low, close)))


def _both(time: np.ndarray, prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
          sig: dict[str, np.ndarray], config: KernelConfig) -> tuple[SimResult, SimResult]:
    o, h, lo, c = prices
    vec = simulate(time, o, h, lo, c, sig, config, ["A"])
    stepper = Stepper(config, ["A"])
    none = np.zeros(1, dtype=bool)
    n = len(time)
    for r in range(n):
        prev: dict[str, Any] = {k: (v[r - 1] if r else none) for k, v in sig.items()}
        stepper.step(int(time[r]), o[r], h[r], lo[r], c[r], last=r == n - 1, **prev)
    stepper.finish()
    return vec, stepper.result()


def _assert_same(a: SimResult, b: SimResult) -> None:
    assert len(a.trades) == len(b.trades)
    for f in fields(Trades):
        np.testing.assert_array_equal(getattr(a.trades, f.name), getattr(b.trades, f.name), err_msg=f.name)
    np.testing.assert_array_equal(a.equity, b.equity)
    assert a.risk_events == b.risk_events


RULES = RiskPolicy.from_dict({"rules": [
    {"when": "drawdown > 0.002", "then": "alert"},                  # flips on and off inside rides
    {"when": "drawdown > 0.06 and open_positions > 0", "then": "close_all"},
    {"when": "daily_pnl < -0.01", "then": "pause", "for": "2h"},
    {"when": "exposure > 0.45", "then": "pause"},                   # holds while true
    {"when": "consecutive_losses >= 3", "then": "alert"},
    {"when": "drawdown > 0.3", "then": "halt"},
]})


@pytest.mark.parametrize("side", [pytest.param("long", id="long"), pytest.param("short", id="short")])
def test_kernel_ride_with_rules_equals_stepper(side: str) -> None:
    """One symbol, a stop and exit signals only: simulate rides each position's quiet bars and
    evaluates the rules on every close there; a close_all fired inside a ride closes at the
    next open, as bar by bar. 60 days of 15m bars cross many UTC days (daily_pnl's base)."""
    n = 60 * 96
    time, o, h, lo, c = _market(n, seed=11, bar_ms=15 * MIN)
    rng = np.random.default_rng(12)
    sig = {f"entry_{side}": rng.random((n, 1)) < 0.03, f"exit_{side}": rng.random((n, 1)) < 0.01}
    config = KernelConfig(timeframe="15m", fee=0.001, stoploss=-0.04, sizing=Sizing.percent(50), risk=RULES)

    vec, bar = _both(time, (o, h, lo, c), sig, config)

    assert len(vec.risk_events) > 6 * 8 + 64     # more than the first event buffer holds
    assert {e.action for e in vec.risk_events} >= {"alert", "close_all", "pause"}
    assert "risk_close_all" in {EXIT_REASONS[k] for k in vec.trades.exit_reason}
    _assert_same(vec, bar)


def test_kernel_flat_scan_stops_at_each_new_utc_day_for_daily_pnl() -> None:
    """A stopped-out trade leaves the account flat and daily_pnl negative for the rest of day 0;
    at the first bar of each later day daily_pnl returns to 0 and `daily_pnl >= 0` fires there:
    the flat scan must not run past a day's start."""
    n = 3 * 1440
    time = np.arange(n, dtype=np.int64) * MIN
    o = np.full((n, 1), 100.0)
    o[12:, 0] = 90.0                         # the stop (5%) is hit at bar 12's open
    h, lo, c = o.copy(), o.copy(), o.copy()
    entry = np.zeros((n, 1), dtype=bool)
    entry[9, 0] = True                       # fills at bar 10's open, 100
    policy = RiskPolicy.from_dict({"rules": [{"when": "daily_pnl >= 0", "then": "alert"}]})
    config = KernelConfig(timeframe="1m", fee=0.0, stoploss=-0.05, risk=policy)

    vec, bar = _both(time, (o, h, lo, c), {"entry_long": entry}, config)

    assert [EXIT_REASONS[k] for k in vec.trades.exit_reason] == ["stop_loss"]
    # true from bar 0 (no event while it stays true), false from bar 12, true again at each new day
    assert [(e.bar, e.time) for e in vec.risk_events] == [(0, MIN), (1440, DAY + MIN)]
    _assert_same(vec, bar)


NO_MARKS = RiskPolicy.from_dict({"rules": [
    {"when": "open_positions >= 1", "then": "alert"},
    {"when": "consecutive_losses >= 2", "then": "pause", "for": "1h"},
    {"when": "consecutive_losses >= 4", "then": "close_all"},
]})


def _step_all(time: np.ndarray, prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
              sig: dict[str, np.ndarray], config: KernelConfig, fast: bool) -> dict[str, np.ndarray]:
    """The vector driver's one call of `step_bars`, buffers big enough for any run."""
    from engine.kernel._layout import N_T, new_state, pack_params, pack_roi, pack_ticks
    from engine.kernel._step import step_bars
    from engine.kernel.risk import N_EV, RS_NEV, new_risk_state, pack_risk
    from engine.kernel.signals import signal_arrays

    o, h, lo, c = prices
    n, n_sym = o.shape
    el, xl, es, xs = signal_arrays(sig, n, n_sym)
    pos, acct = new_state(config, n_sym)
    rows = np.zeros((n * n_sym + 2 * n_sym, N_T))
    equity = np.zeros(n)
    rp, rs = pack_risk(config.risk), new_risk_state(config.risk, config.starting_balance)
    ev = np.zeros((n * max(1, len(config.risk.rules)), N_EV))
    roi_min, roi_ratio = pack_roi(config)
    bar, n_tr = step_bars(0, 0, time, o, h, lo, c, el, xl, es, xs, 1, n - 1, pack_params(config),
                          pack_ticks(config, n_sym), roi_min, roi_ratio, pos, acct, rows, 0, equity,
                          rp, rs, ev, fast, True)
    assert bar == n
    return {"pos": pos, "acct": acct, "trades": rows[:n_tr], "equity": equity, "risk_state": rs,
            "events": ev[:int(rs[RS_NEV])]}


@pytest.mark.parametrize("policy", [pytest.param(RULES, id="terms-moving-with-equity"),
                                    pytest.param(NO_MARKS, id="trade-terms-only"),
                                    pytest.param(RiskPolicy(), id="no-rules")])
@pytest.mark.parametrize("side", [pytest.param("long", id="long"), pytest.param("short", id="short")])
def test_kernel_fast_paths_leave_every_array_as_the_full_path(policy: RiskPolicy, side: str) -> None:
    """`step_bars` with fast=True (scans) and fast=False (every bar in full): the same
    positions, account, trades, equity, risk state (peak, day, flags...) and events."""
    n = 30 * 96
    time, o, h, lo, c = _market(n, seed=21, bar_ms=15 * MIN)
    rng = np.random.default_rng(22)
    sig = {f"entry_{side}": rng.random((n, 1)) < 0.03, f"exit_{side}": rng.random((n, 1)) < 0.01}
    config = KernelConfig(timeframe="15m", fee=0.001, stoploss=-0.03, sizing=Sizing.percent(50), risk=policy)

    fast = _step_all(time, (o, h, lo, c), sig, config, fast=True)
    full = _step_all(time, (o, h, lo, c), sig, config, fast=False)

    assert len(fast["trades"]) > 20
    for name, array in full.items():
        np.testing.assert_array_equal(fast[name], array, err_msg=name)
