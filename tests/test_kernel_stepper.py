"""Both drivers agree, and no entry depends on data after its signal bar."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from engine.kernel import KernelConfig, Sizing, Stepper, simulate
from engine.kernel.trades import Trades

MIN = 60_000


def market(n: int, n_sym: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.006, (n, n_sym)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * (1 + rng.normal(0, 0.001, (n, n_sym)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, (n, n_sym))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, (n, n_sym))))
    time = np.arange(n, dtype=np.int64) * MIN
    return time, *(np.round(a, 2) for a in (open_, high, low, close))


def signals(n: int, n_sym: int, seed: int, p: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.random((n, n_sym)) < p
            for name in ("entry_long", "exit_long", "entry_short", "exit_short")}


CONFIG = KernelConfig(timeframe="1m", fee=0.001, slippage_bps=2, stoploss=-0.02,
                      trailing=(0.01, 0.005), roi=((0, 0.03), (20, 0.01), (60, 0.0)),
                      max_hold_minutes=90, sizing=Sizing.percent(40), max_open_positions=2,
                      price_tick=0.01)


def assert_same_trades(a: Trades, b: Trades) -> None:
    assert len(a) == len(b)
    for f in fields(Trades):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


@pytest.mark.parametrize(("n", "p"), [pytest.param(3000, 0.03, id="sparse-signals"),
                                      pytest.param(4000, 0.4, id="dense-signals-grow-buffer")])
def test_stepper_bar_by_bar_gives_the_trades_of_simulate(n: int, p: float) -> None:
    n_sym = 3
    time, o, h, lo, c = market(n, n_sym, seed=1)
    o[:100, 2] = h[:100, 2] = lo[:100, 2] = c[:100, 2] = np.nan   # listed later
    sig = signals(n, n_sym, seed=2, p=p)
    symbols = ["A", "B", "C"]
    vector = simulate(time, o, h, lo, c, sig, CONFIG, symbols)

    stepper = Stepper(CONFIG, symbols)
    none = np.zeros(n_sym, dtype=bool)
    for i in range(n):
        prev: dict[str, Any] = {k: (v[i - 1] if i else none) for k, v in sig.items()}
        stepper.step(int(time[i]), o[i], h[i], lo[i], c[i], last=i == n - 1, **prev)
    stepper.finish()
    event = stepper.result()

    assert len(vector.trades) > (500 if p > 0.1 else 20)
    assert_same_trades(vector.trades, event.trades)
    np.testing.assert_array_equal(vector.equity, event.equity)


def test_stepper_reports_trades_as_they_close() -> None:
    stepper = Stepper(KernelConfig(timeframe="1m", fee=0.0, stoploss=-0.1), ["X"])
    assert len(stepper.step(0, [100], [101], [99], [100])) == 0
    assert len(stepper.step(MIN, [100], [101], [99], [100], entry_long=[True])) == 0
    assert stepper.position("X") == {"side": 1.0, "entry_price": 100.0, "stop": 90.0}
    closed = stepper.step(2 * MIN, [95], [96], [85], [88])
    assert len(closed) == 1 and closed.exit_price[0] == 90.0
    assert stepper.open_positions == 0 and stepper.position("X") is None


def test_stepper_rejects_bars_out_of_order() -> None:
    stepper = Stepper(KernelConfig(timeframe="1m"), ["X"])
    stepper.step(MIN, [1], [1], [1], [1])
    with pytest.raises(ValueError, match="is not after the previous bar"):
        stepper.step(MIN, [1], [1], [1], [1])


Prices = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _perturbed_after(s: int, arrays: Prices, sig: dict[str, np.ndarray],
                     rng: np.random.Generator) -> tuple[Prices, dict[str, np.ndarray]]:
    """Everything after signal bar s changes, except the fill bar's open price."""
    o, h, lo, c = (a.copy() for a in arrays)

    def noise(a: np.ndarray) -> np.ndarray:
        return a * rng.uniform(0.5, 1.5, a.shape)

    h[s + 1:], lo[s + 1:], c[s + 1:] = noise(h[s + 1:]), noise(lo[s + 1:]), noise(c[s + 1:])
    o[s + 2:] = noise(o[s + 2:])
    h, lo = np.maximum.reduce([h, lo, o, c]), np.minimum.reduce([h, lo, o, c])
    psig = {key: v.copy() for key, v in sig.items()}
    for v in psig.values():
        v[s + 1:] = rng.random(v[s + 1:].shape) < 0.5
    return (o, h, lo, c), psig


@pytest.mark.parametrize(("n_sym", "fields_checked"), [
    pytest.param(1, ("side", "entry_index", "entry_time", "entry_price", "stake", "amount"),
                 id="one-symbol"),
    # In a portfolio, freqtrade's rule lets an exit anywhere in the fill bar free cash for
    # an entry at that bar's open (docs/backtest.md), so only the stake may differ there.
    pytest.param(3, ("symbol", "side", "entry_index", "entry_time", "entry_price"),
                 id="portfolio"),
])
def test_kernel_entries_use_no_data_after_their_signal_bar(n_sym: int,
                                                           fields_checked: tuple[str, ...]) -> None:
    n = 2500
    time, o, h, lo, c = market(n, n_sym, seed=3)
    prices = (o, h, lo, c)
    sig = signals(n, n_sym, seed=4, p=0.03)
    config = KernelConfig(timeframe="1m", fee=0.001, stoploss=-0.02, trailing=(0.01, 0.005),
                          roi=((0, 0.03),), sizing=Sizing.percent(30),
                          max_open_positions=n_sym, price_tick=0.01)
    base = simulate(time, o, h, lo, c, sig, config).trades
    rng = np.random.default_rng(5)
    for k in rng.choice(len(base), size=min(10, len(base)), replace=False):
        s = int(base.entry_index[k]) - 1          # the signal bar
        (po, ph, plo, pc), psig = _perturbed_after(s, prices, sig, rng)
        got = simulate(time, po, ph, plo, pc, psig, config).trades
        # every trade entered up to this one is entered the same way
        before = base.entry_index <= base.entry_index[k]
        mine = got.entry_index <= base.entry_index[k]
        for name in fields_checked:
            np.testing.assert_array_equal(getattr(got, name)[mine], getattr(base, name)[before],
                                          err_msg=f"{name} changed for trade {k}")


@pytest.mark.parametrize("side", [pytest.param("short", id="short"), pytest.param("long", id="long")])
def test_stepper_and_simulate_mark_one_position_to_the_same_bits(side: str) -> None:
    """simulate rides the quiet bars of one position in a tight scan (`_scan.ride`), the
    Stepper marks each bar in full: both give a short's (and a long's) equity bit for bit."""
    n = 600
    time, o, h, lo, c = market(n, 1, seed=7)
    entry = np.zeros((n, 1), dtype=bool)
    entry[[5, 300], 0] = True
    sig = {f"entry_{side}": entry, f"exit_{side}": np.roll(entry, 150, axis=0)}
    config = KernelConfig(timeframe="1m", fee=0.001, stoploss=-0.5, sizing=Sizing.percent(33.3),
                          starting_balance=10_000.37)
    vector = simulate(time, o, h, lo, c, sig, config, ["A"])
    stepper = Stepper(config, ["A"])
    none = np.zeros(1, dtype=bool)
    for i in range(n):
        prev: dict[str, Any] = {k: (v[i - 1] if i else none) for k, v in sig.items()}
        stepper.step(int(time[i]), o[i], h[i], lo[i], c[i], last=i == n - 1, **prev)
    stepper.finish()
    assert len(vector.trades) == 2
    np.testing.assert_array_equal(vector.equity, stepper.result().equity)
