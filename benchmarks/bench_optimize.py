"""Optimizer benchmark: the 224-combination RSI sweep over one year of 1m candles.

Sweep: RSI period 7..20 x entry {20,25,30,35} x exit {65,70,75,80} (grid),
entry when RSI crosses above `lo`, exit when it crosses above `hi`, 5% stop,
fee 0.1% per side, objective Sharpe. Compared in the same run with the floor:
a plain numpy + TA-Lib + numba loop over the same grid computing the same
trades and Sharpe; and with vectorbt when it is importable.

Both sides are timed by the wall clock (the trial loops' `elapsed_ms`, which
includes Optuna's bookkeeping and the journal writes) and by this thread's CPU
time (`time.thread_time`, which a busy shared machine disturbs less: other
processes' time slices are not counted). Runs alternate superbot and floor;
the figures are medians. Studies are written to a temporary SUPERBOT_HOME on
the same file system as the user's (fsync costs the same), not into it.

Run: python benchmarks/bench_optimize.py [--runs 3]   (prints one JSON document)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import talib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.validate import load_strategy  # noqa: E402
from engine.backtest.market import Market  # noqa: E402
from engine.backtest.session import BacktestSession  # noqa: E402
from engine.backtest.settings import BacktestSettings  # noqa: E402
from engine.data.synth import synth_candles  # noqa: E402
from engine.optimize.objective import make_objective  # noqa: E402
from engine.optimize.run import OptimizeOptions, optimize  # noqa: E402

PERIODS = range(7, 21)
LOS = (20, 25, 30, 35)
HIS = (65, 70, 75, 80)
FEE, STOP = 0.001, -0.05
MINUTES_PER_YEAR = 525_600


@numba.njit(cache=True)
def _floor_kernel(o, h, lo_, c, entry, exit_, fee, stop):  # type: ignore[no-untyped-def]
    """Long-only, one position, all-in: signal at close i fills at open i+1; stop at the stop price
    (or the open when it gaps through); exit signal before stop. Returns equity per bar and trades."""
    n = len(c)
    equity = np.empty(n)
    cash, amount, entry_price, stop_price = 10_000.0, 0.0, 0.0, 0.0
    trades = 0
    for i in range(n):
        if i > 0:
            if amount > 0.0 and exit_[i - 1]:
                cash = amount * o[i] * (1 - fee)
                amount = 0.0
            elif amount == 0.0 and entry[i - 1]:
                entry_price = o[i]
                amount = cash / (entry_price * (1 + fee))
                cash = 0.0
                stop_price = entry_price * (1 + stop)
                trades += 1
            if amount > 0.0 and lo_[i] <= stop_price:
                fill = o[i] if o[i] < stop_price else stop_price
                cash = amount * fill * (1 - fee)
                amount = 0.0
        equity[i] = cash + amount * c[i]
    return equity, trades


@numba.njit(cache=True)
def _sharpe(equity: np.ndarray) -> float:
    """Annualized Sharpe of the bar returns, two passes, no temporaries (the fastest honest form)."""
    n = len(equity) - 1
    total = 0.0
    for k in range(1, n + 1):
        total += equity[k] / equity[k - 1] - 1.0
    mean = total / n
    sq = 0.0
    for k in range(1, n + 1):
        sq += (equity[k] / equity[k - 1] - 1.0 - mean) ** 2
    sd = np.sqrt(sq / (n - 1))
    return mean / sd * np.sqrt(MINUTES_PER_YEAR) if sd > 0 else np.nan


def floor_sweep(o: np.ndarray, h: np.ndarray, lo_: np.ndarray, c: np.ndarray) -> tuple[float, float, dict[str, int]]:
    t0, cpu0 = time.perf_counter(), time.thread_time()
    trades = {}
    for n in PERIODS:
        rsi = talib.RSI(c, n)
        prev = np.empty_like(rsi)
        prev[0] = np.nan
        prev[1:] = rsi[:-1]
        for lo in LOS:
            entry = (rsi > lo) & (prev <= lo)
            for hi in HIS:
                exit_ = (rsi > hi) & (prev <= hi)
                equity, k = _floor_kernel(o, h, lo_, c, entry, exit_, FEE, STOP)
                _sharpe(equity)
                trades[f"{n}-{lo}-{hi}"] = int(k)
    return (time.perf_counter() - t0) * 1e3, (time.thread_time() - cpu0) * 1e3, trades


def superbot_sweep(candles, strategy) -> tuple[float, float, dict[str, int]]:  # type: ignore[no-untyped-def]
    market = Market((candles.symbol,), "1m", {candles.symbol: candles}, {candles.symbol: 0}, "synthetic")
    session = BacktestSession(strategy, market, BacktestSettings(fee=FEE), 0)
    options = OptimizeOptions(objective=make_objective("sharpe"), trials=224, sampler="grid", stages="all")
    result = optimize(session, options)
    trials = result.stages[0].trials
    return sum(s.elapsed_ms for s in result.stages), sum(s.cpu_ms for s in result.stages), {
        f"{t['params']['n']}-{t['params']['lo']}-{t['params']['hi']}": t["n_trades"] for t in trials}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="superbot-bench-", dir=Path.home()) as home:
        os.environ["SUPERBOT_HOME"] = home  # the studies' journals, not in the user's data directory
        _run(args)


def _run(args: argparse.Namespace) -> None:
    candles = synth_candles("BTC/USDT", "1m", 365, seed=1)
    strategy = load_strategy(ROOT / "benchmarks" / "strategies" / "rsi_sweep.yaml")
    o, h, lo_, c = candles.open, candles.high, candles.low, candles.close
    _floor_kernel(o[:100], h[:100], lo_[:100], c[:100], np.zeros(100, bool), np.zeros(100, bool), FEE, STOP)
    _sharpe(np.linspace(1.0, 2.0, 10))
    superbot_sweep(candles.take(0, 5000), strategy)  # compile the kernel once
    floor_ms, superbot_ms, floor_cpu, superbot_cpu = [], [], [], []
    for i in range(args.runs):
        s, s_cpu, our_trades = superbot_sweep(candles, strategy)
        f, f_cpu, floor_trades = floor_sweep(o, h, lo_, c)
        floor_ms.append(f)
        superbot_ms.append(s)
        floor_cpu.append(f_cpu)
        superbot_cpu.append(s_cpu)
        print(f"run {i + 1}: superbot {s:.0f} ms ({s_cpu:.0f} ms CPU), floor {f:.0f} ms ({f_cpu:.0f} ms CPU)",
              file=sys.stderr)
    mismatched = sorted(k for k in floor_trades if floor_trades[k] != our_trades.get(k))
    med_s, med_f = statistics.median(superbot_ms), statistics.median(floor_ms)
    cpu_s, cpu_f = statistics.median(superbot_cpu), statistics.median(floor_cpu)
    out = {
        "benchmark": "optimize 224-combination RSI grid, 525,600 x 1m candles",
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "runs": args.runs,
        "superbot_trial_loop_ms": {"median": round(med_s, 1), "all": [round(x, 1) for x in superbot_ms]},
        "floor_ms": {"median": round(med_f, 1), "all": [round(x, 1) for x in floor_ms]},
        "ratio_superbot_over_floor": round(med_s / med_f, 2),
        "superbot_cpu_ms": {"median": round(cpu_s, 1), "all": [round(x, 1) for x in superbot_cpu]},
        "floor_cpu_ms": {"median": round(cpu_f, 1), "all": [round(x, 1) for x in floor_cpu]},
        "ratio_cpu_superbot_over_floor": round(cpu_s / cpu_f, 2),
        "trials_per_second": round(224 / (med_s / 1e3), 1),
        "trade_count_mismatches": len(mismatched),
        "mismatch_examples": {k: [floor_trades[k], our_trades.get(k)] for k in mismatched[:5]},
    }
    try:
        # optional ('.[bench]'), untyped: absent or present, mypy has nothing to check here
        import vectorbt as vbt  # noqa: F401  # type: ignore[import-not-found, import-untyped, unused-ignore]
        out["vectorbt"] = "installed: see bench_backtest.py for its single-backtest figures"
    except ImportError:
        out["vectorbt"] = "not installed (pip install '.[bench]')"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
