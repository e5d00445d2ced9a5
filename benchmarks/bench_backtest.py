"""Benchmark of a whole backtest (issue 4, item 8); prints one JSON document.

    python benchmarks/bench_backtest.py [--runs 5] [--bt-runs 3] [--skip-external] [--skip-first-run]

Workloads, over one year of synthetic 1m candles (525,600, `synth_candles`, seed 1):
  rsi_cross      enter long when RSI(14) crosses ABOVE 30, exit when it crosses above
                 70; 5% stop; fee 0.1% per side; one position, the whole balance
                 (benchmarks/strategies/rsi_cross.yaml);
  rsi_cross_15m  the same, entering only while the RSI(14) of the last closed 15m
                 candle is > 50 (benchmarks/strategies/rsi_cross_15m.yaml).

Steps:
1. data (`_store`): the candles written once to a temporary candle store; each
   workload then runs in its own child process (`_workload_child`), so no
   workload inherits another's allocator state.
2. superbot (`_superbot_once`): per run, `open_session` (load, reported separately) then
   `BacktestSession.run()` = compile + evaluate + simulate + metrics with FRESH
   evaluators; median of `--runs`. The first run of the process is reported apart.
3. the floor (`_floor_once`), in the same process: talib.RSI, numpy cross masks (and the
   15m resample + np.searchsorted alignment), one small @numba.njit loop with the
   same fill/stop/fee rules, and total return / max drawdown / Sharpe / win rate
   from its equity curve. Its trades are compared with superbot's (`_compare_trades`).
4. vectorbt (`_vectorbt`, when installed): the same numpy signals, then
   Portfolio.from_signals(price=open, open/high/low, sl_stop=0.05, fees=0.001) and
   `pf.stats()`; also with only five headline figures.
5. backtesting.py (`_backtesting`, when installed): the same signals through a
   Strategy whose next() buys with a 5% stop; median of `--bt-runs` (it is slow).
6. numba compile (`_first_runs`): two child processes with one empty
   NUMBA_CACHE_DIR time the first run of superbot and of the floor: cold (compile),
   then warm (cache=True loads the machine code).
7. the command line (`_cli`): `superbot backtest ... --json` three times, wall time
   including interpreter start and imports (what a user waits for), for context.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _common import BARS, SEED, STRATEGIES, SYMBOL, candles, emit, log, machine, repeat, summary
from _floor import BALANCE, FEE, STOP, floor_loop, signals

from compiler.validate import load_strategy
from engine.backtest.session import open_session
from engine.backtest.settings import BacktestSettings
from engine.data.store import CandleStore

WORKLOADS = {"rsi_cross": STRATEGIES / "rsi_cross.yaml", "rsi_cross_15m": STRATEGIES / "rsi_cross_15m.yaml"}
_ANNUAL_1M = 525_600


# --- data -------------------------------------------------------------------------------

def _store(data, root: Path) -> BacktestSettings:  # type: ignore[no-untyped-def]
    CandleStore(root).write("synthetic", data)
    return BacktestSettings(data=str(root), symbols=(SYMBOL,), fee=FEE, balance=BALANCE)


# --- superbot ---------------------------------------------------------------------------

def _superbot_once(strategy, settings: BacktestSettings) -> tuple[float, float, Any]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    session, _ = open_session(strategy, settings)       # load + a fresh session (fresh evaluators)
    t1 = time.perf_counter()
    run = session.run()                                 # compile + evaluate + simulate + metrics
    t2 = time.perf_counter()
    return (t1 - t0) * 1e3, (t2 - t1) * 1e3, run


# --- the floor: benchmarks/_floor.py (numpy + TA-Lib + numba) --------------------------------

def _floor_once(name: str, data) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    entry, exit_ = signals(name, data.time, data.close)
    t1 = time.perf_counter()
    n = len(data.close)
    trades = np.empty((n // 2 + 2, 6))
    equity = np.empty(n)
    n_tr = floor_loop(data.open, data.high, data.low, data.close, entry, exit_, STOP, FEE, BALANCE,
                      trades, equity)
    trades = trades[:n_tr]
    t2 = time.perf_counter()
    curve = np.concatenate(([BALANCE], equity))
    returns = curve[1:] / curve[:-1] - 1.0
    peak = np.maximum.accumulate(curve)
    out = {"trades": trades, "total_return": curve[-1] / BALANCE - 1.0,
           "max_drawdown": float(np.max(1.0 - curve / peak)),
           "sharpe": float(returns.mean() / returns.std() * np.sqrt(_ANNUAL_1M)),
           "win_rate": float(np.mean(trades[:, 4] > 0)) if n_tr else float("nan")}
    out["steps_ms"] = {"signals": (t1 - t0) * 1e3, "simulate": (t2 - t1) * 1e3,
                       "metrics": (time.perf_counter() - t2) * 1e3}
    return out


def _compare_trades(run, floor: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    t = run.result.trades
    f = floor["trades"]
    same_count = len(t.entry_index) == len(f)
    out: dict[str, Any] = {"superbot": len(t.entry_index), "floor": len(f),
                           "count_matches": bool(same_count)}
    if same_count:
        # superbot's bar indexes count from its first traded bar (after the warm-up), the floor's
        # from the first candle: the same bars differ by that constant offset
        off = int(f[0, 0]) - int(t.entry_index[0]) if len(f) else 0
        out["warmup_offset_bars"] = off
        out["same_entry_exit_bars"] = bool(np.array_equal(t.entry_index + off, f[:, 0].astype(np.int64))
                                           and np.array_equal(t.exit_index + off, f[:, 1].astype(np.int64)))
        out["max_abs_profit_ratio_diff"] = float(np.max(np.abs(t.profit_ratio - f[:, 4]), initial=0.0))
        out["max_rel_exit_price_diff"] = float(np.max(np.abs(t.exit_price / f[:, 3] - 1.0), initial=0.0))
    return out


# --- vectorbt ---------------------------------------------------------------------------

def _vectorbt(name: str, data, runs: int, ours: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        import pandas as pd
        import vectorbt as vbt
    except ImportError:
        return {"installed": False}
    # a tz-naive index: with a tz-aware one, vectorbt's shape checks turn the
    # 525,600 timestamps into Python objects (seconds per call on pandas 3)
    index = pd.to_datetime(data.time, unit="ms")
    engines = ["numba"]
    try:
        import vectorbt_rust  # noqa: F401
        engines.append("rust")
    except ImportError:
        pass

    def run(engine: str, full_stats: bool) -> Any:
        entry, exit_ = signals(name, data.time, data.close)
        e = np.zeros_like(entry)
        x = np.zeros_like(exit_)
        e[1:], x[1:] = entry[:-1], exit_[:-1]    # a signal on bar i-1's close trades at bar i's open
        pf = vbt.Portfolio.from_signals(pd.Series(data.close, index=index), e, x, price=data.open,
                                        open=data.open, high=data.high, low=data.low, sl_stop=STOP,
                                        fees=FEE, init_cash=BALANCE, freq="1min", engine=engine)
        if full_stats:
            return pf, pf.stats()
        return pf, (pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown(), pf.trades.count(),
                    pf.trades.win_rate())

    out: dict[str, Any] = {"installed": True, "version": vbt.__version__}
    for engine in engines:
        t0 = time.perf_counter()
        pf, _ = run(engine, True)
        first = (time.perf_counter() - t0) * 1e3
        stats_t: list[float] = []
        lite_t: list[float] = []
        for k in range(runs):
            log(f"  vectorbt[{engine}] {name}: run {k + 1}/{runs}")
            stats_t += repeat(functools.partial(run, engine, True), 1)[0]
            lite_t += repeat(functools.partial(run, engine, False), 1)[0]
        s, lite = summary(stats_t), summary(lite_t)
        out[engine] = {
            "first_run_ms": round(first, 1),
            "with_stats": s,
            "with_five_figures": lite,
            "trades": int(pf.trades.count()),
            "ratio_vectorbt_over_superbot": round(s["median_ms"] / ours, 2),
            "ratio_vectorbt_five_figures_over_superbot": round(lite["median_ms"] / ours, 2),
        }
    return out


# --- backtesting.py ---------------------------------------------------------------------

def _backtesting(name: str, data, runs: int, ours: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        import backtesting
        import pandas as pd
        from backtesting import Backtest, Strategy
    except ImportError:
        return {"installed": False}
    frame = pd.DataFrame({"Open": data.open, "High": data.high, "Low": data.low, "Close": data.close,
                          "Volume": data.volume}, index=pd.to_datetime(data.time, unit="ms"))

    def run() -> Any:
        entry, exit_ = signals(name, data.time, data.close)

        class RsiCross(Strategy):  # type: ignore[misc]
            def init(self) -> None:
                self.entry = self.I(lambda: entry, name="entry", plot=False)
                self.exit = self.I(lambda: exit_, name="exit", plot=False)

            def next(self) -> None:
                if self.position:
                    if self.exit[-1] and not self.entry[-1]:
                        self.position.close()
                elif self.entry[-1] and not self.exit[-1]:
                    # the stop is set from the signal bar's close: backtesting.py knows
                    # the fill price (next open) only after the order fills
                    self.buy(sl=self.data.Close[-1] * (1.0 - STOP))

        # cash large enough for whole BTC units (backtesting.py trades integer sizes)
        bt = Backtest(frame, RsiCross, cash=1e9, commission=FEE, finalize_trades=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bt.run()

    times = []
    stats = None
    for k in range(runs):
        log(f"  backtesting.py {name}: run {k + 1}/{runs}")
        t, stats = repeat(run, 1)
        times += t
    s = summary(times)
    return {"installed": True, "version": backtesting.__version__, "runs": runs, "wall": s,
            "trades": int(stats["# Trades"]) if stats is not None else None,
            "ratio_backtesting_over_superbot": round(s["median_ms"] / ours, 2)}


# --- numba compile time -----------------------------------------------------------------

def _first_run_child(root: str) -> None:
    """In a child process: time the first superbot and floor runs (imports done before)."""
    data = candles()
    settings = _store(data, Path(root))
    strategy = load_strategy(WORKLOADS["rsi_cross"])
    t0 = time.perf_counter()
    _, run_ms, run = _superbot_once(strategy, settings)
    t1 = time.perf_counter()
    _floor_once("rsi_cross", data)
    t2 = time.perf_counter()
    _, again_ms, _ = _superbot_once(strategy, settings)
    json.dump({"superbot_first_run_ms": round(run_ms, 1), "superbot_first_simulate_ms":
               round(run.timings["simulate"], 1), "superbot_second_run_ms": round(again_ms, 1),
               "floor_first_run_ms": round((t2 - t1) * 1e3, 1),
               "superbot_first_including_load_ms": round((t1 - t0) * 1e3, 1)}, sys.stdout)


def _first_runs(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold_cache", "warm_cache"):
            log(f"  first run in a new process, {label}")
            out[label] = _in_child(["--_first-run-child", str(root / label)], env)
    cold, warm = out.get("cold_cache", {}), out.get("warm_cache", {})
    if "superbot_first_run_ms" in cold and "superbot_first_run_ms" in warm:
        out["superbot_numba_compile_ms"] = round(cold["superbot_first_run_ms"] - cold["superbot_second_run_ms"], 1)
        out["superbot_cache_load_ms"] = round(warm["superbot_first_run_ms"] - warm["superbot_second_run_ms"], 1)
    return out


# --- the command line, as a user runs it ------------------------------------------------

def _cli(store: Path, runs: int) -> dict[str, Any]:
    """`superbot backtest rsi_cross.yaml --json`: wall time with interpreter start and imports."""
    exe = Path(sys.executable).parent / "superbot"
    if not exe.exists():
        return {"error": f"{exe} not found"}
    argv = [str(exe), "backtest", str(WORKLOADS["rsi_cross"]), "--data", str(store), "--json", "--no-keep"]
    walls, timings = [], []
    for k in range(runs):
        log(f"  superbot backtest (CLI): run {k + 1}/{runs}")
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        walls.append((time.perf_counter() - t0) * 1e3)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1:]}
        timings.append(json.loads(proc.stdout)["timings"])
    return {"command": "superbot backtest benchmarks/strategies/rsi_cross.yaml --data STORE --json --no-keep",
            "wall": summary(walls),
            "reported_timings_median_ms": {k: round(statistics.median(t[k] for t in timings), 1)
                                           for k in timings[0]}}


# --- main -------------------------------------------------------------------------------

def _workload(name: str, data, settings: BacktestSettings, args: argparse.Namespace) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    strategy = load_strategy(WORKLOADS[name])
    first_load, first_run, _ = _superbot_once(strategy, settings)
    t0 = time.perf_counter()
    _floor_once(name, data)
    floor_first = (time.perf_counter() - t0) * 1e3
    ours_t, loads, floor_t = [], [], []
    steps: dict[str, list[float]] = {}
    floor_steps: dict[str, list[float]] = {}
    run = floor = None
    for k in range(args.runs):                   # interleaved: both see the same machine load
        log(f"  superbot/floor {name}: run {k + 1}/{args.runs}")
        load_ms, run_ms, run = _superbot_once(strategy, settings)
        ours_t.append(run_ms)
        loads.append(load_ms)
        for step, ms in run.timings.items():
            steps.setdefault(step, []).append(ms)
        t, floor = repeat(lambda: _floor_once(name, data), 1)
        floor_t += t
        for step, ms in floor["steps_ms"].items():
            floor_steps.setdefault(step, []).append(ms)
    assert run is not None and floor is not None
    ours, base = summary(ours_t), summary(floor_t)
    # the same comparison without the metrics step: ours computes ~40 figures and two
    # breakdowns, the floor four figures
    ours_nm = [t - m for t, m in zip(ours_t, steps["metrics"], strict=True)]
    base_nm = [t - m for t, m in zip(floor_t, floor_steps["metrics"], strict=True)]
    out: dict[str, Any] = {
        "strategy": f"benchmarks/strategies/{WORKLOADS[name].name}",
        "superbot": {**ours, "steps_median_ms": {k: round(statistics.median(v), 3) for k, v in steps.items()},
                     "load_median_ms": round(statistics.median(loads), 1),
                     "first_run_in_process_ms": round(first_run, 1),
                     "first_load_in_process_ms": round(first_load, 1)},
        "floor": {**base, "steps_median_ms": {k: round(statistics.median(v), 3) for k, v in floor_steps.items()},
                  "first_run_in_process_ms": round(floor_first, 1)},
        "ratio_superbot_over_floor": round(ours["median_ms"] / base["median_ms"], 2),
        "ratio_superbot_over_floor_min": round(ours["min_ms"] / base["min_ms"], 2),
        "without_metrics": {"superbot_median_ms": round(statistics.median(ours_nm), 3),
                            "floor_median_ms": round(statistics.median(base_nm), 3),
                            "ratio_superbot_over_floor":
                                round(statistics.median(ours_nm) / statistics.median(base_nm), 2)},
        "trades": _compare_trades(run, floor),
        "superbot_metrics": {k: run.metrics.get(k) for k in ("total_return", "max_drawdown", "sharpe",
                                                                "win_rate", "n_trades")},
        "floor_metrics": {k: floor[k] for k in ("total_return", "max_drawdown", "sharpe", "win_rate")},
    }
    if not args.skip_external:
        out["vectorbt"] = _vectorbt(name, data, args.runs, ours["median_ms"])
        out["backtesting_py"] = _backtesting(name, data, args.bt_runs, ours["median_ms"])
    return out


def _workload_child(args: argparse.Namespace) -> None:
    """In a child process: one workload, printed as JSON."""
    data = candles()
    settings = BacktestSettings(data=args.store, symbols=(SYMBOL,), fee=FEE, balance=BALANCE)
    json.dump(_workload(args.workload, data, settings, args), sys.stdout)


def _in_child(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *argv], env=env, capture_output=True, text=True,
                          timeout=1800, check=False)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bt-runs", type=int, default=3, help="runs of backtesting.py (slow)")
    parser.add_argument("--skip-external", action="store_true", help="no vectorbt / backtesting.py")
    parser.add_argument("--skip-first-run", action="store_true", help="no cold/warm numba child runs")
    parser.add_argument("--_first-run-child", dest="child", help=argparse.SUPPRESS)
    parser.add_argument("--_workload", dest="workload", help=argparse.SUPPRESS)
    parser.add_argument("--_store", dest="store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")   # backtesting.py's bar; read when tqdm is imported
    if args.child:
        _first_run_child(args.child)
        return
    if args.workload:
        _workload_child(args)
        return
    info = machine()
    log("synthesizing one year of 1m candles")
    data = candles()
    with tempfile.TemporaryDirectory(prefix="superbot-bench-") as tmp:
        store = Path(tmp) / "store"
        _store(data, store)
        workloads = {}
        for name in WORKLOADS:
            # one process per workload: glibc's malloc adapts its mmap threshold to
            # what a process freed before, so a workload run after another one can
            # allocate its large temporaries without page faults (README: noise)
            log(f"workload {name} (child process)")
            argv = ["--_workload", name, "--_store", str(store), "--runs", str(args.runs),
                    "--bt-runs", str(args.bt_runs)] + (["--skip-external"] if args.skip_external else [])
            workloads[name] = _in_child(argv)
        first = {} if args.skip_first_run else {"numba_first_run": _first_runs(Path(tmp)),
                                                "cli": _cli(store, 3)}
    emit({
        "benchmark": "backtest",
        "data": {"candles": BARS, "timeframe": "1m", "source": f"synth_candles seed={SEED}"},
        "rules": {"entry": "RSI(14) crosses above 30", "exit": "RSI(14) crosses above 70",
                  "stoploss": -STOP, "fee_per_side": FEE, "balance": BALANCE, "stake": "100%",
                  "fills": "signal on bar i's close fills at bar i+1's open"},
        "runs": args.runs,
        "workloads": workloads,
        **first,
        "machine": info,
    })


if __name__ == "__main__":
    main()
