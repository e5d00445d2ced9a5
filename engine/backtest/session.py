"""A backtest session: one strategy on one market, run once or many times.

Steps of `BacktestSession.run`:
1. bind parameters and build the DAG and plan (`compiler.compile`);
2. evaluate signals per symbol over the whole loaded history, warm-up
   included (`compiler.evaluate.Evaluator`, one per symbol, kept between
   runs so an optimizer's trials reuse every unchanged node);
3. cut off the warm-up and run the compiled kernel on the traded range
   (`engine.kernel.simulate`);
4. measure (`engine.metrics.compute_metrics`).
Each step's wall time is recorded in `timings` (milliseconds).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.compile import Compiled, compile_strategy
from compiler.evaluate import Evaluator
from compiler.strategy import BoundStrategy, Strategy
from dsl.diagnostics import ManifestError
from engine.backtest.market import Market, load_market
from engine.backtest.settings import BacktestSettings
from engine.data.errors import DataError, NoDataError
from engine.data.ticks import infer_price_tick
from engine.data.timeparse import parse_date
from engine.data.wording import count
from engine.kernel.config import KernelConfig, Sizing
from engine.kernel.simulate import simulate
from engine.kernel.trades import SimResult
from engine.metrics import compute_metrics

__all__ = ["BacktestRun", "BacktestSession", "kernel_config", "open_session"]


@dataclass
class BacktestRun:
    strategy: Strategy
    compiled: Compiled
    market: Market                       # the traded range (warm-up cut off)
    result: SimResult
    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    signals: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def kernel_config(bound: BoundStrategy, settings: BacktestSettings, timeframe: str) -> KernelConfig:
    """The kernel's rules from a bound strategy and the run's account settings."""
    if bound.risk_per_trade is not None:
        sizing = Sizing.risk(bound.risk_per_trade)
    elif bound.stake_amount is not None:
        sizing = Sizing.amount(bound.stake_amount)
    else:
        sizing = Sizing.percent(bound.stake_percent or 100.0)
    return KernelConfig(
        timeframe=timeframe, fee=settings.fee, slippage_bps=settings.slippage_bps,
        stoploss=bound.stoploss, trailing=bound.trailing, roi=bound.roi,
        max_hold_minutes=bound.max_hold_minutes, sizing=sizing,
        max_open_positions=bound.strategy.sizing.max_open_positions,
        starting_balance=settings.balance, price_tick=settings.price_tick or 0.0,
        risk=settings.risk,   # a deployment's cap replaces the strategy's (docs/risk.md)
        exit_timeout_minutes=settings.exit_timeout_minutes, reserve_fees=settings.reserve_fees,
        roi_on_red_entry_candle=settings.roi_on_red_entry_candle,
    )


class BacktestSession:
    """Signals are evaluated on the whole loaded history (they are causal: a test proves no
    look-ahead), so any sub-range — a walk-forward fold — is a slice, not a re-evaluation."""

    def __init__(self, strategy: Strategy, market: Market, settings: BacktestSettings, start_index: int):
        self.strategy = strategy
        self.market = market
        self.settings = settings
        self.start = start_index
        if len(market.time) > 1 and not bool(np.all(market.time[1:] > market.time[:-1])):
            raise DataError("candle times must be strictly increasing; import the data with `superbot data import`")
        self.evaluators = {s: Evaluator(market.candles[s]) for s in market.symbols}
        self._prices = {f: market.stacked(f) for f in ("open", "high", "low", "close")}
        self.price_ticks = [settings.price_tick if settings.price_tick is not None
                            else infer_price_tick(market.candles[s].close) for s in market.symbols]

    @property
    def bars(self) -> int:
        return len(self.market.time)

    def signals(self, compiled: Compiled) -> dict[str, np.ndarray]:
        """[n_bars, n_symbols] boolean arrays over the whole loaded clock (False where no candle)."""
        per_symbol = [self.evaluators[s].signals(compiled) for s in self.market.symbols]
        if len(per_symbol) == 1:
            return {name: mask.reshape(-1, 1) for name, mask in per_symbol[0].items()}
        out = {}
        for name in per_symbol[0]:
            stacked = np.zeros((self.bars, len(per_symbol)), dtype=bool)
            for j, (symbol, sig) in enumerate(zip(self.market.symbols, per_symbol, strict=True)):
                stacked[self.market.rows[symbol], j] = sig[name]
            out[name] = stacked
        return out

    def simulate(self, compiled: Compiled, signals: dict[str, np.ndarray],
                 span: tuple[int, int] | None = None) -> SimResult:
        """The kernel over bars [a, b) of the loaded history (default: the traded range)."""
        a, b = span or (self.start, self.bars)
        config = kernel_config(compiled.bound, self.settings, self.market.timeframe)
        p = self._prices
        return simulate(self.market.time[a:b], p["open"][a:b], p["high"][a:b], p["low"][a:b], p["close"][a:b],
                        {k: v[a:b] for k, v in signals.items()}, config, self.market.symbols,
                        price_ticks=self.price_ticks, time_checked=True)

    def result(self, params: Mapping[str, Any] | None = None,
               span: tuple[int, int] | None = None) -> SimResult:
        """Only the simulation of one parameter set: what an optimizer trial needs, nothing more."""
        compiled = compile_strategy(self.strategy, params)
        return self.simulate(compiled, self.signals(compiled), span)

    def run(self, params: Mapping[str, Any] | None = None, *, span: tuple[int, int] | None = None,
            metrics: bool = True) -> BacktestRun:
        a, b = span or (self.start, self.bars)
        t0 = time.perf_counter()
        compiled = compile_strategy(self.strategy, params)
        t1 = time.perf_counter()
        signals = self.signals(compiled)
        t2 = time.perf_counter()
        result = self.simulate(compiled, signals, (a, b))
        t3 = time.perf_counter()
        closes = {s: self._prices["close"][a:b, j] for j, s in enumerate(self.market.symbols)}
        loaded = {s: self._prices["close"][:b, j] for j, s in enumerate(self.market.symbols)}
        measured = compute_metrics(result, closes, loaded_closes=loaded) if metrics else {}
        t4 = time.perf_counter()
        timings = dict(compile=(t1 - t0) * 1e3, evaluate=(t2 - t1) * 1e3, simulate=(t3 - t2) * 1e3,
                       metrics=(t4 - t3) * 1e3)
        traded = self.market.take(a, b)
        per_symbol = {}
        for i, s in enumerate(self.market.symbols):
            if s not in traded.rows:
                continue
            rows = traded.rows[s]
            # the usual case, a symbol with a candle on every clock row: views, not copies
            where = (slice(a + int(rows[0]), a + int(rows[-1]) + 1)
                     if len(rows) and rows[-1] - rows[0] == len(rows) - 1 else rows + a)
            per_symbol[s] = {k: v[where, i] for k, v in signals.items()}
        return BacktestRun(self.strategy, compiled, traded, result, measured, timings, per_symbol)

    def indicators(self, compiled: Compiled) -> dict[str, dict[str, np.ndarray]]:
        """Each DAG indicator's values on the traded range, per symbol (for reports)."""
        out: dict[str, dict[str, np.ndarray]] = {}
        for symbol, ev in self.evaluators.items():
            series: dict[str, np.ndarray] = {}
            for ind in compiled.plan.indicators:
                params = "_".join(f"{v:g}" for _, v in ind.params)
                label = f"{ind.func}{'_' + params if params else ''}"
                label += f".{ind.output}" if len(_outputs(ind.func)) > 1 else ""
                label += f"@{ind.timeframe}" if ind.timeframe != compiled.graph.timeframe else ""
                lo, hi = self.market.own_range(symbol, self.start, self.bars)
                series[label] = np.asarray(ev.series(ind))[lo:hi]
            out[symbol] = series
        return out


def _outputs(func: str) -> tuple[str, ...]:
    from compiler import indicators as reg
    return reg.REGISTRY[func].outputs


def _warmup(strategy: Strategy, overrides: Mapping[str, Any] | None) -> int:
    """Bars of history the strategy needs with any value its parameters may take.

    Sized for the defaults alone, an optimizer trial or a deployment override with
    a longer period would start with undefined indicators and quietly trade less.
    """
    base = {**strategy.defaults(), **(overrides or {})}
    candidates = [base]
    for name, p in strategy.params.items():
        values = list(p.choices) if p.kind == "choice" else [p.low, p.high] if p.kind in ("int", "float") else []
        candidates.extend({**base, name: v} for v in values)
    warmup = 0
    for candidate in candidates:
        try:
            warmup = max(warmup, compile_strategy(strategy, candidate).plan.warmup)
        except ManifestError:
            continue  # a value the checks already reject (e.g. a non-numeric choice)
    return warmup


def open_session(strategy: Strategy, settings: BacktestSettings,
                 overrides: Mapping[str, Any] | None = None) -> tuple[BacktestSession, float]:
    """Load the market the settings describe, with the warm-up before the first traded bar.

    With --from, history before it is loaded for the warm-up; without, trading starts
    once the warm-up has passed (as freqtrade does), so undefined indicators never count.
    Returns the load time in ms too.
    """
    t0 = time.perf_counter()
    warmup = _warmup(strategy, overrides)
    market = load_market(strategy.timeframe, settings.data, settings.symbols, settings.start, settings.end,
                         warmup, settings.gaps, settings.date_names)
    if settings.start:
        start_index = int(np.searchsorted(market.time, parse_date(settings.start), "left"))
    else:  # the first bar at which some symbol has its warm-up behind it
        start_index = min(int(market.rows[s][min(warmup, len(market.rows[s]) - 1)]) for s in market.symbols)
    if start_index >= len(market.time) - 1:
        raise NoDataError(f"no candles to trade: the data ({count(len(market.time), 'bar')}) does not reach past "
                          f"the {warmup}-bar warm-up"
                          f"{f' and {settings.date_names[0]} ' + settings.start if settings.start else ''}")
    return BacktestSession(strategy, market, settings, start_index), (time.perf_counter() - t0) * 1e3
