"""Execution plan: look-back per node, warm-up per timeframe, window length.

Steps:
1. look-back of each node in candles of its own timeframe, pushed from
   inputs to consumers (`_lookbacks`): TA-Lib's own look-back for an
   indicator, plus its inputs'; +n for `x[n]`; an input on another timeframe
   is converted through the close-time alignment rule (`_convert`).
2. warm-up of the strategy in execution candles (`Plan.warmup`): the first
   bar at which every signal is defined; a cross needs one bar more.
3. window length (`Plan.window`): warm-up plus the bars recursive indicators
   (EMA, RSI, ...) need to converge to within 1e-9 of their full-history value;
   None when an indicator is path-dependent (OBV, AD): then the window form
   keeps the whole history so it can never disagree with the history form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from compiler import indicators as reg
from compiler.graph import Graph
from compiler.terms import Comparison, Const, Crossing, Indicator, Lag, Logic, Predicate, Range, Term, series_children
from compiler.timeframes import timeframe_ms

__all__ = ["CONVERGENCE_PER_PERIOD", "Plan", "build_plan"]

# Bars per unit of period for an exponential/Wilder smoother's start-up error to fall
# below 1e-9 relative: (1 - 1/n)^(21 n) < e^-21 < 1e-9.
CONVERGENCE_PER_PERIOD = 21
_CONVERGENCE_NO_PERIOD = 600   # Hilbert-transform family: no period parameter
_PATH_DEPENDENT = {"obv", "ad", "adosc", "vwap"}
# Recursive (EMA-based) functions TA-Lib does not flag as having an unstable period.
_RECURSIVE = {"macd", "macdfix", "trix", "dema", "tema", "adxr", "stochrsi", "kdj", "ha"}
_RECURSIVE_MA_TYPES = {1, 3, 4, 6, 7, 8}  # EMA DEMA TEMA KAMA MAMA T3 (SMA, WMA, TRIMA are finite)


def _ratio(tf: str, base: str) -> int:
    return timeframe_ms(tf) // timeframe_ms(base)


def _convert(lookback: int, from_tf: str, to_tf: str) -> int:
    """Leading undefined candles of a `from_tf` series seen on `to_tf` candles (close-time rule)."""
    if from_tf == to_tf:
        return lookback
    ms_from, ms_to = timeframe_ms(from_tf), timeframe_ms(to_tf)
    return max(0, math.ceil((lookback + 1) * ms_from / ms_to) - 1)


@dataclass
class Plan:
    graph: Graph
    timeframe: str
    lookback: dict[Term, int] = field(default_factory=dict)       # own-timeframe candles
    convergence: dict[Term, int] = field(default_factory=dict)    # own-timeframe candles
    path_dependent: bool = False
    warmup: int = 0                                               # execution candles
    warmup_by_timeframe: dict[str, int] = field(default_factory=dict)
    window: int | None = 0                                        # execution candles

    @property
    def indicators(self) -> list[Indicator]:
        return [n for n in self.graph.order if isinstance(n, Indicator)]

    def describe(self) -> dict[str, object]:
        """What `superbot compile` prints."""
        return {
            "timeframe": self.timeframe,
            "timeframes": self.graph.timeframes,
            "indicators": [
                {"name": ind.func, "output": ind.output, "timeframe": ind.timeframe,
                 "params": {k: (int(v) if float(v).is_integer() else v) for k, v in ind.params},
                 "lookback": self.lookback[ind]}
                for ind in self.indicators
            ],
            "nodes": len(self.graph.order),
            "warmup_bars": self.warmup,
            "warmup_by_timeframe": self.warmup_by_timeframe,
            "window_bars": self.window,
            "path_dependent": self.path_dependent,
        }


def _own_lookback(node: Term) -> tuple[int, int]:
    """(look-back, convergence) a node adds on top of its inputs, in its own candles."""
    if isinstance(node, Lag):
        return node.bars, 0
    if not isinstance(node, Indicator):
        return 0, 0
    spec = reg.REGISTRY[node.func]
    params = dict(node.params)
    lookback = spec.lookback(params)
    convergence = 0
    recursive = spec.unstable or node.func in _RECURSIVE or any(
        "matype" in k and int(v) in _RECURSIVE_MA_TYPES for k, v in params.items())
    if recursive:
        periods = [v for k, v in params.items() if "period" in k]
        convergence = int(CONVERGENCE_PER_PERIOD * max(periods)) if periods else _CONVERGENCE_NO_PERIOD
    return max(lookback, 0), convergence


def _lookbacks(plan: Plan) -> None:
    for node in plan.graph.order:
        tf = node.timeframe  # type: ignore[union-attr]  # Graph.order holds no Const: Graph.finish drops them
        own, conv = _own_lookback(node)
        inputs = [c for c in series_children(node) if not isinstance(c, Const)]
        base = max((_convert(plan.lookback[c], c.timeframe, tf) for c in inputs), default=0)
        base_conv = max((_convert(plan.lookback[c] + plan.convergence[c], c.timeframe, tf)
                         - _convert(plan.lookback[c], c.timeframe, tf) for c in inputs), default=0)
        plan.lookback[node] = base + own
        plan.convergence[node] = base_conv + conv
        if isinstance(node, Indicator) and node.func in _PATH_DEPENDENT:
            plan.path_dependent = True


def _leaves(pred: Predicate) -> list[tuple[Term, int]]:
    """Series used by a predicate, with the extra execution bars each needs (crosses: 1)."""
    if isinstance(pred, Logic):
        return [leaf for item in pred.items for leaf in _leaves(item)]
    if isinstance(pred, Range):
        return [(pred.operand, 0), (pred.low, 0), (pred.high, 0)]
    extra = 1 if isinstance(pred, Crossing) else 0
    assert isinstance(pred, (Comparison, Crossing))
    return [(pred.left, extra), (pred.right, extra)]


def build_plan(graph: Graph) -> Plan:
    plan = Plan(graph, graph.timeframe)
    _lookbacks(plan)
    warmup = window = 0
    for pred in graph.signals.values():
        for term, extra in _leaves(pred):
            if isinstance(term, Const):
                continue
            tf = term.timeframe
            lb = _convert(plan.lookback[term], tf, graph.timeframe) + extra
            conv = _convert(plan.lookback[term] + plan.convergence[term], tf, graph.timeframe) + extra
            warmup, window = max(warmup, lb), max(window, conv)
    for node in graph.order:
        tf = node.timeframe  # type: ignore[union-attr]  # Graph.order holds no Const: Graph.finish drops them
        plan.warmup_by_timeframe[tf] = max(plan.warmup_by_timeframe.get(tf, 0), plan.lookback[node])
    plan.warmup = warmup
    # + one largest-timeframe candle: a window may start inside it, and that partial candle is dropped
    largest = max((_ratio(tf, graph.timeframe) for tf in plan.warmup_by_timeframe), default=1)
    plan.window = None if plan.path_dependent else window + 2 * largest + 1
    return plan

