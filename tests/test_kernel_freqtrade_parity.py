"""The kernel yields freqtrade's trades on freqtrade's own test candles.

Reference trades were produced by freqtrade's backtester (see
tests/fixtures/freqtrade/README.md); here the same candles go through
engine.data.gaps.fill_gaps, TA-Lib's RSI and `simulate`, and every trade must
match: same entry and exit times, prices within one tick, profit ratios
within 2e-5, same exit reasons.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
import pytest
import talib
from pyarrow import feather

from engine.data.candles import Candles
from engine.data.gaps import fill_gaps
from engine.kernel import EXIT_REASONS, KernelConfig, SimResult, Sizing, simulate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "freqtrade-testdata"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "freqtrade"
HOUR_MS = 3_600_000
REASONS = {"exit_signal": "exit_signal", "stop_loss": "stop_loss", "roi": "roi",
           "trailing_stop_loss": "trailing_stop", "force_exit": "end_of_data"}

# freqtrade strategy -> (kernel risk rules, signal builder name)
STRATEGIES = {
    "RsiStrategy": ({"stoploss": -0.10}, "rsi"),
    "RsiRoiTrailing": ({"stoploss": -0.05, "trailing": (0.02, 0.01),
                        "roi": [(0, 0.04), (30, 0.02), (60, 0.01), (120, 0.0)]}, "rsi"),
    "RsiInformative1h": ({"stoploss": -0.10}, "rsi_1h_filter"),
    "RsiCrossTimeout": ({"stoploss": -0.10}, "rsi7_cross_45_60"),
    "RsiRoiRedCandle": ({"stoploss": -0.10, "roi": [(0, 0.002)]}, "rsi_40_60"),
    "RsiWide": ({"stoploss": -0.10}, "rsi_40_60"),
}
SUITES = ("rsi", "roi_trailing", "informative_1h", "portfolio", "exit_timeout", "red_entry_candle", "balance")
# the suite that exercises each freqtrade rule, and the kernel option that turns the rule off
RULE_SUITES = {
    "exit_timeout": {"exit_timeout_minutes": None},
    "red_entry_candle": {"roi_on_red_entry_candle": True},
    "balance": {"reserve_fees": True},
}


def _require_data() -> None:
    if not DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared market data missing at {DATA}; CI must provide ../shared/data")
        pytest.skip(f"shared market data not found at {DATA} (checkout without ../shared)")


@functools.cache
def _candles(pair: str, timeframe: str) -> Candles:
    table = feather.read_table(DATA / f"{pair.replace('/', '_')}-{timeframe}.feather")
    df = table.to_pandas()
    time = df["date"].dt.as_unit("ms").astype("int64").to_numpy()
    raw = Candles.from_arrays(pair, timeframe, time, df["open"].to_numpy(), df["high"].to_numpy(),
                              df["low"].to_numpy(), df["close"].to_numpy(),
                              df["volume"].to_numpy())
    filled, _ = fill_gaps(raw, "fill")
    return filled


def _hourly_rsi_on_5m(c: Candles) -> np.ndarray:
    """RSI(14) of 1h candles built from `c`, as seen at each 5m bar's close."""
    hour = c.time // HOUR_MS
    starts = np.flatnonzero(np.r_[True, hour[1:] != hour[:-1]])
    ends = np.r_[starts[1:], len(hour)] - 1
    rsi_h = talib.RSI(c.close[ends], timeperiod=14)
    # a 1h candle is visible from the 5m bar that closes when it closes
    visible_from = (hour[starts] + 1) * HOUR_MS - (c.time[1] - c.time[0])
    k = np.searchsorted(visible_from, c.time, side="right") - 1
    return np.where(k >= 0, rsi_h[np.maximum(k, 0)], np.nan)


def _crossed_above(x: np.ndarray, level: float) -> np.ndarray:
    prev = np.r_[np.nan, x[:-1]]
    return (x > level) & (prev <= level)


def _signals(c: Candles, kind: str) -> tuple[np.ndarray, np.ndarray]:
    if kind == "rsi7_cross_45_60":
        rsi7 = talib.RSI(c.close, timeperiod=7)
        return _crossed_above(rsi7, 45), _crossed_above(rsi7, 60)
    rsi = talib.RSI(c.close, timeperiod=14)
    if kind == "rsi_40_60":
        return rsi < 40, rsi > 60
    entry = rsi < 30
    if kind == "rsi_1h_filter":
        entry &= _hourly_rsi_on_5m(c) > 40
    return entry, rsi > 70


def _on_clock(pairs: list[str], timeframe: str) -> tuple[np.ndarray, ...]:
    """Prices and signals of several pairs on one shared clock (NaN outside a pair's data)."""
    frames = [_candles(p, timeframe) for p in pairs]
    clock = np.unique(np.concatenate([f.time for f in frames]))
    shape = (len(clock), len(pairs))
    o, h, lo, c = (np.full(shape, np.nan) for _ in range(4))
    return clock, o, h, lo, c, frames


def _load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _cases() -> list[object]:
    cases = []
    for name in SUITES:
        path = FIXTURES / f"{name}.json"
        if not path.exists():
            continue
        for k, run in enumerate(_load(name)["runs"]):
            label = "+".join(run["pairs"]) if len(run["pairs"]) < 3 else f"{len(run['pairs'])}pairs"
            cases.append(pytest.param(name, k, id=f"{name}-{label}-{run['timeframe']}"))
    return cases


def _iso_ms(text: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _run(suite: str, run_index: int, **options: object) -> tuple[SimResult, list[dict], dict[str, float],
                                                                 list[Candles]]:
    """(our result, freqtrade's trades in our order, tick per pair, the candles).

    The kernel runs with its defaults, told only what freqtrade's config says
    (fee, slots, wallet, unfilledtimeout.exit); `options` override kernel options.
    """
    fixture = _load(suite)
    run = fixture["runs"][run_index]
    pairs, timeframe, ticks = run["pairs"], run["timeframe"], run["price_ticks"]
    rules, kind = STRATEGIES[fixture["strategy"]]
    clock, o, h, lo, c, frames = _on_clock(pairs, timeframe)
    el = np.zeros(o.shape, dtype=bool)
    xl = np.zeros(o.shape, dtype=bool)
    for j, f in enumerate(frames):
        rows = np.searchsorted(clock, f.time)
        o[rows, j], h[rows, j], lo[rows, j], c[rows, j] = f.open, f.high, f.low, f.close
        el[rows, j], xl[rows, j] = _signals(f, kind)
    timeout = fixture.get("unfilledtimeout", {}).get("exit")  # absent: freqtrade never cancels
    settings: dict[str, object] = {"exit_timeout_minutes": None if timeout is None else float(timeout),
                                   **rules, **options}
    config = KernelConfig(timeframe=timeframe, fee=fixture["fee"],
                          max_open_positions=run["max_open_trades"], sizing=Sizing.amount(1.0),
                          starting_balance=run.get("dry_run_wallet", 1e6),
                          **settings)  # type: ignore[arg-type]  # the options are plain objects from JSON
    result = simulate(clock, o, h, lo, c, {"entry_long": el, "exit_long": xl}, config, pairs,
                      price_ticks=[ticks[p] for p in pairs])
    ref = sorted(run["trades"], key=lambda t: (_iso_ms(t["open_date"]), pairs.index(t["pair"])))
    return result, ref, ticks, frames


def _force_exit_unfillable(f: Candles, tick: float) -> bool:
    """freqtrade's force-exit order (a limit at the last open, on the tick) cannot fill.

    Its backtester then leaves the trade open and out of its results. This only
    happens when the last candle's prices are one ulp off the tick grid.
    """
    price = round(float(f.open[-1]) / tick) / round(1 / tick)
    return not f.low[-1] <= price <= f.high[-1]


@pytest.mark.parametrize(("suite", "run_index"), _cases())
def test_kernel_matches_freqtrade_trades(suite: str, run_index: int) -> None:
    _require_data()
    result, ref, ticks, frames = _run(suite, run_index)
    t = result.trades
    keep = []
    for k in range(len(t)):
        sym = int(t.symbol[k])
        if EXIT_REASONS[t.exit_reason[k]] == "end_of_data" and _force_exit_unfillable(
                frames[sym], ticks[result.symbols[sym]]):
            continue  # freqtrade leaves this trade out (see _force_exit_unfillable)
        keep.append(k)

    assert len(keep) == len(ref), f"{len(keep)} trades, freqtrade has {len(ref)}"
    for k, r in zip(keep, ref, strict=True):
        where = f"trade {k} ({r['pair']} {r['open_date']})"
        tick = ticks[r["pair"]]
        assert result.symbols[t.symbol[k]] == r["pair"], where
        assert t.entry_time[k] == _iso_ms(r["open_date"]), where
        assert t.exit_time[k] == _iso_ms(r["close_date"]), where
        assert EXIT_REASONS[t.exit_reason[k]] == REASONS[r["exit_reason"]], where
        assert abs(t.entry_price[k] - r["open_rate"]) <= tick * 1.000001, where
        assert abs(t.exit_price[k] - r["close_rate"]) <= tick * 1.000001, where
        assert abs(t.profit_ratio[k] - r["profit_ratio"]) <= 2e-5, where


def _trade_keys(result: SimResult) -> set[tuple[object, ...]]:
    t = result.trades
    return set(zip(t.symbol.tolist(), t.entry_time.tolist(), t.exit_time.tolist(), t.exit_reason.tolist(),
                   strict=True))


@pytest.mark.parametrize(("suite", "option"), [pytest.param(s, o, id=s) for s, o in RULE_SUITES.items()])
def test_kernel_parity_rule_fixture_fails_without_the_rule(suite: str, option: dict[str, object]) -> None:
    """Each rule's fixture is one the rule decides: with the rule turned off, trades change."""
    _require_data()
    with_rule, _, _, _ = _run(suite, 0)
    without, _, _, _ = _run(suite, 0, **option)
    assert len(_trade_keys(with_rule) ^ _trade_keys(without)) >= 2


def test_kernel_parity_fixtures_cover_every_pair_and_strategy() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    assert set(SUITES) <= names
    rsi_pairs = {tuple(r["pairs"]) for r in _load("rsi")["runs"]}
    assert {len(r["pairs"]) for r in _load("portfolio")["runs"]} == {10}
    assert ("UNITTEST/BTC",) in rsi_pairs and ("BTC/USDT",) in rsi_pairs
    assert sum(len(r["trades"]) for r in _load("rsi")["runs"]) > 100
