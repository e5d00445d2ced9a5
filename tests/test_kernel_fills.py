"""Costs and prices: fees, slippage, tick rounding, sizing, the shared account."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from _bars import MIN
from _bars import run_bars as run

from engine.kernel import KernelConfig, SimResult, Sizing, simulate
from engine.kernel._step import tick_down, tick_round, tick_up

FLAT = (100.0, 101.0, 99.0, 100.0)
UP = (110.0, 111.0, 109.0, 110.0)


def test_fees_are_charged_on_entry_and_exit_notional() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.001, sizing=Sizing.amount(1000),
            starting_balance=10_000)
    t = r.trades
    amount = 1000 / 100
    assert t.amount[0] == pytest.approx(amount)
    assert t.fees[0] == pytest.approx(1000 * 0.001 + amount * 110 * 0.001)
    assert t.profit_abs[0] == pytest.approx(amount * 110 * 0.999 - 1000 * 1.001)
    assert t.profit_ratio[0] == pytest.approx(110 * 0.999 / (100 * 1.001) - 1)
    assert r.equity[-1] == pytest.approx(10_000 + t.profit_abs[0])


def test_short_fees_follow_freqtrade_profit_ratio() -> None:
    r = run([FLAT, FLAT, (90, 91, 89, 90), FLAT], es=[0], xs=[1], fee=0.001,
            sizing=Sizing.amount(1000))
    t = r.trades
    assert t.profit_ratio[0] == pytest.approx(1 - 90 * 1.001 / (100 * 0.999))
    assert t.profit_abs[0] == pytest.approx(10 * 100 * 0.999 - 10 * 90 * 1.001)


def test_slippage_is_adverse_on_entry_and_exit() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.0, slippage_bps=10)
    assert r.trades.entry_price[0] == pytest.approx(100 * 1.001)
    assert r.trades.exit_price[0] == pytest.approx(110 * 0.999)
    r = run([FLAT, FLAT, UP, UP], es=[0], xs=[1], fee=0.0, slippage_bps=10)
    assert r.trades.entry_price[0] == pytest.approx(100 * 0.999)
    assert r.trades.exit_price[0] == pytest.approx(110 * 1.001)


def test_slippage_applies_to_stop_fills() -> None:
    r = run([FLAT, FLAT, (95, 96, 80, 85), FLAT], el=[0], fee=0.0, slippage_bps=100,
            stoploss=-0.10)
    entry = 100 * 1.01
    assert r.trades.exit_price[0] == pytest.approx(entry * 0.9 * 0.99)


@pytest.mark.parametrize(("x", "up", "down", "near"), [
    pytest.param(0.000111106, 0.00011111, 0.0001111, 0.00011111, id="between-ticks"),
    pytest.param(0.00011111, 0.00011111, 0.00011111, 0.00011111, id="on-tick"),
    pytest.param(float(np.nextafter(0.00011111, 0)), 0.00011111, 0.0001111, 0.00011111,
                 id="one-ulp-below"),
    pytest.param(float(np.nextafter(0.00011111, 1)), 0.00011112, 0.00011111, 0.00011111,
                 id="one-ulp-above"),
])
def test_tick_rounding_uses_decimal_ticks(x: float, up: float, down: float, near: float) -> None:
    inv = 1e8
    assert tick_up(x, 1e-8, inv) == up
    assert tick_down(x, 1e-8, inv) == down
    assert tick_round(x, 1e-8, inv) == near


def test_stop_price_rounds_away_from_the_position() -> None:
    rows = [(0.00012345, 0.0001235, 0.0001234, 0.00012345)] * 2 + \
        [(0.0001200, 0.0001201, 0.0001100, 0.0001150)] + [(0.00012345,) * 4]
    r = run(rows, el=[0], fee=0.0, stoploss=-0.10, price_tick=1e-8)
    assert r.trades.exit_price[0] == 0.00011111           # 0.000111105 rounded up
    rows[2] = (0.00013, 0.00014, 0.000129, 0.000135)
    r = run(rows, es=[0], fee=0.0, stoploss=-0.10, price_tick=1e-8)
    assert r.trades.exit_price[0] == 0.00013579           # 0.000135795 rounded down


def test_sizing_percent_of_equity() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.0, sizing=Sizing.percent(10))
    assert r.trades.stake[0] == pytest.approx(1000)


def test_sizing_fixed_amount() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.0, sizing=Sizing.amount(250))
    assert r.trades.stake[0] == pytest.approx(250)
    assert r.trades.amount[0] == pytest.approx(2.5)


def test_sizing_risk_loses_the_fraction_at_the_stop() -> None:
    rows = [FLAT, FLAT, (95, 96, 80, 85), FLAT]
    r = run(rows, el=[0], fee=0.001, stoploss=-0.05, sizing=Sizing.risk(0.01))
    t = r.trades
    assert t.stake[0] == pytest.approx(10_000 * 0.01 / (0.05 + 0.001 * (2 - 0.05)))
    assert t.profit_abs[0] == pytest.approx(-100.0)


def test_sizing_fixed_amount_that_does_not_fit_is_skipped() -> None:
    r = run([FLAT] * 4, el=[0], fee=0.0, sizing=Sizing.amount(20_000))
    assert len(r.trades) == 0


def test_sizing_percent_is_capped_at_the_free_balance_fee_not_reserved() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.001, sizing=Sizing.percent(100))
    assert r.trades.stake[0] == 10_000.0  # freqtrade's wallet: the entry fee is not reserved


def test_sizing_percent_with_reserve_fees_is_capped_at_the_balance_less_the_fee() -> None:
    r = run([FLAT, FLAT, UP, UP], el=[0], xl=[1], fee=0.001, sizing=Sizing.percent(100),
            reserve_fees=True)
    assert r.trades.stake[0] == pytest.approx(10_000 / 1.001)


def test_sizing_percent_compounds_realised_profit() -> None:
    rows = [FLAT, FLAT, UP, UP, FLAT, FLAT]
    r = run(rows, el=[0, 3], xl=[1], fee=0.0, sizing=Sizing.percent(50))
    assert r.trades.stake[1] == pytest.approx((10_000 + 500) * 0.5)


def test_min_stake_skips_small_entries() -> None:
    assert len(run([FLAT] * 4, el=[0], sizing=Sizing.amount(5), min_stake=10).trades) == 0


def _portfolio(n_sym: int, entry_rows: Sequence[int], **cfg: object) -> SimResult:
    n = 6
    o = np.full((n, n_sym), 100.0)
    h, lo, c = o + 1, o - 1, o.copy()
    el = np.zeros((n, n_sym), dtype=bool)
    el[list(entry_rows), :] = True
    config = KernelConfig(timeframe="1m", fee=0.0, **cfg)  # type: ignore[arg-type]
    return simulate(np.arange(n, dtype=np.int64) * MIN, o, h, lo, c, {"entry_long": el}, config,
                    [f"S{k}" for k in range(n_sym)])


def test_portfolio_max_open_positions_fills_in_column_order() -> None:
    r = _portfolio(3, [0], max_open_positions=2, sizing=Sizing.percent(10))
    assert sorted(r.trades.symbol.tolist()) == [0, 1]


def test_portfolio_never_spends_more_than_the_free_balance() -> None:
    r = _portfolio(3, [0], max_open_positions=3, sizing=Sizing.percent(60))
    stakes = dict(zip(r.trades.symbol.tolist(), r.trades.stake.tolist(), strict=True))
    assert stakes[0] == pytest.approx(6000) and stakes[1] == pytest.approx(4000)
    assert 2 not in stakes  # nothing left: a zero stake is no trade


def test_portfolio_one_position_per_symbol() -> None:
    r = _portfolio(1, [0, 1, 2, 3], max_open_positions=3, sizing=Sizing.percent(10))
    assert len(r.trades) == 1


def test_portfolio_equity_marks_open_positions_at_the_close() -> None:
    n = 4
    o = np.array([[100, 50], [100, 50], [110, 40], [110, 40]], dtype=float)
    el = np.zeros((n, 2), dtype=bool)
    el[0, :] = True
    config = KernelConfig(timeframe="1m", fee=0.0, max_open_positions=2,
                          sizing=Sizing.amount(1000))
    r = simulate(np.arange(n, dtype=np.int64) * MIN, o, o + 1, o - 1, o, {"entry_long": el},
                 config, ["A", "B"])
    assert r.equity[1] == pytest.approx(10_000)
    assert r.equity[2] == pytest.approx(10_000 + 10 * 10 - 20 * 10)


def test_portfolio_symbol_without_candles_is_skipped_until_listed() -> None:
    o = np.array([[100, np.nan], [100, np.nan], [100, 50], [100, 50], [100, 50]], dtype=float)
    el = np.ones(o.shape, dtype=bool)
    config = KernelConfig(timeframe="1m", fee=0.0, max_open_positions=2,
                          sizing=Sizing.amount(100))
    r = simulate(np.arange(5, dtype=np.int64) * MIN, o, o + 1, o - 1, o, {"entry_long": el},
                 config, ["A", "B"])
    entries = dict(zip(r.trades.symbol.tolist(), r.trades.entry_index.tolist(), strict=True))
    assert entries == {0: 1, 1: 2}
