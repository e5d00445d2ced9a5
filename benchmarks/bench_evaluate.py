"""Benchmark of the compiler's evaluators (issue 3, item 7); prints one JSON document.

    python benchmarks/bench_evaluate.py [--runs 5] [--pushes 200] [--variations 100]

Over one year of synthetic 1m candles (525,600, `synth_candles`, seed 1):
1. history form (`_history`): compile + `Evaluator(candles).signals(compiled)` of
   the two strategies in benchmarks/strategies/, a FRESH Evaluator per run so no
   cache carries over; median of `--runs`.
2. the floor (`_floor_*`), measured in the same run: the same TA-Lib functions
   called directly on the numpy arrays, the minimal numpy to resample to 1h
   (bucket starts, last close per bucket), align by close time (np.searchsorted)
   and compare. Its signals must equal the engine's (checked).
3. window form (`_window`): `WindowEvaluator.push` cost per new bar, median of
   `--pushes` pushes once the buffer holds `plan.window` bars; each pushed
   bar's signals are checked against the history form.
4. parameter cache (`_param_cache`): `--variations` threshold variations of the
   RSI/Bollinger/volume strategy (compile + evaluate each) through ONE Evaluator vs a
   fresh Evaluator each; median of `--cache-rounds` totals; the hit rate counts
   `Evaluator.stats` of the shared evaluator over the 100 variations.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import talib
from _common import BARS, SEED, STRATEGIES, candles, emit, log, machine, repeat, summary

from compiler.compile import SIGNALS, compile_strategy
from compiler.evaluate import Evaluator, WindowEvaluator
from compiler.validate import load_strategy

EMA_CROSS = STRATEGIES / "ema_cross_1h.yaml"
RSI_BB_VOL = STRATEGIES / "rsi_bb_volume.yaml"
_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000


# --- the floor: TA-Lib on the arrays, minimal numpy ------------------------------------

def _cross_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    b_now = b[1:] if isinstance(b, np.ndarray) else b
    b_prev = b[:-1] if isinstance(b, np.ndarray) else b
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] > b_now) & (a[:-1] <= b_prev)
    return out


def _cross_below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out


def _hourly_close(time_ms: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close and close time of each complete 1h candle (UTC-anchored buckets)."""
    bucket = time_ms // _HOUR_MS
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.concatenate((starts[1:], [len(time_ms)]))
    open_1h = bucket[starts] * _HOUR_MS
    keep = np.ones(len(starts), dtype=bool)
    keep[0] = time_ms[0] == open_1h[0]                                   # starts inside the hour
    keep[-1] &= time_ms[-1] + _MINUTE_MS >= open_1h[-1] + _HOUR_MS       # last hour not closed
    return close[ends - 1][keep], open_1h[keep] + _HOUR_MS


def floor_ema_cross_1h(time_ms: np.ndarray, close: np.ndarray) -> dict[str, np.ndarray]:
    ema9, ema21 = talib.EMA(close, 9), talib.EMA(close, 21)
    close_1h, close_time_1h = _hourly_close(time_ms, close)
    ema200_1h = talib.EMA(close_1h, 200)
    index = np.searchsorted(close_time_1h, time_ms + _MINUTE_MS, side="right") - 1
    ema200 = np.where(index >= 0, ema200_1h[index], np.nan)
    with np.errstate(invalid="ignore"):
        filt = close > ema200
    return {"entry_long": _cross_above(ema9, ema21) & filt, "exit_long": _cross_below(ema9, ema21)}


def floor_rsi_bb_volume(close: np.ndarray, volume: np.ndarray, buy: float = 30, sell: float = 70,
                        vol_mult: float = 1.5) -> dict[str, np.ndarray]:
    rsi = talib.RSI(close, 14)
    _, _, lower = talib.BBANDS(close, 20, 2, 2)
    vol_sma = talib.SMA(volume, 20)
    with np.errstate(invalid="ignore"):
        entry = (rsi < buy) & (close < lower) & (volume > vol_sma * vol_mult)
        return {"entry_long": entry, "exit_long": rsi > sell}


# --- the engine -----------------------------------------------------------------------

def _engine_run(strategy, data) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    compiled = compile_strategy(strategy)
    return Evaluator(data).signals(compiled)   # a fresh Evaluator: nothing cached


def _same(engine: dict[str, np.ndarray], floor: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(engine[k], floor[k]) for k in floor)


def _history(name: str, path, floor_fn, data, runs: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    strategy = load_strategy(path)
    load_ms = (time.perf_counter() - t0) * 1e3
    _engine_run(strategy, data)     # warm: imports, TA-Lib's first call, page faults
    floor_fn()
    engine_t, floor_t = [], []
    signals = floor = None
    for k in range(runs):           # interleaved, so both see the same machine load
        log(f"  {name}: run {k + 1}/{runs}")
        t, signals = repeat(lambda: _engine_run(strategy, data), 1)
        engine_t += t
        t, floor = repeat(floor_fn, 1)
        floor_t += t
    assert signals is not None and floor is not None
    compile_t, _ = repeat(lambda: compile_strategy(strategy), runs)
    engine, base = summary(engine_t), summary(floor_t)
    return {
        "strategy": str(path.relative_to(path.parents[2])),
        "load_and_validate_yaml_ms": round(load_ms, 3),
        "compile_median_ms": summary(compile_t)["median_ms"],
        "engine_compile_plus_evaluate": engine,
        "floor": base,
        "ratio_engine_over_floor": round(engine["median_ms"] / base["median_ms"], 2),
        "signals_equal_floor": _same(signals, floor),
        "signal_counts": {k: int(v.sum()) for k, v in signals.items() if v.any()},
    }


# --- window form ----------------------------------------------------------------------

def _window(name: str, path, data, history: dict[str, np.ndarray], pushes: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    compiled = compile_strategy(load_strategy(path))
    w = WindowEvaluator(compiled, data.symbol)
    window = compiled.plan.window
    assert window is not None and window + pushes <= len(data)
    cols = (data.time, data.open, data.high, data.low, data.close, data.volume)
    # fill the buffer without evaluating (evaluating a growing buffer window times is
    # quadratic and measures nothing the live loop does), then push for real
    w.evaluate = lambda buffer: {}                  # type: ignore[method-assign]
    w._buffer = lambda: None       # type: ignore[method-assign, assignment, return-value]
    t0 = time.perf_counter()
    for i in range(window):
        w.push(int(cols[0][i]), *(float(c[i]) for c in cols[1:]))
    prime_ms = (time.perf_counter() - t0) * 1e3
    del w.evaluate, w._buffer
    times, agree = [], True
    for i in range(window, window + pushes):
        stamp, values = int(cols[0][i]), [float(c[i]) for c in cols[1:]]
        t0 = time.perf_counter()
        out = w.push(stamp, *values)
        times.append((time.perf_counter() - t0) * 1e3)
        agree &= all(out[s] == bool(history[s][i]) for s in SIGNALS)
    log(f"  {name}: window {window} bars, {pushes} pushes, median {statistics.median(times):.2f} ms")
    s = summary(times)
    return {
        "window_bars": window,
        "warmup_bars": compiled.plan.warmup,
        "pushes": pushes,
        "per_bar_median_ms": s["median_ms"],
        "per_bar_min_ms": s["min_ms"],
        "per_bar_max_ms": s["max_ms"],
        "per_bar_p90_ms": round(float(np.percentile(times, 90)), 3),
        "prime_buffer_ms": round(prime_ms, 1),
        "signals_equal_history": bool(agree),
    }


# --- parameter cache ------------------------------------------------------------------

def _variations(n: int) -> list[dict[str, float]]:
    """n distinct threshold sets: buy 10..40, sell 60..90 step 5, vol_mult 1.0..2.5."""
    return [{"buy": 10 + i % 31, "sell": 60 + 5 * (i % 7), "vol_mult": 1.0 + 0.5 * (i // 31 % 4)}
            for i in range(n)]


def _param_cache(data, n: int, rounds: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    strategy = load_strategy(RSI_BB_VOL)
    variations = _variations(n)
    assert len({tuple(v.items()) for v in variations}) == n

    def shared() -> tuple[Evaluator, list[dict[str, np.ndarray]]]:
        ev = Evaluator(data)
        return ev, [ev.signals(compile_strategy(strategy, v)) for v in variations]

    def fresh() -> list[dict[str, np.ndarray]]:
        return [Evaluator(data).signals(compile_strategy(strategy, v)) for v in variations]

    fresh_t, shared_t = [], []
    fresh_out = shared_out = None
    ev = None
    for _ in range(rounds):             # alternated, so both see the same machine load
        t, fresh_out = repeat(fresh, 1)
        fresh_t += t
        t, (ev, shared_out) = repeat(shared, 1)
        shared_t += t
    assert ev is not None and fresh_out is not None and shared_out is not None
    fresh_s, shared_s = summary(fresh_t), summary(shared_t)
    spot = [0, n // 2, n - 1]
    agree = all(_same(shared_out[i], fresh_out[i]) for i in range(n)) and all(
        _same(shared_out[i], floor_rsi_bb_volume(data.close, data.volume, **variations[i])) for i in spot)
    return {
        "strategy": "benchmarks/strategies/rsi_bb_volume.yaml",
        "variations": n,
        "varied": "buy 10..40, sell 60..90 (step 5), vol_mult 1.0..2.5 (step 0.5)",
        "one_evaluator_total": shared_s,
        "fresh_evaluator_total": fresh_s,
        "speedup": round(fresh_s["median_ms"] / shared_s["median_ms"], 2),
        "cache_hits": ev.stats.hits,        # of the last one-evaluator round
        "cache_misses": ev.stats.misses,
        "cache_hit_rate": round(ev.stats.hit_rate, 4),
        "signals_equal_fresh_and_floor": bool(agree),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--variations", type=int, default=100)
    parser.add_argument("--cache-rounds", type=int, default=3,
                        help="times each of the two parameter-cache totals is measured (median)")
    args = parser.parse_args()
    info = machine()
    log("synthesizing one year of 1m candles")
    t0 = time.perf_counter()
    data = candles()
    synth_ms = (time.perf_counter() - t0) * 1e3
    t_ms, close, volume = data.time, data.close, data.volume
    log("history form")
    history = {
        "ema_cross_1h": _history("ema_cross_1h", EMA_CROSS, lambda: floor_ema_cross_1h(t_ms, close),
                                 data, args.runs),
        "rsi_bb_volume": _history("rsi_bb_volume", RSI_BB_VOL, lambda: floor_rsi_bb_volume(close, volume),
                                  data, args.runs),
    }
    log("window form")
    window = {}
    for name, path in (("ema_cross_1h", EMA_CROSS), ("rsi_bb_volume", RSI_BB_VOL)):
        full = Evaluator(data).signals(compile_strategy(load_strategy(path)))
        window[name] = _window(name, path, data, full, args.pushes)
    log("parameter cache")
    cache = _param_cache(data, args.variations, args.cache_rounds)
    emit({
        "benchmark": "evaluate",
        "data": {"candles": BARS, "timeframe": "1m", "source": f"synth_candles seed={SEED}",
                 "synth_ms": round(synth_ms, 1)},
        "runs": args.runs,
        "history": history,
        "window": window,
        "param_cache": cache,
        "machine": info,
    })


if __name__ == "__main__":
    main()
