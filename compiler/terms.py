"""Resolved terms: the AST with names looked up, parameters bound and timeframes fixed.

Each term is a frozen, hashable value whose equality is structural, so equal
terms are the same node of the indicator DAG (`compiler.graph` interns them).
Every series term carries the timeframe it is computed on.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arith",
    "Column",
    "Comparison",
    "Const",
    "Crossing",
    "Indicator",
    "Lag",
    "Logic",
    "Negate",
    "Predicate",
    "Range",
    "Term",
    "series_children",
]


@dataclass(frozen=True, slots=True)
class Const:
    value: float


@dataclass(frozen=True, slots=True)
class Column:
    name: str          # open high low close volume
    timeframe: str


@dataclass(frozen=True, slots=True)
class Indicator:
    func: str
    inputs: tuple[Term, ...]
    params: tuple[tuple[str, float], ...]
    output: str
    timeframe: str


@dataclass(frozen=True, slots=True)
class Arith:
    op: str
    left: Term
    right: Term
    timeframe: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Term
    timeframe: str


@dataclass(frozen=True, slots=True)
class Lag:
    operand: Term
    bars: int
    timeframe: str


Term = Const | Column | Indicator | Arith | Negate | Lag


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str
    left: Term
    right: Term


@dataclass(frozen=True, slots=True)
class Crossing:
    direction: str  # above | below
    left: Term
    right: Term


@dataclass(frozen=True, slots=True)
class Range:
    operand: Term
    low: Term
    high: Term


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # all | any | not
    items: tuple[Predicate, ...]


Predicate = Comparison | Crossing | Range | Logic


def series_children(term: Term) -> tuple[Term, ...]:
    if isinstance(term, Indicator):
        return term.inputs
    if isinstance(term, Arith):
        return (term.left, term.right)
    if isinstance(term, (Negate, Lag)):
        return (term.operand,)
    return ()
