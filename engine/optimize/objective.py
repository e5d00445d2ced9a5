"""Objectives: what a trial maximizes, computed as cheaply as the objective allows.

A trial can cost about a millisecond, so the named objectives compute only
what they need from the equity curve and the trades (a Sharpe reads the
return moments, never the drawdowns); an expression over metrics
(`sharpe * 0.5 + profit_factor`) goes through the same grammar as conditions
(never `eval`) and uses the full metrics, its names checked before the first
trial.

A value must rank trials, so "infinitely good" is a large finite number
(`VALUE_CAP`), never +inf: Optuna and a `max()` would otherwise have to
special-case it, and the metrics' JSON form turns inf into null, which used
to rank a huge winner (an annualized return that overflows a float) last.
Undefined values (NaN: no trade, zero deviation) rank last as -inf.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import ast
from dsl.errors import UserError
from dsl.parse import ParseError, parse_expr
from dsl.suggest import did_you_mean
from engine.kernel.trades import SimResult
from engine.metrics import compute_metrics
from engine.metrics._curve import curve_pass, return_moments
from engine.metrics.returns import ZERO_DEVIATION, periods_per_year

__all__ = ["NAMED", "VALUE_CAP", "Objective", "ObjectiveError", "make_objective", "metric_names"]

VALUE_CAP = 1e300  # "infinitely good" (no losing trade, no drawdown, overflowing growth): ranks first
# keys of the metrics that describe the run's set-up, not its performance
_NOT_METRICS = frozenset({"metrics_version", "periods_per_year", "starting_balance", "n_bars"})


class ObjectiveError(UserError, ValueError):
    """The objective is not a known name or a valid expression over metrics."""


def _fast_ratio(r: SimResult, downside: bool) -> float:
    """Sharpe or Sortino from the return moments alone: one compiled pass, no drawdown scan."""
    mean, std, dd, n = return_moments(np.asarray(r.equity, dtype=np.float64), float(r.starting_balance))
    deviation = dd if downside else std
    if n < 2 or not deviation > ZERO_DEVIATION:
        return float("nan")
    return float(mean / deviation * math.sqrt(periods_per_year(r.timeframe)))


def _profit(r: SimResult) -> float:
    return float(r.equity[-1] / r.starting_balance - 1.0) if len(r.equity) else float("nan")


def _annualized(r: SimResult) -> float:
    """Compound annual growth computed in log space: VALUE_CAP where `(1 + total) ** k` overflows.

    A year of growth extrapolated from a short, very profitable fold exceeds a
    float; it must still rank above a smaller winner, so it is capped, not inf.
    """
    n = len(r.equity)
    if n == 0:
        return float("nan")
    growth = 1.0 + _profit(r)
    if not growth > 0.0:
        return -1.0 if growth <= 0.0 else float("nan")  # wiped out
    exponent = math.log(growth) * periods_per_year(r.timeframe) / n
    return VALUE_CAP if exponent > math.log(VALUE_CAP) else math.expm1(exponent)


def _calmar(r: SimResult) -> float:
    annual = _annualized(r)
    depth = float(curve_pass(np.asarray(r.equity, dtype=np.float64), float(r.starting_balance))[4])
    if depth > 0:
        return min(annual / depth, VALUE_CAP)
    return VALUE_CAP if annual > 0 else float("nan")  # growth without any drawdown


PROFIT_FACTOR_CAP = 1e6  # no losing trade: the best possible profit factor, and finite for Optuna


def _profit_factor(r: SimResult) -> float:
    p = r.trades.profit_abs
    loss = -p[p < 0].sum()
    gain = p[p > 0].sum()
    if loss > 0:
        return min(float(gain / loss), PROFIT_FACTOR_CAP)
    return PROFIT_FACTOR_CAP if gain > 0 else float("nan")


NAMED: dict[str, Callable[[SimResult], float]] = {
    "sharpe": lambda r: _fast_ratio(r, downside=False),
    "sortino": lambda r: _fast_ratio(r, downside=True),
    "calmar": _calmar,
    "profit": _profit,
    "annualized_return": _annualized,
    "profit_factor": _profit_factor,
    "expectancy": lambda r: float(r.trades.profit_abs.mean()) if len(r.trades) else float("nan"),
}
# metric keys an expression may use through a NAMED function (same meaning, capped values)
_SAME_AS_METRIC = {"profit": "total_return"}


@functools.cache
def metric_names() -> tuple[str, ...]:
    """The numeric metrics an objective expression may use (those of `compute_metrics`).

    Read from the metrics of a tiny flat run, so the list cannot drift from
    what `compute_metrics` returns.
    """
    from engine.kernel.config import KernelConfig
    from engine.kernel.simulate import simulate
    bars = np.full(3, 100.0)
    result = simulate(np.arange(3, dtype=np.int64) * 3_600_000, bars, bars, bars, bars, None,
                      KernelConfig(timeframe="1h"))
    metrics = compute_metrics(result)
    return tuple(sorted(k for k, v in metrics.items()
                        if k not in _NOT_METRICS and (v is None or isinstance(v, (int, float)))
                        and not isinstance(v, bool)))


def _evaluate(node: ast.Expr, metrics: Mapping[str, Any]) -> float:
    if isinstance(node, ast.Num):
        return float(node.value)
    if isinstance(node, ast.Name):
        value = metrics.get(node.ident)
        return float(value) if isinstance(value, (int, float)) and value is not None else float("nan")
    if isinstance(node, ast.Neg):
        return -_evaluate(node.operand, metrics)
    if isinstance(node, ast.BinOp):
        a, b = _evaluate(node.left, metrics), _evaluate(node.right, metrics)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        return a / b if b else float("nan")
    raise ObjectiveError(f"objective expressions use metric names, numbers and + - * / only, not {node!r}")


@dataclass(frozen=True)
class Objective:
    text: str
    fn: Callable[[SimResult], float]
    min_trades: int = 0

    def __call__(self, result: SimResult) -> float:
        """The value to maximize: -inf for too few trades or no defined value, +inf capped."""
        if len(result.trades) < self.min_trades:
            return float("-inf")
        value = self.fn(result)
        if value > VALUE_CAP:
            return VALUE_CAP
        return value if value == value and value != float("-inf") else float("-inf")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its text (a worker process rebuilds it): `fn` may be a closure."""
        return (make_objective, (self.text, self.min_trades))


def _choices() -> str:
    return ", ".join(NAMED)


def make_objective(text: str, min_trades: int = 0) -> Objective:
    """A named objective, or an expression over metric names checked here, before any trial runs."""
    name = text.strip()
    if name in NAMED:
        return Objective(name, NAMED[name], min_trades)
    try:
        tree = parse_expr(name)
    except ParseError as exc:
        raise ObjectiveError(f"objective '{text}' is neither one of {_choices()} nor an expression "
                             f"over metrics ({exc})", hint=did_you_mean(name, [*NAMED, *metric_names()])) from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Call, ast.ParamRef, ast.At, ast.Shift)):
            raise ObjectiveError(f"objective '{text}': use metric names, numbers and + - * / only")
    names = sorted({n.ident for n in ast.walk(tree) if isinstance(n, ast.Name)})
    known = metric_names()
    for unknown in (n for n in names if n not in known and n not in NAMED):
        hint = did_you_mean(unknown, [*NAMED, *known]) or f"metrics: {', '.join(known)}"
        raise ObjectiveError(f"objective '{text}': '{unknown}' is neither an objective ({_choices()}) "
                             "nor a metric", hint=hint)
    own = {n: NAMED[n] for n in names if n in NAMED}

    def evaluate(result: SimResult) -> float:
        metrics = dict(compute_metrics(result))
        for n, fn in own.items():  # same meaning, but capped instead of inf/null (see the docstring)
            metrics[n] = fn(result)
        return _evaluate(tree, metrics)

    return Objective(name, evaluate, min_trades)
