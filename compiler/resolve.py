"""AST -> resolved terms: look up names in the registry, bind `$params`, fix timeframes.

Resolution is where most semantic errors are found (unknown indicator,
output or parameter, wrong arity, out-of-range values, bad timeframes); each
is reported at the position of the offending text and resolution goes on, so
one pass finds every problem of a condition.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler import indicators as reg
from compiler.terms import (
    Arith,
    Column,
    Comparison,
    Const,
    Crossing,
    Indicator,
    Lag,
    Logic,
    Negate,
    Predicate,
    Range,
    Term,
)
from compiler.timeframes import timeframe_error
from dsl import ast
from dsl.diagnostics import Collector, Pos
from dsl.suggest import closest, did_you_mean

__all__ = ["MAX_SHIFT", "Scope", "resolve_condition", "resolve_expr", "split_shorthand"]

MAX_SHIFT = 100_000  # `close[n]`: about a year of 5m bars; more would only lengthen the warm-up past any data


@dataclass
class Scope:
    """What names mean while resolving one strategy."""

    timeframe: str                       # execution timeframe
    params: Mapping[str, Any]            # bound parameter values
    out: Collector
    path: str = ""
    used_params: set[str] = field(default_factory=set)


def split_shorthand(ident: str) -> tuple[str, list[int]]:
    """`plus_di_14` -> ('plus_di', [14]); `bbands_20_2_2` -> ('bbands', [20, 2, 2])."""
    parts = ident.split("_")
    values: list[int] = []
    while len(parts) > 1 and parts[-1].isascii() and parts[-1].isdigit() and len(parts[-1]) <= 18:
        values.insert(0, int(parts.pop()))
    return "_".join(parts).lower(), values


def _is_scalar(expr: ast.Expr) -> bool:
    if isinstance(expr, (ast.Num, ast.ParamRef)):
        return True
    return isinstance(expr, ast.Neg) and _is_scalar(expr.operand)


class _Resolver:
    def __init__(self, scope: Scope):
        self.s = scope

    def err(self, pos: Pos, code: str, message: str, hint: str | None = None) -> None:
        self.s.out.error(pos, code, message, hint, self.s.path)

    # -- scalars -------------------------------------------------------------------------
    def scalar(self, expr: ast.Expr) -> float | None:
        if isinstance(expr, ast.Num):
            value = float(expr.value)
            if not math.isfinite(value):
                self.err(expr.pos, "C015", f"the number {expr.value!r} is not finite",
                         "compare with a finite number, e.g. 1e9 (a YAML .inf, .nan or 1e400 is not one)")
                return None
            return value
        if isinstance(expr, ast.Neg):
            inner = self.scalar(expr.operand)
            return None if inner is None else -inner
        if isinstance(expr, ast.ParamRef):
            self.s.used_params.add(expr.name)
            if expr.name not in self.s.params:
                self.err(expr.pos, "C004", f"unknown parameter '${expr.name}'",
                         self._param_hint(expr.name))
                return None
            value = self.s.params[expr.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.err(expr.pos, "C004", f"parameter '${expr.name}' is {value!r}, not a number",
                         "give the parameter a numeric default and range")
                return None
            return float(value)
        return None

    def _param_hint(self, name: str) -> str:
        hint = did_you_mean(name, list(self.s.params))
        if hint:
            return hint.replace("'", "'$", 1)
        return "declare it under spec.params"

    # -- series --------------------------------------------------------------------------
    def expr(self, expr: ast.Expr, tf: str) -> Term | None:
        if isinstance(expr, (ast.Num, ast.ParamRef)):
            value = self.scalar(expr)
            return None if value is None else Const(value)
        if isinstance(expr, ast.Neg):
            if _is_scalar(expr):
                value = self.scalar(expr)
                return None if value is None else Const(value)
            inner = self.expr(expr.operand, tf)
            return None if inner is None else Negate(inner, tf)
        if isinstance(expr, ast.BinOp):
            left, right = self.expr(expr.left, tf), self.expr(expr.right, tf)
            if left is None or right is None:
                return None
            if isinstance(left, Const) and isinstance(right, Const):
                folded = _fold(expr.op, left.value, right.value)
                if not math.isfinite(folded.value):  # `1 / 0`, `1e308 * 10`: no comparison means anything
                    self.err(expr.pos, "C015", "this constant arithmetic has no finite value",
                             "compute the number yourself and write it, finite and without dividing by 0")
                    return None
                return folded
            return Arith(expr.op, left, right, tf)
        if isinstance(expr, ast.Shift):
            if expr.bars > MAX_SHIFT:
                self.err(expr.pos, "C015", f"[{expr.bars}] looks back more bars than SuperBot keeps",
                         f"a look-back is 0 to {MAX_SHIFT} bars of the term's timeframe")
                return None
            inner = self.expr(expr.operand, tf)
            if inner is None:
                return None
            if isinstance(inner, Const) or expr.bars == 0:
                return inner
            # bars of the operand's own timeframe: `rsi_14@1h[1]` is the previous 1h value
            return Lag(inner, expr.bars, getattr(inner, "timeframe", tf))
        if isinstance(expr, ast.At):
            problem = timeframe_error(expr.timeframe, self.s.timeframe)
            if problem:
                self.err(expr.pos if expr.pos.line else expr.operand.pos, "T001", *problem)
                return None
            return self.expr(expr.operand, expr.timeframe)
        if isinstance(expr, ast.Name):
            return self.name(expr, tf)
        if isinstance(expr, ast.Call):
            return self.call(expr, tf)
        self.err(getattr(expr, "pos", Pos(1, 1)), "C000", f"unsupported expression {expr!r}")
        return None

    def name(self, expr: ast.Name, tf: str) -> Term | None:
        ident = expr.ident.lower()
        if ident in reg.COLUMNS or ident in reg.DERIVED_PRICES:
            if expr.output:
                self.err(expr.pos, "C002", f"'{ident}' has no outputs to select ('.{expr.output}')",
                         f"write {ident} without '.{expr.output}'")
                return None
            return _price(ident, tf)
        name, values = split_shorthand(expr.ident)
        spec = reg.get(name)
        if spec is None:
            self.err(expr.pos, "C001", f"unknown indicator '{expr.ident}'", self._indicator_hint(name, values))
            return None
        if len(values) > len(spec.params):
            self.err(expr.pos, "C003",
                     f"{spec.name} takes {len(spec.params)} parameter{'s' if len(spec.params) != 1 else ''}"
                     f"{' (' + ', '.join(p.name for p in spec.params) + ')' if spec.params else ''}"
                     f", {len(values)} were given",
                     f"write {spec.name}" + "".join(f"_{p.default:g}" for p in spec.params) if spec.params
                     else f"write {spec.name}")
            return None
        if spec.explicit_inputs:
            self.err(expr.pos, "C003", f"{spec.name} needs explicit inputs ({', '.join(spec.inputs)})",
                     f"use the function form, e.g. {spec.name}({', '.join(spec.inputs)})")
            return None
        params = {p.name: float(v) for p, v in zip(spec.params, values, strict=False)}  # trailing ones default
        return self.indicator(spec, [], params, expr.output, expr.pos, tf, expr.ident)

    def _indicator_hint(self, name: str, values: list[int]) -> str:
        suffix = "".join(f"_{v}" for v in values)
        found = closest(name, reg.names() + list(reg.COLUMNS) + list(reg.DERIVED_PRICES))
        if found:
            return f"did you mean '{found[0]}{suffix if reg.get(found[0]) else ''}'?"
        return "see `superbot indicators` for the list of indicators"

    def call(self, expr: ast.Call, tf: str) -> Term | None:
        spec = reg.get(expr.func)
        if spec is None:
            self.err(expr.pos, "C001", f"unknown indicator '{expr.func}'",
                     self._indicator_hint(expr.func, []))
            return None
        args = list(expr.args)
        series_args: list[ast.Expr] = []
        while args and not _is_scalar(args[0]):
            series_args.append(args.pop(0))
        if series_args and len(series_args) != len(spec.inputs):
            self.err(expr.pos, "C003",
                     f"{spec.name} takes {len(spec.inputs)} input series ({', '.join(spec.inputs)}), "
                     f"{len(series_args)} were given",
                     f"write {spec.name}({', '.join(spec.inputs)}, ...) or leave the inputs out")
            return None
        if not series_args and spec.explicit_inputs:
            self.err(expr.pos, "C003", f"{spec.name} needs explicit inputs ({', '.join(spec.inputs)})",
                     f"write {spec.name}({', '.join(spec.inputs)}, ...)")
            return None
        if len(args) > len(spec.params):
            extra = args[len(spec.params)]
            self.err(getattr(extra, "pos", expr.pos), "C003",
                     f"{spec.name} takes {len(spec.params)} parameter{'s' if len(spec.params) != 1 else ''}"
                     f", {len(args)} were given",
                     "parameters: " + (", ".join(p.name for p in spec.params) or "none"))
            return None
        params: dict[str, float] = {}
        ok = True
        for p, arg in zip(spec.params, args, strict=False):  # fewer args than params: the rest default
            if not _is_scalar(arg):
                self.err(arg.pos, "C003", f"parameter {p.name} of {spec.name} must be a number or $param",
                         "series inputs come first, then numeric parameters")
                ok = False
                continue
            value = self.scalar(arg)
            ok &= value is not None
            if value is not None:
                params[p.name] = value
        for kw in expr.kwargs:
            kp = spec.param(kw.name.lower())
            if kp is None:
                self.err(kw.pos, "C005", f"{spec.name} has no parameter '{kw.name}'",
                         did_you_mean(kw.name, [q.name for q in spec.params])
                         or "parameters: " + (", ".join(q.name for q in spec.params) or "none"))
                ok = False
                continue
            if kp.name in params:
                self.err(kw.pos, "C005", f"parameter '{kp.name}' of {spec.name} is given twice",
                         "give each parameter once")
                ok = False
                continue
            if not _is_scalar(kw.value):
                self.err(kw.value.pos, "C003", f"parameter {kp.name} of {spec.name} must be a number or $param")
                ok = False
                continue
            value = self.scalar(kw.value)
            ok &= value is not None
            if value is not None:
                params[kp.name] = value
        inputs: list[Term] = []
        for arg in series_args:
            term = self.expr(arg, tf)
            ok &= term is not None
            if term is not None:
                inputs.append(term)
        if not ok:
            return None
        return self.indicator(spec, inputs, params, expr.output, expr.pos, tf)

    def indicator(self, spec: reg.IndicatorSpec, inputs: list[Term], given: dict[str, float],
                  selector: str | None, pos: Pos, tf: str, written: str | None = None) -> Term | None:
        output = spec.output(selector)
        if output is None:
            choices = ", ".join(spec.output_choices())
            if selector is None:
                self.err(pos, "C002", f"{spec.name} has several outputs; select one of: {choices}",
                         f"write e.g. {written or spec.name + '(...)'}."
                         f"{spec.output_choices()[-1] if spec.aliases else spec.outputs[0]}")
            else:
                self.err(pos, "C002", f"{spec.name} has no output '{selector}'",
                         did_you_mean(selector, spec.output_choices()) or f"outputs: {choices}")
            return None
        bad = False
        for p in spec.params:
            if p.name in given:
                problem = spec.value_error(p, given[p.name])
                if problem:
                    self.err(pos, "C006", f"{spec.name}: {problem}",
                             f"the default is {p.default:g}")
                    bad = True
        if bad:
            return None
        params = {p.name: float(given.get(p.name, p.default)) for p in spec.params}
        if not inputs:
            inputs = [_price(name, tf) for name in spec.inputs]
        return Indicator(spec.name, tuple(inputs), tuple(params.items()), output, tf)


def _price(name: str, tf: str) -> Term:
    if name in reg.COLUMNS:
        return Column(name, tf)
    parts = [Column(c, tf) for c in reg.DERIVED_PRICES[name]]
    total: Term = parts[0]
    for part in parts[1:]:
        total = Arith("+", total, part, tf)
    return Arith("/", total, Const(float(len(parts))), tf)


def _fold(op: str, a: float, b: float) -> Const:
    if op == "+":
        return Const(a + b)
    if op == "-":
        return Const(a - b)
    if op == "*":
        return Const(a * b)
    return Const(a / b if b else float("nan"))


def resolve_expr(expr: ast.Expr, scope: Scope) -> Term | None:
    return _Resolver(scope).expr(expr, scope.timeframe)


def resolve_condition(cond: ast.Cond, scope: Scope) -> Predicate | None:
    """A resolved predicate, or None when errors were reported to `scope.out`."""
    r = _Resolver(scope)

    def go(node: ast.Cond) -> Predicate | None:
        if isinstance(node, (ast.All, ast.AnyOf)):
            items = [go(item) for item in node.items]
            if any(i is None for i in items):
                return None
            return Logic("all" if isinstance(node, ast.All) else "any", tuple(items))  # type: ignore[arg-type]
        if isinstance(node, ast.Not):
            inner = go(node.item)
            return None if inner is None else Logic("not", (inner,))
        if isinstance(node, ast.Between):
            parts = [r.expr(e, scope.timeframe) for e in (node.operand, node.low, node.high)]
            if any(p is None for p in parts):
                return None
            return Range(*parts)  # type: ignore[arg-type]
        left, right = r.expr(node.left, scope.timeframe), r.expr(node.right, scope.timeframe)
        if left is None or right is None:
            return None
        if isinstance(left, Const) and isinstance(right, Const):
            scope.out.warning(node.pos, "W002", "this condition compares two constants",
                              "one side should be a price or an indicator", scope.path)
        if isinstance(node, ast.Cross):
            return Crossing(node.direction, left, right)
        return Comparison(node.op, left, right)

    return go(cond)
