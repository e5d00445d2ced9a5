"""freqtrade's rules that only show on real candles, each worked out by hand on a few bars.

1m bars, price tick 1.0 and no fee unless a test says otherwise, so every
price below can be checked on paper. tests/test_kernel_freqtrade_parity.py
checks the same rules against freqtrade's own trades.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from engine.kernel import EXIT_REASONS, KernelConfig, SimResult, Sizing, Stepper, simulate

MIN = 60_000
Bar = tuple[float, float, float, float]


def run(rows: Sequence[Bar], *, el: Sequence[int] = (), xl: Sequence[int] = (), es: Sequence[int] = (),
        xs: Sequence[int] = (), **cfg: object) -> SimResult:
    a = np.array(rows, dtype=float)
    n = len(a)

    def on(idx: Sequence[int]) -> np.ndarray:
        return np.isin(np.arange(n), list(idx))

    cfg.setdefault("fee", 0.0)
    cfg.setdefault("price_tick", 1.0)
    config = KernelConfig(timeframe="1m", **cfg)  # type: ignore[arg-type]  # test options as keywords
    sig = {"entry_long": on(el), "exit_long": on(xl), "entry_short": on(es), "exit_short": on(xs)}
    return simulate(np.arange(n, dtype=np.int64) * MIN, a[:, 0], a[:, 1], a[:, 2], a[:, 3], sig, config)


def reasons(r: SimResult) -> list[str]:
    return [EXIT_REASONS[k] for k in r.trades.exit_reason]


# --- unfilled exit orders time out -----------------------------------------------------------
# Entry at bar 1 (100). The exit signal of bar 1 places a sell at bar 2's open rounded to the
# tick, 100, but bar 2's low is 100.2: the order waits. Bars 3-13 trade above 100. Bar 14
# comes back down to 99-100.5 and would fill it at 100.
HIGH = (101.0, 101.5, 100.5, 101.0)
TIMEOUT_ROWS: list[Bar] = ([(100.0, 100.9, 99.1, 100.0), (100.0, 100.9, 99.6, 100.0), (100.4, 100.9, 100.2, 100.6)]
                           + [HIGH] * 11 + [(100.0, 100.5, 99.0, 99.5), (99.0, 99.5, 98.5, 99.0), (99.0, 99.5, 98.5, 99.0)])


def test_exit_timeout_waiting_order_fills_without_a_timeout() -> None:
    r = run(TIMEOUT_ROWS, el=[0], xl=[1], exit_timeout_minutes=None)
    assert reasons(r) == ["exit_signal"]
    assert (r.trades.exit_index[0], r.trades.exit_price[0]) == (14, 100.0)


def test_exit_timeout_cancels_the_order_and_the_position_stays_open() -> None:
    r = run(TIMEOUT_ROWS, el=[0], xl=[1])  # default: 10 minutes, as freqtrade's sample configs
    assert reasons(r) == ["end_of_data"]
    assert (r.trades.exit_index[0], r.trades.exit_price[0]) == (16, 99.0)


def test_exit_timeout_the_next_exit_after_a_cancel_places_a_new_order() -> None:
    r = run(TIMEOUT_ROWS, el=[0], xl=[1, 14])
    assert reasons(r) == ["exit_signal"]
    assert (r.trades.exit_index[0], r.trades.exit_price[0]) == (15, 99.0)


@pytest.mark.parametrize(("minutes", "exit_index"), [
    pytest.param(12.0, 14, id="12min-age-12-still-open-fills"),
    pytest.param(11.0, 16, id="11min-age-12-cancelled"),
    pytest.param(0.0, 16, id="0min-cancelled-on-the-next-bar"),
])
def test_exit_timeout_cancels_only_orders_older_than_the_timeout(minutes: float, exit_index: int) -> None:
    # placed at bar 2 (t = 2 min); at bar 14 it is 12 minutes old: freqtrade cancels when older than
    r = run(TIMEOUT_ROWS, el=[0], xl=[1], exit_timeout_minutes=minutes)
    assert r.trades.exit_index[0] == exit_index


def test_exit_timeout_stepper_matches_simulate() -> None:
    config = KernelConfig(timeframe="1m", fee=0.0, price_tick=1.0)
    vector = run(TIMEOUT_ROWS, el=[0], xl=[1])
    stepper = Stepper(config, ["A"])
    n = len(TIMEOUT_ROWS)
    for i, (o, h, lo, c) in enumerate(TIMEOUT_ROWS):
        stepper.step(i * MIN, [o], [h], [lo], [c], entry_long=[i - 1 == 0], exit_long=[i - 1 == 1],
                     last=i == n - 1)
    stepper.finish()
    np.testing.assert_array_equal(stepper.result().trades.exit_index, vector.trades.exit_index)
    np.testing.assert_array_equal(stepper.result().equity, vector.equity)


# --- no ROI on a red entry candle --------------------------------------------------------------
# Bar 1: open 100.4, entry at the tick 100 (below the open); ROI 0.6 % -> 100.6.
FLAT: Bar = (100.0, 101.0, 99.0, 100.0)
AFTER: Bar = (99.5, 100.0, 99.0, 99.6)


@pytest.mark.parametrize(("entry_bar", "roi", "taken"), [
    pytest.param((100.4, 101.2, 99.2, 99.5), 0.006, False, id="red-entry-below-open-roi-above-close"),
    pytest.param((100.4, 101.2, 99.2, 100.9), 0.006, True, id="green-candle"),
    pytest.param((100.0, 101.2, 99.2, 99.5), 0.006, True, id="entry-at-the-open"),
    pytest.param((101.4, 101.6, 100.5, 101.2), 0.001, True, id="roi-price-below-the-close"),
])
def test_red_entry_candle_roi_follows_freqtrade(entry_bar: Bar, roi: float, taken: bool) -> None:
    r = run([FLAT, entry_bar, AFTER, AFTER], el=[0], roi=[(0, roi)])
    assert bool(reasons(r)[0] == "roi" and r.trades.exit_index[0] == 1) is taken


def test_red_entry_candle_roi_option_takes_it() -> None:
    r = run([FLAT, (100.4, 101.2, 99.2, 99.5), AFTER, AFTER], el=[0], roi=[(0, 0.006)],
            roi_on_red_entry_candle=True)
    assert reasons(r) == ["roi"]
    assert (r.trades.exit_index[0], r.trades.exit_price[0]) == (1, 101.0)  # 100.6 on the tick


def test_red_entry_candle_short_mirrored() -> None:
    # short at 99.6 -> 100 (above the open), rising candle (close 100.3), ROI price 99.4 < close
    entry_bar = (99.6, 100.5, 98.8, 100.3)
    rows = [FLAT, entry_bar, (100.3, 100.8, 100.0, 100.4), (100.3, 100.8, 100.0, 100.4)]
    assert reasons(run(rows, es=[0], roi=[(0, 0.006)])) == ["end_of_data"]
    r = run(rows, es=[0], roi=[(0, 0.006)], roi_on_red_entry_candle=True)
    assert reasons(r) == ["roi"]
    assert r.trades.exit_price[0] == 99.0  # 99.4 on the tick


# --- the balance check -------------------------------------------------------------------------
def _two_symbols(balance: float, **cfg: object) -> SimResult:
    o = np.full((4, 2), 100.0)
    el = np.zeros((4, 2), dtype=bool)
    el[0, :] = True
    config = KernelConfig(timeframe="1m", fee=0.01, max_open_positions=3, sizing=Sizing.amount(1000),
                          starting_balance=balance, **cfg)  # type: ignore[arg-type]  # test options as keywords
    return simulate(np.arange(4, dtype=np.int64) * MIN, o, o + 1, o - 1, o, {"entry_long": el}, config, ["A", "B"])


def test_balance_check_two_stakes_fill_two_slots_fees_not_reserved() -> None:
    r = _two_symbols(2000.0)
    assert sorted(r.trades.symbol.tolist()) == [0, 1]
    assert r.trades.fees.tolist() == pytest.approx([10 + 10, 10 + 10])


def test_balance_check_reserve_fees_refuses_the_second_slot() -> None:
    r = _two_symbols(2000.0, reserve_fees=True)   # 2000 - 1010 = 990 < 1000 + 10
    assert r.trades.symbol.tolist() == [0]


def test_balance_check_counts_closed_profit_not_open_fees() -> None:
    # A sells on bar 2 at 90: -100 - 10 - 9 in fees. B's entry on bar 3 finds 1000 - 119 free: refused.
    o = np.array([[100, 100], [100, 100], [90, 100], [90, 100], [90, 100]], dtype=float)
    el = np.zeros(o.shape, dtype=bool)
    el[0, 0] = el[2, 1] = True
    xl = np.zeros(o.shape, dtype=bool)
    xl[1, 0] = True
    config = KernelConfig(timeframe="1m", fee=0.01, max_open_positions=3, sizing=Sizing.amount(1000),
                          starting_balance=1000.0)
    r = simulate(np.arange(5, dtype=np.int64) * MIN, o, o + 1, o - 1, o, {"entry_long": el, "exit_long": xl},
                 config, ["A", "B"])
    assert r.trades.symbol.tolist() == [0]
    one_stake = run([FLAT] * 4, el=[0], fee=0.01, sizing=Sizing.amount(1000), starting_balance=1000.0)
    assert len(one_stake.trades) == 1   # exactly one stake: enters, the fee is not reserved
