"""History and window evaluators, multi-timeframe alignment and the no-look-ahead proof."""
from __future__ import annotations

from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from _market import random_candles, strategy_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.compile import compile_strategy
from compiler.evaluate import Evaluator, WindowEvaluator
from compiler.resample import align, close_times, resample
from compiler.validate import load_strategy, strategy_from_text
from engine.data.candles import Candles

EXAMPLES = sorted(Path(__file__).resolve().parents[1].joinpath("strategies").glob("*.yaml"))


def _signals(text: str, candles: Candles) -> dict[str, np.ndarray]:
    return Evaluator(candles).signals(compile_strategy(strategy_from_text(text)))


# --- resampling and alignment -------------------------------------------------------------

def test_resample_aggregates_ohlcv_on_epoch_boundaries() -> None:
    c = random_candles(36, "5m", seed=1)
    h = resample(c, "1h")
    assert len(h) == 3
    assert h.time[1] == c.time[12]
    assert h.open[1] == c.open[12] and h.close[1] == c.close[23]
    assert h.high[1] == c.high[12:24].max() and h.low[1] == c.low[12:24].min()
    assert h.volume[1] == pytest.approx(c.volume[12:24].sum())


def test_resample_drops_the_open_last_candle_and_keeps_a_partial_first_one() -> None:
    c = random_candles(40, "5m", seed=2).take(3, 40)   # 00:15 .. 03:20: hours 0 and 3 are partial
    h = resample(c, "1h")
    assert list(h.time) == [c.time[0] - 15 * 60_000, c.time[9], c.time[21]]  # 00:00, 01:00, 02:00
    assert h.open[0] == c.open[0] and h.close[0] == c.close[8]              # 00:15..01:00, closed


def test_1h_term_on_5m_never_sees_an_open_candle() -> None:
    c = random_candles(48, "5m", seed=3)
    h = resample(c, "1h")
    aligned = align(h.close, close_times(h), close_times(c))
    # bars 0..10 close before the first hour has closed: nothing is visible yet
    assert np.isnan(aligned[:11]).all()
    # bar 11 closes exactly when the first 1h candle closes: its close is visible, and equals bar 11's close
    assert aligned[11] == c.close[11]
    # during the second hour the first hour's close is what is seen
    assert (aligned[12:23] == c.close[11]).all()


def test_rsi_on_15m_never_sees_an_open_candle() -> None:
    c = random_candles(600, "5m", seed=4)
    text = strategy_yaml("rsi_14@15m > 50")
    full = _signals(text, c)["entry_long"]
    for cut in range(300, 600, 7):
        part = _signals(text, c.take(0, cut))["entry_long"]
        assert (part == full[:cut]).all()


# --- random strategies --------------------------------------------------------------------

_SERIES = ["close", "open", "hl2", "hlc3", "rsi_{p}", "ema_{p}", "sma_{p}", "bbands_{p}_2_2.upper",
           "bbands_{p}_2_2.lower", "atr_{p} * 3 + close", "close[{q}]", "ema(close - open, {p})",
           "sma(volume, {p})", "macd_12_26_9.hist * 100", "stoch_5_3_0_3_0.slowk", "adx_{p}",
           "willr_{p}", "cci_{p}", "mom_{p}"]
_THRESHOLD = {"rsi": (20, 80), "stoch": (10, 90), "adx": (10, 40), "willr": (-80, -20), "cci": (-100, 100),
              "mom": (-1, 1), "macd": (-5, 5)}


@st.composite
def _term(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(_SERIES))
    text = template.format(p=draw(st.integers(2, 12)), q=draw(st.integers(1, 3)))
    tf = draw(st.sampled_from(["", "", "@15m", "@30m", "@1h"]))
    return f"({text}){tf}" if tf and " " in text else text + tf


@st.composite
def _comparison(draw: st.DrawFn) -> str:
    left = draw(_term())
    head = left.split("_")[0].split("(")[0]
    if head in _THRESHOLD and draw(st.booleans()):
        lo, hi = _THRESHOLD[head]
        right = str(draw(st.integers(lo, hi)))
    else:
        right = draw(_term())
    op = draw(st.sampled_from(["<", ">", "<=", ">=", "crosses_above", "crosses_below"]))
    return f"{left} {op} {right}"


@st.composite
def _condition(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(_comparison())
    a, b = draw(_condition(depth + 1)), draw(_condition(depth + 1))
    joined = f"({a}) {draw(st.sampled_from(['and', 'or']))} ({b})"
    return f"not ({joined})" if draw(st.integers(0, 4)) == 0 else joined


_DATA = random_candles(1500, "5m", seed=11)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=_condition(), exit=_condition(), cut=st.integers(50, 1499))
def test_signals_on_truncated_data_equal_full_signals_up_to_the_cut(entry: str, exit: str, cut: int) -> None:
    text = strategy_yaml(entry, exit)
    full = _signals(text, _DATA)
    part = _signals(text, _DATA.take(0, cut))
    for name in full:
        assert (part[name] == full[name][:cut]).all(), (name, entry, exit, cut)


def _window_matches_history(compiled, candles: Candles, bars: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    history = Evaluator(candles).signals(compiled)
    window = compiled.plan.window or len(candles)
    evaluator = WindowEvaluator(compiled)
    for t in bars:
        start = max(0, t + 1 - window)
        got = evaluator.evaluate(candles.take(int(start), int(t) + 1))
        for name, mask in history.items():
            assert got[name] == bool(mask[t]), (name, int(t))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=_condition(), seed=st.integers(0, 2**16))
def test_window_form_equals_history_form_on_random_strategies(entry: str, seed: int) -> None:
    compiled = compile_strategy(strategy_from_text(strategy_yaml(entry)))
    window = compiled.plan.window or 0
    candles = _DATA if window < 700 else random_candles(window + 400, "5m", seed=5)
    rng = np.random.default_rng(seed)
    first = min(len(candles) - 1, window)
    bars = np.unique(np.concatenate((rng.integers(first, len(candles), 12), [len(candles) - 1])))
    _window_matches_history(compiled, candles, bars)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_window_form_equals_history_form_on_examples(path: Path) -> None:
    strategy = load_strategy(path)
    compiled = compile_strategy(strategy)
    window = compiled.plan.window or 2000
    candles = random_candles(window + 600, strategy.timeframe, seed=7)
    rng = np.random.default_rng(0)
    bars = np.unique(np.concatenate((rng.integers(window, len(candles), 25), [len(candles) - 1])))
    _window_matches_history(compiled, candles, bars)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_never_look_ahead(path: Path) -> None:
    strategy = load_strategy(path)
    compiled = compile_strategy(strategy)
    candles = random_candles(max(3000, compiled.plan.warmup + 1500), strategy.timeframe, seed=8)
    full = Evaluator(candles).signals(compiled)
    rng = np.random.default_rng(1)
    for cut in rng.integers(compiled.plan.warmup, len(candles), 15):
        part = Evaluator(candles.take(0, int(cut))).signals(compiled)
        for name in full:
            assert (part[name] == full[name][: int(cut)]).all(), (name, int(cut))


# --- window buffer and parameter cache ----------------------------------------------------

def test_window_evaluator_push_matches_history_at_every_bar() -> None:
    compiled = compile_strategy(strategy_from_text(strategy_yaml("ema_5 crosses_above ema_8@15m", "rsi_6 > 60")))
    candles = random_candles(900, "5m", seed=9)
    history = Evaluator(candles).signals(compiled)
    evaluator = WindowEvaluator(compiled)
    for t in range(len(candles)):
        got = evaluator.push(int(candles.time[t]), candles.open[t], candles.high[t], candles.low[t],
                             candles.close[t], candles.volume[t])
        assert got == {k: bool(v[t]) for k, v in history.items()}, t


def test_threshold_change_reuses_the_indicator_and_recomputes_only_the_comparison() -> None:
    strategy = strategy_from_text(strategy_yaml(
        "rsi_14 < $buy and close > ema_50@1h", params="{buy: {default: 30, int: [10, 40]}}"))
    evaluator = Evaluator(random_candles(3000, "5m", seed=10))
    evaluator.signals(compile_strategy(strategy, {"buy": 30}))
    before = evaluator.stats.misses
    evaluator.signals(compile_strategy(strategy, {"buy": 25}))
    # new: the `rsi < 25` mask and the `all` mask over it; everything else comes from the cache
    assert evaluator.stats.misses - before == 2


def test_indicator_period_change_recomputes_only_that_indicator() -> None:
    strategy = strategy_from_text(strategy_yaml(
        "rsi(close, $n) < 30 and close > ema_50@1h", params="{n: {default: 14, int: [5, 30]}}"))
    evaluator = Evaluator(random_candles(3000, "5m", seed=10))
    evaluator.signals(compile_strategy(strategy, {"n": 14}))
    before = evaluator.stats.misses
    evaluator.signals(compile_strategy(strategy, {"n": 9}))
    # new: the RSI call, its output, the comparison, the `all` mask and where the RSI is defined
    assert evaluator.stats.misses - before == 5


def test_not_of_an_undefined_comparison_does_not_fire_during_warm_up() -> None:
    c = random_candles(800, "5m", seed=12)
    sig = _signals(strategy_yaml("not (sma_500 > close)"), c)["entry_long"]
    assert not sig[:499].any()        # sma_500 has no value before bar 499
    assert sig[499:].any()


def test_not_equal_with_an_undefined_side_is_false() -> None:
    c = random_candles(300, "5m", seed=13)
    sig = _signals(strategy_yaml("rsi_14 != 50"), c)["entry_long"]
    assert not sig[:14].any() and sig[14:].all()


def test_weekly_candles_start_on_monday() -> None:
    from datetime import datetime
    c = random_candles(24 * 30, "1h", seed=14)  # from Monday 2024-01-01
    w = resample(c, "1w")
    days = {datetime.fromtimestamp(t / 1000, tz=UTC).strftime("%A %H:%M") for t in w.time}
    assert days == {"Monday 00:00"} and w.time[0] == c.time[0]
    assert w.close[0] == c.close[24 * 7 - 1]
