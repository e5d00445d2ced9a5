"""Risk rules in the compiled kernel: one hand-computed test per term and per action.

Common to every test unless it says otherwise: no fee, no slippage, no price
tick, 100% stake, flat candles given as (open, close) with high/low = max/min;
a signal on bar k's close fills at bar k+1's open. Rules are evaluated on each
bar's close after its fills; their action takes effect from the next bar.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

import numpy as np
import pytest

from compiler.risk import RiskPolicy
from engine.kernel import KernelConfig, SimResult, Sizing, Stepper, simulate
from engine.kernel.trades import EXIT_REASONS, Trades

H = 3_600_000
NO_RULES = RiskPolicy()


def _policy(*rules: tuple[str, str] | tuple[str, str, str], cap: int | None = None) -> RiskPolicy:
    return RiskPolicy.from_dict({"max_open_positions": cap,
                                 "rules": [dict(zip(("when", "then", "for"), r, strict=False)) for r in rules]})


def _run(opens: Sequence[object], closes: Sequence[object], *, policy: RiskPolicy = NO_RULES,
         tf: str = "1h", entries: Mapping[int, Sequence[int]] | None = None,
         exits: Mapping[int, Sequence[int]] | None = None, **cfg: object) -> SimResult:
    """entries/exits: symbol -> bars whose close signals (one symbol: key 0)."""
    o = np.array(opens, dtype=float).reshape(len(opens), -1)
    c = np.array(closes, dtype=float).reshape(len(closes), -1)
    n, n_sym = o.shape
    bar_ms = {"1h": H, "6h": 6 * H}[tf]

    def flags(spec: Mapping[int, Sequence[int]] | None) -> np.ndarray:
        a = np.zeros((n, n_sym), dtype=bool)
        for s, bars in (spec or {}).items():
            a[list(bars), s] = True
        return a

    config = KernelConfig(timeframe=tf, fee=0.0, risk=policy, **cfg)  # type: ignore[arg-type]
    return simulate(np.arange(n, dtype=np.int64) * bar_ms, o, np.fmax(o, c), np.fmin(o, c), c,
                    {"entry_long": flags(entries), "exit_long": flags(exits)}, config)


def _trades(r: SimResult) -> list[tuple[int, int, int, float, float, str]]:
    t = r.trades
    return [(int(t.symbol[k]), int(t.entry_index[k]), int(t.exit_index[k]), float(t.entry_price[k]),
             float(t.exit_price[k]), EXIT_REASONS[int(t.exit_reason[k])]) for k in range(len(t))]


def _events(r: SimResult) -> list[tuple[int, int, str, int | None, dict[str, float]]]:
    return [(e.bar, e.time, e.action, e.until, {k: round(v, 9) for k, v in e.values.items()})
            for e in r.risk_events]


# drawdown falls to 20% at bar 3's close, then recovers to 12% after the bar 4 exit at 88
DD_OPEN = [100, 100, 100, 90, 88, 88, 88, 89]
DD_CLOSE = [100, 100, 90, 80, 88, 88, 89, 90]


def test_risk_drawdown_halt_closes_at_next_open_and_stops_entries() -> None:
    """Entry at bar 1's open (100), 100 units. Equity at the closes: bar 1 10000 (peak),
    bar 2 9000 (drawdown 0.10), bar 3 8000 (0.20 > 0.15): the halt fires at bar 3's close.
    Bar 4: closed at its open, 88 (risk_halt); the entry signalled at bar 5 never fills.
    """
    r = _run(DD_OPEN, DD_CLOSE, policy=_policy(("drawdown > 0.15", "halt")), entries={0: [0, 5]})

    assert _trades(r) == [(0, 1, 4, 100.0, 88.0, "risk_halt")]
    assert _events(r) == [(3, 4 * H, "halt", None, {"drawdown": 0.2})]
    assert r.trades.profit_abs[0] == pytest.approx(-1200.0)


def test_risk_without_rules_the_same_history_trades_once() -> None:
    r = _run(DD_OPEN, DD_CLOSE, entries={0: [0, 5]})

    assert _trades(r) == [(0, 1, 7, 100.0, 89.0, "end_of_data")]
    assert r.risk_events == ()


def test_risk_drawdown_close_all_allows_entries_after() -> None:
    """As the halt test, but close_all: closed at bar 4's open (88); drawdown is then
    1 - 8800/10000 = 0.12, false again; the signal of bar 5 enters at bar 6's open, 88
    (8800 / 88 = 100 units), closed at the end of the data (bar 7's open, 89).
    """
    r = _run(DD_OPEN, DD_CLOSE, policy=_policy(("drawdown > 0.15", "close_all")), entries={0: [0, 5]})

    assert _trades(r) == [(0, 1, 4, 100.0, 88.0, "risk_close_all"), (0, 6, 7, 88.0, 89.0, "end_of_data")]
    assert _events(r) == [(3, 4 * H, "close_all", None, {"drawdown": 0.2})]


def test_risk_halt_waits_for_a_symbols_next_candle_and_blocks_every_symbol() -> None:
    """Two symbols, 50% stake each. A falls 100 -> 60 by bar 3 while B is flat: equity
    50 * 60 + 50 * 100 = 8000 at bar 3's close, drawdown 0.20 > 0.15 -> halt.
    Bar 4: A closes at its open (60); B has no candle on bar 4 and closes at bar 5's open (100).
    B's signal at bar 4 would enter it again at bar 5: blocked.
    """
    nan = float("nan")
    opens = [[100, 100], [100, 100], [100, 100], [80, 100], [60, nan], [60, 100], [60, 100]]
    closes = [[100, 100], [100, 100], [80, 100], [60, 100], [60, nan], [60, 100], [60, 100]]

    r = _run(opens, closes, policy=_policy(("drawdown > 0.15", "halt")), entries={0: [0], 1: [0, 4]},
             sizing=Sizing.percent(50), max_open_positions=2)

    assert _trades(r) == [(0, 1, 4, 100.0, 60.0, "risk_halt"), (1, 1, 5, 100.0, 100.0, "risk_halt")]
    assert _events(r) == [(3, 4 * H, "halt", None, {"drawdown": 0.2})]


def test_risk_daily_pnl_pause_for_blocks_entries_until_its_end() -> None:
    """6h bars from midnight: day 0 = bars 0-3, day 1 = bars 4-7, day 2 = bars 8-9.
    Entry at bar 1 (100, 100 units). Day 1 began at bar 3's close, equity 10000; bar 4 closes
    at 98 (daily_pnl -0.02), bar 5 at 96 (-0.04 < -0.03): the pause fires at bar 5's close,
    36h, and lasts 12h, to 48h = bar 8's open. Exit signal at bar 5 -> out at bar 6's open (96).
    Bar 6's entry signal (fill at bar 7, 42h) is blocked; bar 7's fills at bar 8 (48h), 96.
    """
    opens = [100, 100, 100, 100, 100, 98, 96, 96, 96, 96]
    closes = [100, 100, 100, 100, 98, 96, 96, 96, 96, 96]

    r = _run(opens, closes, tf="6h", policy=_policy(("daily_pnl < -0.03", "pause", "12h")),
             entries={0: [0, 6, 7]}, exits={0: [5]})

    assert _trades(r) == [(0, 1, 6, 100.0, 96.0, "exit_signal"), (0, 8, 9, 96.0, 96.0, "end_of_data")]
    assert _events(r) == [(5, 36 * H, "pause", 48 * H, {"daily_pnl": -0.04})]
    assert r.risk_events[0].to_record()["until"] == "1970-01-03T00:00:00Z"


def test_risk_daily_pnl_without_rule_enters_on_the_first_signal() -> None:
    opens = [100, 100, 100, 100, 100, 98, 96, 96, 96, 96]
    closes = [100, 100, 100, 100, 98, 96, 96, 96, 96, 96]

    r = _run(opens, closes, tf="6h", entries={0: [0, 6, 7]}, exits={0: [5]})

    assert _trades(r) == [(0, 1, 6, 100.0, 96.0, "exit_signal"), (0, 7, 9, 96.0, 96.0, "end_of_data")]


def test_risk_open_positions_close_all_fires_each_time_it_becomes_true() -> None:
    """Three symbols at a constant 100, 30% stake each. A and B enter at bar 1: two open at
    bar 1's close -> close_all; both out at bar 2's open. C's signal at bar 1 would fill on
    bar 2, the bar of the closes: blocked. A and C (signals at bar 2) enter at bar 3: two open
    again, the condition became true again (it was false at bar 2's close) -> out at bar 4.
    """
    flat = [[100, 100, 100]] * 6

    r = _run(flat, flat, policy=_policy(("open_positions >= 2", "close_all")),
             entries={0: [0, 2], 1: [0], 2: [1, 2]}, sizing=Sizing.percent(30), max_open_positions=3)

    assert _trades(r) == [(0, 1, 2, 100.0, 100.0, "risk_close_all"), (1, 1, 2, 100.0, 100.0, "risk_close_all"),
                          (0, 3, 4, 100.0, 100.0, "risk_close_all"), (2, 3, 4, 100.0, 100.0, "risk_close_all")]
    assert [(e.bar, e.values) for e in r.risk_events] == [(1, {"open_positions": 2.0}),
                                                          (3, {"open_positions": 2.0})]


def test_risk_exposure_pause_while_condition_holds() -> None:
    """Two symbols, 50% stake. A enters at bar 1 (100, 50 units), exposure 5000 / 10000 = 0.5.
    Bar 2 closes A at 200: 10000 / 15000 = 0.67 > 0.6, entries paused for the next bar: B's
    signal at bar 2 (fill at bar 3) is blocked. Bar 3 closes A at 100: 0.5, released; B's
    signal at bar 3 fills at bar 4's open; both open, 10000 / 10000 = 1.0: paused again.
    """
    opens = [[100, 100], [100, 100], [100, 100], [200, 100], [100, 100], [100, 100]]
    closes = [[100, 100], [100, 100], [200, 100], [100, 100], [100, 100], [100, 100]]
    common = dict(entries={0: [0], 1: [2, 3]}, sizing=Sizing.percent(50), max_open_positions=2)

    r = _run(opens, closes, policy=_policy(("exposure > 0.6", "pause_entries")), **common)  # type: ignore[arg-type]
    free = _run(opens, closes, **common)  # type: ignore[arg-type]

    assert _trades(r) == [(0, 1, 5, 100.0, 100.0, "end_of_data"), (1, 4, 5, 100.0, 100.0, "end_of_data")]
    assert _trades(free) == [(0, 1, 5, 100.0, 100.0, "end_of_data"), (1, 3, 5, 100.0, 100.0, "end_of_data")]
    assert _events(r) == [(2, 3 * H, "pause", None, {"exposure": round(2 / 3, 9)}),
                          (4, 5 * H, "pause", None, {"exposure": 1.0})]


# loss (100 -> 90), loss (90 -> 80), win (80 -> 90), loss (90 -> 85)
STREAK_PRICES = [100, 100, 90, 90, 80, 80, 90, 90, 85, 85]
STREAK = dict(entries={0: [0, 2, 4, 6]}, exits={0: [1, 3, 5, 7]})


def test_risk_consecutive_losses_alert_records_without_changing_trades() -> None:
    """Trades close at bars 2 (loss), 4 (loss), 6 (win), 8 (loss): the count is 1, 2, 0, 1.
    The alert fires at bar 4's close, the only time the count becomes >= 2; trades are unchanged.
    """
    r = _run(STREAK_PRICES, STREAK_PRICES, policy=_policy(("consecutive_losses >= 2", "alert")),
             **STREAK)  # type: ignore[arg-type]
    free = _run(STREAK_PRICES, STREAK_PRICES, **STREAK)  # type: ignore[arg-type]

    assert _trades(r) == _trades(free) == [(0, 1, 2, 100.0, 90.0, "exit_signal"),
                                           (0, 3, 4, 90.0, 80.0, "exit_signal"),
                                           (0, 5, 6, 80.0, 90.0, "exit_signal"),
                                           (0, 7, 8, 90.0, 85.0, "exit_signal")]
    assert _events(r) == [(4, 5 * H, "alert", None, {"consecutive_losses": 2.0})]
    assert r.risk_events[0].to_record()["effect"] == "alert only"


def test_risk_consecutive_losses_pause_for_skips_the_next_trade() -> None:
    """Same trades; `consecutive_losses >= 2` pauses 2h from bar 4's close (5h) to 7h: the
    signal of bar 4 (fill at bar 5, 5h) is blocked, so the winning trade never happens; the
    signal of bar 6 fills at bar 7 (7h, the pause's end): 90 -> 85, a loss.
    """
    r = _run(STREAK_PRICES, STREAK_PRICES, policy=_policy(("consecutive_losses >= 2", "pause", "2h")),
             **STREAK)  # type: ignore[arg-type]

    assert _trades(r) == [(0, 1, 2, 100.0, 90.0, "exit_signal"), (0, 3, 4, 90.0, 80.0, "exit_signal"),
                          (0, 7, 8, 90.0, 85.0, "exit_signal")]
    assert _events(r) == [(4, 5 * H, "pause", 7 * H, {"consecutive_losses": 2.0})]


def test_risk_max_open_positions_replaces_the_config_cap() -> None:
    flat = [[100, 100]] * 4

    capped = _run(flat, flat, entries={0: [0], 1: [0]}, sizing=Sizing.percent(50), max_open_positions=1)
    raised = _run(flat, flat, policy=_policy(cap=2), entries={0: [0], 1: [0]}, sizing=Sizing.percent(50),
                  max_open_positions=1)

    assert [t[0] for t in _trades(capped)] == [0]
    assert [t[0] for t in _trades(raised)] == [0, 1]


def test_risk_halt_ends_rule_evaluation() -> None:
    """After the halt (bar 3's close) the alert on open_positions == 0 never fires, though it holds."""
    r = _run(DD_OPEN, DD_CLOSE, policy=_policy(("drawdown > 0.15", "halt"), ("open_positions == 0", "alert")),
             entries={0: [0]})

    assert [(e.bar, e.action) for e in r.risk_events] == [(0, "alert"), (3, "halt")]


# --- both drivers ---------------------------------------------------------------------

def _market(n: int, n_sym: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, n_sym)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * (1 + rng.normal(0, 0.001, (n, n_sym)))
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    return (np.arange(n, dtype=np.int64) * 15 * 60_000, *(np.round(a, 2) for a in (open_, high, low, close)))


RULES = _policy(("drawdown > 0.08 and open_positions > 0", "close_all"),
                ("daily_pnl < -0.02", "pause", "6h"),
                ("exposure between [0.9, 10]", "pause"),
                ("consecutive_losses >= 3 or drawdown / open_positions > 0.3", "alert"),
                ("drawdown > 0.5", "halt"), cap=2)


def _assert_same(a: Trades, b: Trades) -> None:
    assert len(a) == len(b)
    for f in fields(Trades):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


@pytest.mark.parametrize("p", [pytest.param(0.05, id="sparse"), pytest.param(0.5, id="dense-grow-buffers")])
def test_risk_stepper_bar_by_bar_equals_simulate(p: float) -> None:
    n, n_sym = 3000, 3
    time, o, h, lo, c = _market(n, n_sym, seed=7)
    o[:50, 1] = h[:50, 1] = lo[:50, 1] = c[:50, 1] = np.nan
    rng = np.random.default_rng(8)
    sig = {k: rng.random((n, n_sym)) < p for k in ("entry_long", "exit_long", "entry_short", "exit_short")}
    config = KernelConfig(timeframe="15m", fee=0.001, slippage_bps=2, stoploss=-0.03, sizing=Sizing.percent(40),
                          price_tick=0.01, risk=RULES)

    vec = simulate(time, o, h, lo, c, sig, config, ["A", "B", "C"])
    stepper = Stepper(config, ["A", "B", "C"])
    for r in range(n):
        prev = {k: v[r - 1] if r else None for k, v in sig.items()}
        stepper.step(int(time[r]), o[r], h[r], lo[r], c[r], last=r == n - 1, **prev)
    stepper.finish()
    bar = stepper.result()

    assert {e.action for e in vec.risk_events} >= {"close_all", "pause", "alert"}
    assert {EXIT_REASONS[k] for k in vec.trades.exit_reason} >= {"risk_close_all"}
    _assert_same(vec.trades, bar.trades)
    np.testing.assert_array_equal(vec.equity, bar.equity)
    assert vec.risk_events == bar.risk_events


def test_risk_rules_change_a_random_history() -> None:
    n, n_sym = 3000, 3
    time, o, h, lo, c = _market(n, n_sym, seed=7)
    rng = np.random.default_rng(8)
    sig = {k: rng.random((n, n_sym)) < 0.05 for k in ("entry_long", "exit_long")}
    base = KernelConfig(timeframe="15m", fee=0.001, sizing=Sizing.percent(40), max_open_positions=2)

    free = simulate(time, o, h, lo, c, sig, base)
    ruled = simulate(time, o, h, lo, c, sig, KernelConfig(**{**base.__dict__, "risk": RULES}))

    assert len(ruled.risk_events) > 0
    assert _trades(free) != _trades(ruled)


def test_risk_short_position_terms_and_halt() -> None:
    """A short of 100 units entered at bar 1's open (100). Equity = free balance + 2 * stake -
    amount * close = 20000 - 100 * close: bar 2 closes at 110 (9000, drawdown 0.10, exposure
    100 * 110 / 9000 = 1.22), bar 3 at 120 (8000, drawdown 0.20, exposure 1.5): both rules fire
    at bar 3's close, in their order; the halt buys back at bar 4's open, 118.
    """
    opens = [100, 100, 100, 110, 118, 118]
    closes = [100, 100, 110, 120, 118, 118]
    n = len(opens)
    t = np.arange(n, dtype=np.int64) * H
    o, c = np.array(opens, float), np.array(closes, float)
    es = np.zeros(n, dtype=bool)
    es[0] = True
    config = KernelConfig(timeframe="1h", fee=0.0, risk=_policy(("exposure > 1.4", "alert"),
                                                                ("drawdown > 0.15", "halt")))

    r = simulate(t, o, np.fmax(o, c), np.fmin(o, c), c, {"entry_short": es}, config)

    assert [(int(r.trades.entry_index[0]), int(r.trades.exit_index[0]), float(r.trades.exit_price[0]),
             EXIT_REASONS[int(r.trades.exit_reason[0])])] == [(1, 4, 118.0, "risk_halt")]
    assert _events(r) == [(3, 4 * H, "alert", None, {"exposure": 1.5}),
                          (3, 4 * H, "halt", None, {"drawdown": 0.2})]
    assert r.trades.profit_abs[0] == pytest.approx(-1800.0)
