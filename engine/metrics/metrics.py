"""One call from a simulation result to the figures a user judges a strategy by.

`compute_metrics` returns a flat, JSON-serializable dict of headline figures
plus `per_symbol` and `per_exit_reason` breakdowns. It is what `backtest
--json` prints, what the results store keeps and what the reports render, so
its keys are a contract (docs/metrics.md defines each one).

Steps:
1. the equity curve (starting balance + per-bar equity), its returns, the
   annualization factor of the timeframe             -> returns.py
2. return, Sharpe, Sortino, drawdowns, Calmar       -> returns.py
3. trade figures, exposure, the breakdowns           -> trade_stats.py
4. buy-and-hold of the same symbols; monthly returns -> benchmark.py, periods.py
5. the same figures as freqtrade defines them (`*_ft`) -> freqtrade.py
6. warnings about figures easy to misread            -> caveats.py
7. JSON-safe values: floats are NOT rounded; NaN and +/-inf become null
   (an undefined ratio, or an infinite one such as the profit factor of a
   run without a losing trade); -0.0 becomes 0.0 -> here.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.kernel.trades import EXIT_REASONS, SimResult
from engine.metrics._curve import curve_pass
from engine.metrics.benchmark import buy_and_hold_returns
from engine.metrics.caveats import short_run_warning
from engine.metrics.freqtrade import freqtrade_figures, market_change
from engine.metrics.periods import monthly_returns
from engine.metrics.returns import (
    ZERO_DEVIATION,
    annualized_return,
    drawdown_from_pass,
    periods_per_year,
)
from engine.metrics.trade_stats import exposure, group_breakdown, trade_summary

__all__ = ["METRICS_VERSION", "compute_metrics", "iso_time"]

# Bumped when a key changes meaning; stored with each run.
# 2: `expectancy_ratio` is freqtrade's; the mean profit ratio moved to `avg_profit_ratio`.
METRICS_VERSION = 2


def iso_time(ms: int | None) -> str | None:
    """int64 ms UTC -> `2024-01-31T12:00:00Z` (the format of trade records)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_safe(value: Any) -> Any:
    """Plain Python values; non-finite floats -> None; containers recursively."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value) + 0.0  # -0.0 + 0.0 is 0.0: JSON never shows "-0.0"
        return f if math.isfinite(f) else None
    return value


def compute_metrics(result: SimResult,
                    closes: Mapping[str, np.ndarray] | None = None, *,
                    loaded_closes: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Metrics of `result`; `closes` (symbol -> closes on the shared clock) adds buy-and-hold.

    `closes` covers the backtest's bars (after the warm-up); `loaded_closes`,
    every loaded candle from the first one (warm-up included), adds
    freqtrade's `market_change_ft`. Every ratio is a fraction (0.1 = 10 %),
    money is in the quote currency, durations are in bars and seconds, times
    are ISO-8601 UTC strings.
    """
    n_bars = len(result.time)
    bar_ms = timeframe_ms(result.timeframe)
    per_year = periods_per_year(result.timeframe)
    start = float(result.starting_balance)

    # 1-2. The equity curve and what it says about return and risk: one compiled pass
    # (curve point 0 is the starting balance, point i the close of bar i-1).
    equity = np.asarray(result.equity, dtype=np.float64)
    stats = curve_pass(equity, start)
    mean, std, downside, n_returns = stats[0], stats[1], stats[2], stats[3]
    final = float(equity[-1]) if n_bars else start
    total = final / start - 1.0 if start > 0 else float("nan")
    annual = annualized_return(total, n_bars, per_year)
    dd = drawdown_from_pass(stats)
    time0 = int(result.time[0]) if n_bars else 0

    def point_ms(index: int) -> int:
        return time0 if index == 0 else int(result.time[index - 1]) + bar_ms

    def at(index: int | None) -> str | None:
        return None if index is None else iso_time(point_ms(index))

    def ratio(deviation: float) -> float:
        ok = n_returns > 1 and deviation > ZERO_DEVIATION
        return mean / deviation * math.sqrt(per_year) if ok else float("nan")

    recovery_or_end = dd.recovery if dd.recovery is not None else n_bars
    longest_end = (dd.longest_peak or 0) + dd.longest_bars

    # 3. The trades.
    trades = result.trades
    summary = trade_summary(trades)
    metrics: dict[str, Any] = {
        "metrics_version": METRICS_VERSION,
        "symbols": list(result.symbols),
        "timeframe": result.timeframe,
        "start": iso_time(int(result.time[0])) if n_bars else None,
        "end": iso_time(int(result.time[-1]) + bar_ms) if n_bars else None,
        "n_bars": n_bars,
        "periods_per_year": per_year,
        "starting_balance": start,
        "final_balance": final,
        "profit_abs": final - start,
        "total_return": total,
        "annualized_return": annual,
        "volatility": std * math.sqrt(per_year),
        "sharpe": ratio(std),
        "sortino": ratio(downside),
        "calmar": annual / dd.depth if dd.depth > 0 else float("nan"),
        "max_drawdown": dd.depth,
        "max_drawdown_abs": dd.depth_abs,
        "max_drawdown_start": at(dd.peak),
        "max_drawdown_trough": at(dd.trough),
        "max_drawdown_end": at(dd.recovery),
        "max_drawdown_duration_bars": dd.duration_bars,
        "max_drawdown_duration_s": ((point_ms(recovery_or_end) - point_ms(dd.peak)) // 1000
                                    if dd.peak is not None else 0),
        "longest_drawdown_bars": dd.longest_bars,
        "longest_drawdown_s": ((point_ms(longest_end) - point_ms(dd.longest_peak)) // 1000
                               if dd.longest_peak is not None else 0),
        "exposure": exposure(trades, n_bars),
        **summary,
    }
    # 4. The benchmark.
    bh_total, bh_symbol = (buy_and_hold_returns({s: closes[s] for s in result.symbols
                                                 if s in closes})
                           if closes is not None else (float("nan"), {}))
    metrics["buy_and_hold_return"] = bh_total
    metrics["monthly_returns"] = monthly_returns(result.time, equity, start)
    # 5. freqtrade's definitions of the same ideas, for users comparing with freqtrade.
    metrics.update(freqtrade_figures(trades.profit_abs, trades.exit_time, start,
                                     int(result.time[0]) if n_bars else None,
                                     int(result.time[-1]) if n_bars else None))
    metrics["market_change_ft"] = (market_change({s: loaded_closes[s] for s in result.symbols
                                                  if s in loaded_closes})
                                   if loaded_closes is not None else float("nan"))
    # 6. Caveats.
    short = short_run_warning(n_bars * bar_ms)
    metrics["warnings"] = [short] if short else []
    metrics["per_symbol"] = group_breakdown(trades.symbol, result.symbols, trades, start,
                                            keep_empty=True)
    for symbol, row in metrics["per_symbol"].items():
        row["buy_and_hold_return"] = bh_symbol.get(symbol, float("nan"))
    metrics["per_exit_reason"] = group_breakdown(trades.exit_reason, EXIT_REASONS, trades,
                                                 start, keep_empty=False)
    # 7. JSON-safe.
    return _json_safe(metrics)  # type: ignore[no-any-return]
