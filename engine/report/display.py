"""How metric values read to a person: labels, sections, units and formatting.

The terminal tables, the HTML report and run comparisons all show the same
figures with the same labels, so both live here once. Values come from
`compute_metrics` (fractions, quote money, seconds, ISO times); null reads as
an em dash, except a profit factor without losing trades, which is infinite.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.report.money import format_money

__all__ = [
    "GROUP_COLUMNS",
    "HEADLINE",
    "MISSING",
    "Field",
    "format_duration",
    "format_value",
    "headline_fields",
    "metric_text",
    "quote_currency",
    "sign",
]

MISSING = "—"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str           # pct spct ratio money balance int duration time text float
    better: str | None  # "higher", "lower" or None (neither is better)


HEADLINE: dict[str, tuple[Field, ...]] = {
    "Returns": (
        Field("total_return", "Total return", "spct", "higher"),
        Field("annualized_return", "Annualized return", "spct", "higher"),
        Field("profit_abs", "Profit", "money", "higher"),
        Field("final_balance", "Final balance", "balance", "higher"),
        Field("buy_and_hold_return", "Buy & hold return", "spct", None),
        Field("exposure", "Exposure", "pct", None),
    ),
    "Risk": (
        Field("sharpe", "Sharpe", "ratio", "higher"),
        Field("sortino", "Sortino", "ratio", "higher"),
        Field("calmar", "Calmar", "ratio", "higher"),
        Field("volatility", "Volatility (ann.)", "pct", "lower"),
        Field("max_drawdown", "Max drawdown", "pct", "lower"),
        Field("max_drawdown_abs", "Max drawdown (abs)", "money", "lower"),
        Field("max_drawdown_duration_s", "Max drawdown duration", "duration", "lower"),
        Field("longest_drawdown_s", "Longest drawdown", "duration", "lower"),
    ),
    "Trades": (
        Field("n_trades", "Trades", "int", None),
        Field("win_rate", "Win rate", "pct", "higher"),
        Field("profit_factor", "Profit factor", "ratio", "higher"),
        Field("expectancy", "Expectancy / trade", "money", "higher"),
        Field("avg_profit_ratio", "Avg profit / trade", "spct", "higher"),
        Field("best_trade", "Best trade", "spct", "higher"),
        Field("worst_trade", "Worst trade", "spct", "higher"),
        Field("avg_trade_duration_s", "Avg duration", "duration", None),
        Field("median_trade_duration_s", "Median duration", "duration", None),
        Field("fees", "Fees paid", "money", "lower"),
    ),
}

# Columns of the per-symbol and per-exit-reason tables.
GROUP_COLUMNS: tuple[Field, ...] = (
    Field("n_trades", "Trades", "int", None),
    Field("win_rate", "Win rate", "pct", "higher"),
    Field("avg_profit_ratio", "Avg profit", "spct", "higher"),
    Field("total_profit_abs", "Total profit", "money", "higher"),
    Field("total_profit_ratio", "Total profit %", "spct", "higher"),
    Field("avg_trade_duration_s", "Avg duration", "duration", None),
)


def headline_fields() -> list[Field]:
    return [f for fields in HEADLINE.values() for f in fields]


def quote_currency(symbols: Sequence[str]) -> str:
    """`USDT` when every symbol is quoted in USDT (`BTC/USDT`, `ETH/USDT:USDT`), else ''."""
    quotes = {s.split("/", 1)[1].split(":", 1)[0] for s in symbols if "/" in s}
    return quotes.pop() if len(quotes) == 1 and all("/" in s for s in symbols) else ""


def format_duration(seconds: float) -> str:
    """`5950` -> `1h 39m`; `8503260` -> `98d 10h`; the two largest units."""
    total = round(seconds / 60.0)
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{v}{u}" for v, u in parts[:2])


def format_value(value: Any, kind: str, currency: str = "") -> str:
    """One value as text; None / NaN -> em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "spct":
        return f"{value * 100:+.2f}%"
    if kind == "ratio":
        return "∞" if math.isinf(value) else f"{value:.2f}"
    if kind in ("money", "balance"):  # a balance is a level, never coloured as a gain
        return format_money(value, currency)  # the currency's precision (0.0013 BTC)
    if kind == "int":
        return f"{int(value):,}"
    if kind == "duration":
        return format_duration(float(value))
    if kind == "time":
        return str(value).replace("T", " ").removesuffix("Z")
    if kind == "float":
        return f"{value:.6g}"
    return str(value)


def metric_text(metrics: Mapping[str, Any], field: Field) -> str:
    """A headline metric as text, with the profit factor's infinity spelled out."""
    value = metrics.get(field.key)
    if (field.key == "profit_factor" and value is None and metrics.get("n_trades")
            and not metrics.get("gross_loss")):
        return "∞"
    return format_value(value, field.kind, quote_currency(metrics.get("symbols") or ()))


def sign(value: Any, better: str | None) -> int:
    """+1 when `value` (a change) is good, -1 when bad, 0 when neutral or unknown."""
    if better is None or not isinstance(value, (int, float)) or value == 0 or math.isnan(value):
        return 0
    up = 1 if value > 0 else -1
    return up if better == "higher" else -up
