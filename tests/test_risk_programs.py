"""The compiled rule programs agree with the expression they come from, on any term values.

A rule's `when` is parsed to the AST, compiled to postfix code (compiler/risk.py)
and run by the kernel's stack machine (engine/kernel/risk.py `_run`); here a
plain recursive interpreter of the same AST is the reference.
"""
from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.risk import PORTFOLIO_TERMS, RiskPolicy, compile_rule
from dsl import ast
from dsl.parse import parse_condition_text
from engine.kernel.risk import N_RS, RS_TERMS, _run, new_risk_state, pack_risk


def _value(node: Any, terms: dict[str, float]) -> float:
    if isinstance(node, ast.Num):
        return float(node.value)
    if isinstance(node, ast.Name):
        return terms[node.ident]
    if isinstance(node, ast.Neg):
        return -_value(node.operand, terms)
    if isinstance(node, ast.BinOp):
        a, b = _value(node.left, terms), _value(node.right, terms)
        if node.op == "/":
            if b == 0.0:
                return math.nan if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        return {"+": a + b, "-": a - b, "*": a * b}[node.op]
    raise TypeError(type(node).__name__)


def _truth(node: Any, terms: dict[str, float]) -> bool:
    if isinstance(node, ast.Compare):
        a, b = _value(node.left, terms), _value(node.right, terms)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[node.op]
    if isinstance(node, ast.Between):
        x = _value(node.operand, terms)
        return _value(node.low, terms) <= x <= _value(node.high, terms)
    if isinstance(node, ast.All):
        return all(_truth(i, terms) for i in node.items)
    if isinstance(node, ast.AnyOf):
        return any(_truth(i, terms) for i in node.items)
    if isinstance(node, ast.Not):
        return not _truth(node.item, terms)
    raise TypeError(type(node).__name__)


def _kernel(when: str, terms: dict[str, float]) -> bool:
    policy = RiskPolicy(rules=(compile_rule(when, "alert"),))
    rp, rs = pack_risk(policy), new_risk_state(policy, 1.0)
    for k, name in enumerate(PORTFOLIO_TERMS):
        rs[RS_TERMS + k] = terms[name]
    return bool(_run(rp, 0, rs, N_RS + 1))


_NUMBERS = st.sampled_from(["0", "1", "2", "0.5", "0.15", "3", "1e-3", "-0.03"])
_ATOMS = st.one_of(st.sampled_from(PORTFOLIO_TERMS), _NUMBERS)


def _exprs() -> st.SearchStrategy[str]:
    return st.recursive(_ATOMS, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"-({e})")), max_leaves=4)


def _conds() -> st.SearchStrategy[str]:
    compare = st.tuples(_exprs(), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), _exprs()).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}")
    between = st.tuples(_exprs(), _exprs(), _exprs()).map(lambda t: f"{t[0]} between [{t[1]}, {t[2]}]")
    return st.recursive(st.one_of(compare, between), lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda c: f"not ({c})"),
        inner.map(lambda c: f"({c})")), max_leaves=4)


_TERM_VALUES = st.fixed_dictionaries({name: st.sampled_from([0.0, 1.0, 2.0, 0.15, 0.5, -0.03, 3.0, 5.0])
                                      for name in PORTFOLIO_TERMS})


@settings(max_examples=300, deadline=None)
@given(when=_conds(), terms=_TERM_VALUES)
def test_risk_program_equals_the_expression(when: str, terms: dict[str, float]) -> None:
    if not any(name in when for name in PORTFOLIO_TERMS):
        when = f"({when}) or drawdown > 100"   # a rule must read a term
    cond = parse_condition_text(when)

    assert _kernel(when, terms) == _truth(cond, terms), when


def test_risk_program_precedence_follows_the_grammar() -> None:
    """2 + 3 * drawdown with drawdown 2 is 8 (not 10); not binds tighter than and."""
    terms = dict.fromkeys(PORTFOLIO_TERMS, 0.0) | {"drawdown": 2.0}

    assert _kernel("2 + 3 * drawdown == 8", terms)
    assert not _kernel("2 + 3 * drawdown == 10", terms)
    assert _kernel("not drawdown > 5 and drawdown > 1", terms)


def test_risk_program_division_by_zero_is_never_true() -> None:
    """0 / 0 is undefined: every comparison with it is false, so the rule does not fire."""
    terms = dict.fromkeys(PORTFOLIO_TERMS, 0.0)

    assert not _kernel("drawdown / open_positions > 0.1", terms)
    assert not _kernel("drawdown / open_positions <= 0.1", terms)
    assert _kernel("exposure + 1 / open_positions > 1000", terms)   # 1 / 0 = inf
