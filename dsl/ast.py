"""Typed AST of the condition language.

The list form (`['rsi_14', '<', 30, '15m']`) and the string form
(`'rsi_14@15m < 30'`) meet here: both become these frozen dataclasses.
Positions are kept for error messages but excluded from equality, so two
spellings of one condition compare equal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Pos

__all__ = [
    "All",
    "AnyOf",
    "At",
    "Between",
    "BinOp",
    "Call",
    "Compare",
    "Cond",
    "Cross",
    "Expr",
    "Kwarg",
    "Name",
    "Neg",
    "Not",
    "Num",
    "ParamRef",
    "Shift",
    "walk",
]

_NOPOS = Pos(0, 0)


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ParamRef:
    """`$name`: a strategy parameter, bound to a number when the plan is built."""

    name: str
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A bare identifier: an OHLCV column, a derived price or an indicator shorthand."""

    ident: str
    output: str | None = None
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Kwarg:
    name: str
    value: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    """`ema(hl2, 50)`, `bbands(close, timeperiod=20).upper`."""

    func: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[Kwarg, ...] = ()
    output: str | None = None
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Shift:
    """`close[1]`: the value `bars` candles ago, on the operand's own timeframe."""

    operand: Expr
    bars: int
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class At:
    """`rsi_14@1h`: compute the operand on another timeframe's candles."""

    operand: Expr
    timeframe: str
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


Expr = Num | ParamRef | Name | Call | BinOp | Neg | Shift | At


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Cross:
    """`a crosses_above b`: a > b now and a <= b on the previous bar."""

    direction: str  # "above" | "below"
    left: Expr
    right: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Between:
    """`lo <= operand <= hi`, inclusive at both ends."""

    operand: Expr
    low: Expr
    high: Expr
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Cond, ...]
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Cond, ...]
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Cond
    pos: Pos = field(default=_NOPOS, compare=False, repr=False)


Cond = Compare | Cross | Between | All | AnyOf | Not


def walk(node: object):  # type: ignore[no-untyped-def]
    """Every AST node below and including `node`, parents first."""
    yield node
    if isinstance(node, (All, AnyOf)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)
    elif isinstance(node, (Compare, Cross, BinOp)):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Between):
        yield from walk(node.operand)
        yield from walk(node.low)
        yield from walk(node.high)
    elif isinstance(node, (Neg, Shift, At)):
        yield from walk(node.operand)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)
        for kw in node.kwargs:
            yield from walk(kw.value)
