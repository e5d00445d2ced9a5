"""Objectives: what a trial maximizes, computed as cheaply as the objective allows.

A trial can cost about a millisecond, so the named objectives compute only
what they need from the equity curve and the trades; an expression over
metrics (`sharpe * 0.5 + profit_factor`) goes through the same grammar as
conditions (never `eval`) and uses the full metrics.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsl import ast
from dsl.errors import UserError
from dsl.parse import ParseError, parse_expr
from engine.kernel.trades import SimResult
from engine.metrics import compute_metrics
from engine.metrics._curve import curve_pass
from engine.metrics.returns import ZERO_DEVIATION, annualized_return, periods_per_year

__all__ = ["NAMED", "Objective", "ObjectiveError", "make_objective"]


class ObjectiveError(UserError, ValueError):
    """The objective is not a known name or a valid expression over metrics."""


def _fast_ratio(r: SimResult, downside: bool) -> float:
    """Sharpe or Sortino from one compiled pass over the equity (no curve, no returns array)."""
    mean, std, dd, n = curve_pass(np.asarray(r.equity, dtype=np.float64), float(r.starting_balance))[:4]
    deviation = dd if downside else std
    if n < 2 or not deviation > ZERO_DEVIATION:
        return float("nan")
    return mean / deviation * math.sqrt(periods_per_year(r.timeframe))


def _profit(r: SimResult) -> float:
    return float(r.equity[-1] / r.starting_balance - 1.0) if len(r.equity) else float("nan")


def _calmar(r: SimResult) -> float:
    depth = curve_pass(np.asarray(r.equity, dtype=np.float64), float(r.starting_balance))[4]
    annual = annualized_return(_profit(r), len(r.equity), periods_per_year(r.timeframe))
    return annual / depth if depth > 0 else float("nan")


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
    "profit_factor": _profit_factor,
    "expectancy": lambda r: float(r.trades.profit_abs.mean()) if len(r.trades) else float("nan"),
}


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
        """The value to maximize; -inf when the trial has too few trades or no defined value."""
        if len(result.trades) < self.min_trades:
            return float("-inf")
        value = self.fn(result)
        return value if np.isfinite(value) else float("-inf")


def make_objective(text: str, min_trades: int = 0) -> Objective:
    name = text.strip()
    if name in NAMED:
        return Objective(name, NAMED[name], min_trades)
    try:
        tree = parse_expr(name)
    except ParseError as exc:
        raise ObjectiveError(f"objective '{text}' is neither one of {', '.join(NAMED)} nor an expression "
                             f"over metrics ({exc})") from None
    names = sorted({n.ident for n in ast.walk(tree) if isinstance(n, ast.Name)})
    for node in ast.walk(tree):
        if isinstance(node, (ast.Call, ast.ParamRef, ast.At, ast.Shift)):
            raise ObjectiveError(f"objective '{text}': use metric names, numbers and + - * / only")

    def evaluate(result: SimResult) -> float:
        metrics = compute_metrics(result)
        unknown = [n for n in names if n not in metrics]
        if unknown:
            numeric = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)))
            raise ObjectiveError(f"objective '{text}': unknown metric '{unknown[0]}'; metrics: "
                                 + ", ".join(numeric))
        return _evaluate(tree, metrics)

    return Objective(name, evaluate, min_trades)
