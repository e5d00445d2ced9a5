"""Kernel configuration: the risk rules, costs and sizing one simulation runs with.

Frozen and keyword-only so a run is reproducible from its config alone; `id`
is a content hash the results store can key on. Every validation error says
what was found and what to write instead, because the values usually come
from a user's YAML (the compiler maps `spec.risk` / `spec.sizing` onto this).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from itertools import pairwise
from typing import Any

from compiler.risk import RiskPolicy
from compiler.timeframes import MINUTE_MS, TIMEFRAMES, timeframe_ms
from dsl.errors import UserError

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_EXIT_TIMEOUT_MINUTES",
    "DEFAULT_FEE",
    "EndOfDataPrice",
    "KernelConfig",
    "KernelConfigError",
    "Sizing",
    "SizingMode",
    "StopGapFill",
]


# Defaults shared by the kernel, the backtest settings and the CLI options (defined here only).
DEFAULT_FEE = 0.001                  # per side, a common spot taker fee (freqtrade's tests use it too)
DEFAULT_BALANCE = 10_000.0           # quote currency at the start
DEFAULT_EXIT_TIMEOUT_MINUTES = 10.0  # freqtrade's sample configs: unfilledtimeout.exit = 10 minutes


class KernelConfigError(UserError, ValueError):
    """The kernel configuration is invalid: fix the value the message names."""


class SizingMode(StrEnum):
    PERCENT = "percent"   # value: percent of equity (0 < v <= 100)
    AMOUNT = "amount"     # value: fixed quote amount (> 0)
    RISK = "risk"         # value: fraction of equity lost when the stop fills (0 < v < 1)


class StopGapFill(StrEnum):
    """Where a stop fills when price is already beyond it.

    CANDLE (default, freqtrade): at the open only when the whole candle is
    beyond the stop (long: stop > high), otherwise at the stop price.
    OPEN (conservative): at the open whenever the candle opens beyond the stop.
    """

    CANDLE = "candle"
    OPEN = "open"


class EndOfDataPrice(StrEnum):
    """Price at which positions still open at the end of the data are closed.

    OPEN (default, freqtrade's `force_exit`): the open of the symbol's last candle.
    CLOSE: the close of the symbol's last candle.
    """

    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True, kw_only=True)
class Sizing:
    """How much quote currency an entry commits.

    `Sizing.percent(10)`: 10 % of equity, `Sizing.amount(100)`: 100 quote,
    `Sizing.risk(0.01)`: a stake whose loss at the stop (fees included) is 1 %
    of equity. Equity for sizing is the balance at cost (starting balance plus
    realised profit), as freqtrade's wallet counts it; the stake is capped at
    the free balance, except a fixed amount that does not fit, which is skipped.
    """

    mode: SizingMode
    value: float

    def __post_init__(self) -> None:
        try:
            mode = SizingMode(self.mode)
        except ValueError:
            raise KernelConfigError(
                f"sizing mode was {self.mode!r}; use one of "
                f"{', '.join(m.value for m in SizingMode)}") from None
        object.__setattr__(self, "mode", mode)
        v = float(self.value)
        if not math.isfinite(v) or v <= 0:
            raise KernelConfigError(f"sizing value was {self.value!r}; use a positive number")
        if mode is SizingMode.PERCENT and v > 100:
            raise KernelConfigError(
                f"sizing percent was {v:g}; use a percent of equity in (0, 100], e.g. 10 for 10%")
        if mode is SizingMode.RISK and v >= 1:
            raise KernelConfigError(
                f"sizing risk was {v:g}; use a fraction of equity below 1, e.g. 0.01 for 1%")
        object.__setattr__(self, "value", v)

    @classmethod
    def percent(cls, value: float) -> Sizing:
        return cls(mode=SizingMode.PERCENT, value=value)

    @classmethod
    def amount(cls, value: float) -> Sizing:
        return cls(mode=SizingMode.AMOUNT, value=value)

    @classmethod
    def risk(cls, value: float) -> Sizing:
        return cls(mode=SizingMode.RISK, value=value)


@dataclass(frozen=True, kw_only=True)
class KernelConfig:
    """Rules for one simulation. Fractions are ratios (0.05 = 5 %).

    timeframe          candle timeframe of the shared clock ('5m', '1h', ...)
    fee                fee per side, charged on entry and exit notional
    slippage_bps       adverse slippage applied to every fill, in basis points
    stoploss           negative fraction below (long) / above (short) the entry, or None
    trailing           (trigger, distance): once the profit at the candle's best price
                       exceeds `trigger`, the stop trails `distance` behind that price
    roi                [(minutes since entry, minimum profit ratio)] — take profit
    max_hold_minutes   exit at the first open at least this long after the entry
    sizing             Sizing.percent / amount / risk
    max_open_positions positions open at once across all symbols
    starting_balance   quote currency at the start
    price_tick         exchange price step; stops are rounded to it (0: no rounding)
    min_stake          entries whose stake would be below this are skipped
    stop_gap_fill      StopGapFill (see there)
    end_of_data_price  EndOfDataPrice (see there)
    risk               a deployment's portfolio rules (compiler.risk.RiskPolicy, docs/risk.md);
                       its max_open_positions, when set, replaces max_open_positions
    exit_timeout_minutes  an exit order that has not filled this long after the candle it
                       was placed on is cancelled (freqtrade's `unfilledtimeout.exit`); the
                       position stays open until its next exit. None: it waits until filled
    reserve_fees       False (freqtrade): an entry needs its stake free, where free is the
                       starting balance + closed profit - open stakes. True: stake + its
                       entry fee must fit the cash left after open trades' stakes AND fees
    roi_on_red_entry_candle  False (freqtrade): no ROI exit on the entry candle of a long
                       when the candle falls (open > close), the entry is below the open
                       and the ROI price above the close (shorts mirrored). True: take it
    """

    timeframe: str
    fee: float = DEFAULT_FEE
    slippage_bps: float = 0.0
    stoploss: float | None = None
    trailing: tuple[float, float] | None = None
    roi: tuple[tuple[float, float], ...] = ()
    max_hold_minutes: float | None = None
    sizing: Sizing = field(default_factory=lambda: Sizing.percent(100))
    max_open_positions: int = 1
    starting_balance: float = DEFAULT_BALANCE
    price_tick: float = 0.0
    min_stake: float = 0.0
    stop_gap_fill: StopGapFill = StopGapFill.CANDLE
    end_of_data_price: EndOfDataPrice = EndOfDataPrice.OPEN
    exit_timeout_minutes: float | None = DEFAULT_EXIT_TIMEOUT_MINUTES
    reserve_fees: bool = False
    roi_on_red_entry_candle: bool = False

    risk: RiskPolicy = field(default_factory=RiskPolicy)

    def __post_init__(self) -> None:
        _check(self)

    @property
    def timeframe_minutes(self) -> int:
        return timeframe_ms(self.timeframe) // MINUTE_MS

    @property
    def id(self) -> str:
        """Content hash: equal configs have equal ids."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Sizing):
                v = {"mode": v.mode.value, "value": v.value}
            elif isinstance(v, RiskPolicy):
                v = v.to_dict()
            elif isinstance(v, Enum):
                v = v.value
            elif isinstance(v, tuple):
                v = json.loads(json.dumps(v))
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KernelConfig:
        """Build from plain data (JSON/YAML), rejecting unknown keys with a suggestion."""
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(names)}"
                raise KernelConfigError(f"unknown kernel option {key!r}{hint}")
        kwargs = dict(data)
        sizing = kwargs.get("sizing")
        if isinstance(sizing, Mapping):
            kwargs["sizing"] = Sizing(mode=sizing.get("mode"),  # type: ignore[arg-type]
                                      value=sizing.get("value"))  # type: ignore[arg-type]
        if isinstance(kwargs.get("risk"), Mapping):
            kwargs["risk"] = RiskPolicy.from_dict(kwargs["risk"])
        return cls(**kwargs)


def _number(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise KernelConfigError(f"{name} was {value!r}; use a number") from None
    if not math.isfinite(v):
        raise KernelConfigError(f"{name} was {value!r}; use a finite number")
    return v


def _roi_table(value: Any) -> tuple[tuple[float, float], ...]:
    items: Iterable[Any] = value.items() if isinstance(value, Mapping) else value
    rows: list[tuple[float, float]] = []
    for item in items:
        try:
            minutes, ratio = item
        except (TypeError, ValueError):
            raise KernelConfigError(
                f"roi entry was {item!r}; use (minutes since entry, minimum profit), "
                "e.g. roi=[(0, 0.10), (60, 0.04)]") from None
        m, r = _number("roi minutes", minutes), _number("roi ratio", ratio)
        if m < 0:
            raise KernelConfigError(f"roi minutes was {m:g}; use minutes since entry >= 0")
        rows.append((m, r))
    rows.sort()
    for a, b in pairwise(rows):
        if a[0] == b[0]:
            raise KernelConfigError(f"roi lists {a[0]:g} minutes twice; keep one entry per time")
    return tuple(rows)


def _check(cfg: KernelConfig) -> None:
    set_ = object.__setattr__
    if cfg.timeframe not in TIMEFRAMES:
        raise KernelConfigError(
            f"timeframe was {cfg.timeframe!r}; use one of {' '.join(TIMEFRAMES)}")
    fee = _number("fee", cfg.fee)
    if not 0 <= fee < 0.1:
        raise KernelConfigError(
            f"fee was {fee:g}; use the fee per side as a fraction, e.g. 0.001 for 0.1%")
    set_(cfg, "fee", fee)
    slip = _number("slippage_bps", cfg.slippage_bps)
    if not 0 <= slip < 10_000:
        raise KernelConfigError(
            f"slippage_bps was {slip:g}; use basis points >= 0, e.g. 5 for 0.05%")
    set_(cfg, "slippage_bps", slip)
    if cfg.stoploss is not None:
        sl = _number("stoploss", cfg.stoploss)
        if not -1 < sl < 0:
            raise KernelConfigError(
                f"stoploss was {sl:g}; use a negative fraction such as -0.05 for a 5% stop, "
                "or None for no stop")
        set_(cfg, "stoploss", sl)
    if cfg.trailing is not None:
        try:
            trigger, distance = cfg.trailing
        except (TypeError, ValueError):
            raise KernelConfigError(
                f"trailing was {cfg.trailing!r}; use (trigger, distance), e.g. (0.02, 0.01)"
            ) from None
        trigger, distance = _number("trailing trigger", trigger), _number("trailing distance", distance)
        if trigger < 0:
            raise KernelConfigError(
                f"trailing trigger was {trigger:g}; use the profit ratio >= 0 at which it starts")
        if not 0 < distance < 1:
            raise KernelConfigError(
                f"trailing distance was {distance:g}; use a fraction in (0, 1), e.g. 0.01")
        set_(cfg, "trailing", (trigger, distance))
    set_(cfg, "roi", _roi_table(cfg.roi))
    if cfg.max_hold_minutes is not None:
        mh = _number("max_hold_minutes", cfg.max_hold_minutes)
        if mh <= 0:
            raise KernelConfigError(
                f"max_hold_minutes was {mh:g}; use a positive number of minutes, or None")
        set_(cfg, "max_hold_minutes", mh)
    if not isinstance(cfg.sizing, Sizing):
        raise KernelConfigError(
            f"sizing was {cfg.sizing!r}; use Sizing.percent(10), Sizing.amount(100) "
            "or Sizing.risk(0.01)")
    if cfg.sizing.mode is SizingMode.RISK and cfg.stoploss is None:
        raise KernelConfigError(
            "sizing 'risk' needs a stoploss to measure the risk against; set stoploss "
            "(e.g. -0.05) or use Sizing.percent(...)")
    if not isinstance(cfg.risk, RiskPolicy):
        raise KernelConfigError(f"risk was {cfg.risk!r}; use a compiler.risk.RiskPolicy")
    if cfg.risk.max_open_positions is not None:
        set_(cfg, "max_open_positions", cfg.risk.max_open_positions)
    if isinstance(cfg.max_open_positions, bool) or not isinstance(cfg.max_open_positions, int) \
            or cfg.max_open_positions < 1:
        raise KernelConfigError(
            f"max_open_positions was {cfg.max_open_positions!r}; use a whole number >= 1")
    bal = _number("starting_balance", cfg.starting_balance)
    if bal <= 0:
        raise KernelConfigError(f"starting_balance was {bal:g}; use a positive amount of quote")
    set_(cfg, "starting_balance", bal)
    tick = _number("price_tick", cfg.price_tick)
    if tick < 0:
        raise KernelConfigError(f"price_tick was {tick:g}; use the exchange's price step, or 0")
    set_(cfg, "price_tick", tick)
    ms = _number("min_stake", cfg.min_stake)
    if ms < 0:
        raise KernelConfigError(f"min_stake was {ms:g}; use an amount of quote >= 0")
    set_(cfg, "min_stake", ms)
    if cfg.exit_timeout_minutes is not None:
        to = _number("exit_timeout_minutes", cfg.exit_timeout_minutes)
        if to < 0:
            raise KernelConfigError(
                f"exit_timeout_minutes was {to:g}; use minutes >= 0 (freqtrade's sample configs use 10), "
                "or None to keep an exit order until it fills")
        set_(cfg, "exit_timeout_minutes", to)
    for name in ("reserve_fees", "roi_on_red_entry_candle"):
        if not isinstance(getattr(cfg, name), bool):
            raise KernelConfigError(f"{name} was {getattr(cfg, name)!r}; use true or false")
    for name, enum in (("stop_gap_fill", StopGapFill), ("end_of_data_price", EndOfDataPrice)):
        try:
            set_(cfg, name, enum(getattr(cfg, name)))
        except ValueError:
            raise KernelConfigError(
                f"{name} was {getattr(cfg, name)!r}; use one of "
                f"{', '.join(repr(m.value) for m in enum)}") from None
