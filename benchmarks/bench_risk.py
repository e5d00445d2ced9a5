"""Cost of a deployment's risk rules in the kernel (issue 9 §2); prints one JSON document.

    python benchmarks/bench_risk.py [--runs 7]

Workload: one year of synthetic 1m candles (525,600, `synth_candles`, seed 1), entry
when the close crosses above its 60-bar mean, exit when it crosses below, 5% stop,
fee 0.1%; the same arrays through `engine.kernel.simulate` three ways, interleaved
run by run so machine noise hits all alike:
  no_rules      KernelConfig without a risk policy: the kernel's fast paths;
  one_rule      `open_positions > 5 -> alert` (never true: the cost of evaluating);
  five_rules    one rule per term, pause/alert/close_all (some fire).
The figures are medians; `ratio_*` divide by no_rules of the same run.
The no-rules path must stay as fast as before the rules existed: compare
`no_rules` with benchmarks/bench_backtest.py's `simulate` step on older commits.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import candles, emit, log, machine

from compiler.risk import RiskPolicy
from engine.kernel import KernelConfig, simulate

POLICIES = {
    "no_rules": RiskPolicy(),
    "one_rule": RiskPolicy.from_dict({"rules": [{"when": "open_positions > 5", "then": "alert"}]}),
    "five_rules": RiskPolicy.from_dict({"rules": [
        {"when": "drawdown > 0.25", "then": "close_all"},
        {"when": "daily_pnl < -0.02", "then": "pause", "for": "4h"},
        {"when": "open_positions >= 1 and exposure > 1.5", "then": "alert"},
        {"when": "consecutive_losses >= 4", "then": "pause", "for": "1d"},
        {"when": "drawdown > 0.9", "then": "halt"},
    ]}),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    log("data: one year of 1m synthetic candles")
    c = candles()
    close = np.asarray(c.close, dtype=np.float64)
    mean = np.convolve(close, np.ones(60) / 60, mode="full")[:len(close)]
    above = close > mean
    entry = above & ~np.roll(above, 1)
    exit_ = ~above & np.roll(above, 1)
    entry[:60] = exit_[:60] = False
    arrays = (np.asarray(c.time, np.int64), np.asarray(c.open, np.float64), np.asarray(c.high, np.float64),
              np.asarray(c.low, np.float64), close)
    signals = {"entry_long": entry, "exit_long": exit_}
    configs = {name: KernelConfig(timeframe="1m", fee=0.001, stoploss=-0.05, risk=policy)
               for name, policy in POLICIES.items()}
    results = {name: simulate(*arrays, signals, cfg, time_checked=True) for name, cfg in configs.items()}  # compile
    times: dict[str, list[float]] = {name: [] for name in configs}
    for run in range(args.runs):
        log(f"run {run + 1}/{args.runs}")
        for name, cfg in configs.items():
            t0 = time.perf_counter()
            simulate(*arrays, signals, cfg, time_checked=True)
            times[name].append((time.perf_counter() - t0) * 1e3)
    base = statistics.median(times["no_rules"])
    emit({
        "benchmark": "risk_rules",
        "data": {"candles": len(close), "timeframe": "1m", "source": "synth_candles seed=1"},
        "runs": args.runs,
        "simulate_median_ms": {n: round(statistics.median(t), 3) for n, t in times.items()},
        "simulate_runs_ms": {n: [round(x, 3) for x in t] for n, t in times.items()},
        "ratio_over_no_rules": {n: round(statistics.median(t) / base, 2) for n, t in times.items()},
        "trades": {n: len(r.trades) for n, r in results.items()},
        "risk_events": {n: len(r.risk_events) for n, r in results.items()},
        "machine": machine(),
    })


if __name__ == "__main__":
    main()
