"""The backtest summary in the terminal: headline figures, then per symbol and per exit reason.

A rich table with the Returns, Risk and Trades sections side by side, so the
whole picture fits one screen; profits are green, losses red.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import zip_longest
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.report.display import (
    GROUP_COLUMNS,
    HEADLINE,
    Field,
    format_value,
    metric_text,
    quote_currency,
)
from engine.report.fit import Cell, Col, fitted_table
from engine.report.money import format_money

__all__ = ["WIDE", "group_table", "headline_table", "render_summary", "styled"]

_SIGNED = {"spct", "money"}


def styled(text: str, value: Any, field: Field) -> Text:
    """Green for a gain, red for a loss, for signed figures whose higher is better."""
    style = ""
    if field.kind in _SIGNED and field.better == "higher" and isinstance(value, (int, float)):
        style = "green" if value > 0 else "red" if value < 0 else ""
    return Text(text, style=style)


WIDE = 112  # columns needed to put the three sections side by side


def headline_table(metrics: Mapping[str, Any], title: str | None = None,
                   sections: Sequence[str] = tuple(HEADLINE)) -> Table:
    """The given sections (default Returns | Risk | Trades) side by side, label and value."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for section in sections:
        table.add_column(section, style="bold", no_wrap=True)
        table.add_column("", justify="right", no_wrap=True)
    for row in zip_longest(*(HEADLINE[s] for s in sections)):
        cells: list[Text | str] = []
        for field in row:
            if field is None:
                cells += ["", ""]
                continue
            cells += [Text(field.label, style="dim"),
                      styled(metric_text(metrics, field), metrics.get(field.key), field)]
        table.add_row(*cells)
    return table


def group_table(title: str, key_label: str, groups: Mapping[str, Mapping[str, Any]],
                currency: str = "", *, buy_and_hold: bool = False, console: Console | None = None) -> Table:
    """One row per symbol or exit reason; at `console`'s width no figure is cut (engine/report/fit.py)."""
    fields = list(GROUP_COLUMNS)
    if buy_and_hold:
        fields.append(Field("buy_and_hold_return", "Buy & hold", "spct", None))
    # the currency goes in the header, so cells stay one line; durations go first when narrow
    cols = [Col(key_label, style="bold", keep=True)] + [
        Col(f.label + (f" ({currency})" if currency and f.kind == "money" else ""), "right", keep=True,
            drop=_GROUP_DROP.get(f.key, 0)) for f in fields]
    rows: list[list[Cell]] = [[name, *(styled(format_money(row.get(f.key), currency, suffix=False)
                            if f.kind == "money" else format_value(row.get(f.key), f.kind),
                            row.get(f.key), f) for f in fields)]
            for name, row in groups.items()]
    table, _ = fitted_table(console or Console(width=WIDE), cols, rows, title=title, title_justify="left")
    return table


_GROUP_DROP = {"avg_trade_duration_s": 3, "total_profit_ratio": 2, "avg_profit_ratio": 1}


def _heading(metrics: Mapping[str, Any]) -> str:
    symbols = ", ".join(metrics.get("symbols") or ())
    start = format_value(metrics.get("start"), "time")
    end = format_value(metrics.get("end"), "time")
    return (f"Backtest · {symbols} · {metrics.get('timeframe', '')} · {start} → {end} "
            f"({format_value(metrics.get('n_bars'), 'int')} bars)")


def render_summary(metrics: Mapping[str, Any], console: Console) -> None:
    """Print the headline table, then the per-symbol and per-exit-reason tables."""
    currency = quote_currency(metrics.get("symbols") or ())
    if console.width >= WIDE:
        console.print(headline_table(metrics, title=_heading(metrics)))
    else:  # a narrow terminal: one section under the other
        console.print(_heading(metrics))
        for section in HEADLINE:
            console.print(headline_table(metrics, sections=(section,)))
    for warning in metrics.get("warnings") or ():  # e.g. annualized figures of a short run
        console.print(f"[yellow]warning:[/] {warning.get('message', warning)}", highlight=False)
    console.print()
    per_symbol = metrics.get("per_symbol") or {}
    if per_symbol:
        console.print(group_table("Per symbol", "Symbol", per_symbol, currency,
                                  buy_and_hold=True, console=console))
    per_reason = metrics.get("per_exit_reason") or {}
    if per_reason:
        console.print(group_table("Per exit reason", "Exit reason", per_reason, currency, console=console))
    if not metrics.get("n_trades"):
        console.print("[yellow]No trades on this data.[/]")
