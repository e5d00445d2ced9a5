"""HTML fragments of the report: run facts, metric cards, tables, monthly returns, trades.

Each function returns escaped HTML for one section; html.py puts them in
order. Labels and value formats come from display.py and money.py, so a
figure reads the same here as in the terminal. The trade table carries raw
values (`data-v`) and keywords (`data-k`) for report.js to sort and filter.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.kernel.trades import EXIT_REASONS, SimResult
from engine.metrics.caveats import flagged_keys
from engine.report.display import (
    GROUP_COLUMNS,
    HEADLINE,
    MISSING,
    Field,
    format_duration,
    format_value,
    metric_text,
)
from engine.report.money import format_money

__all__ = ["FREQTRADE_FIELDS", "cards", "group_table", "monthly_table", "run_facts", "tone",
           "trade_table", "warnings_note"]

_E = html.escape

# Our figures under freqtrade's definitions (docs/metrics.md), for users coming from freqtrade.
FREQTRADE_FIELDS: tuple[Field, ...] = (
    Field("sharpe_ft", "Sharpe (freqtrade)", "ratio", "higher"),
    Field("sortino_ft", "Sortino (freqtrade)", "ratio", "higher"),
    Field("calmar_ft", "Calmar (freqtrade)", "ratio", "higher"),
    Field("max_drawdown_ft", "Max drawdown (freqtrade)", "pct", "lower"),
    Field("expectancy_ratio", "Expectancy ratio", "ratio", "higher"),
    Field("market_change_ft", "Market change (freqtrade)", "spct", None),
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def tone(value: Any, field: Field) -> str:
    """CSS class: `pos` for a gain, `neg` for a loss, for signed figures whose higher is better."""
    if field.better != "higher" or field.kind not in ("spct", "money"):
        return ""
    if not isinstance(value, (int, float)) or value == 0:
        return ""
    return "pos" if value > 0 else "neg"


def _card(metrics: Mapping[str, Any], field: Field, flagged: frozenset[str]) -> str:
    mark = (' <span class="flag" title="extrapolated from a short run: see the warning above">'
            "⚠</span>" if field.key in flagged else "")
    return (f'<div class="card"><div class="k">{_E(field.label)}{mark}</div>'
            f'<div class="v {tone(metrics.get(field.key), field)}">'
            f"{_E(metric_text(metrics, field))}</div></div>")


def cards(metrics: Mapping[str, Any]) -> str:
    """The headline sections, then the freqtrade-comparable figures; flagged figures marked ⚠."""
    flagged = flagged_keys(metrics)
    sections = {**HEADLINE, "freqtrade definitions (docs/metrics.md)": FREQTRADE_FIELDS}
    return "".join(
        f'<div class="section">{_E(section)}</div><div class="cards">'
        + "".join(_card(metrics, f, flagged) for f in fields) + "</div>"
        for section, fields in sections.items())


def warnings_note(metrics: Mapping[str, Any]) -> str:
    items = [w.get("message", "") for w in metrics.get("warnings") or () if isinstance(w, dict)]
    return "".join(f'<div class="note warn">⚠ {_E(str(m))}</div>' for m in items)


def _cell(value: Any, field: Field, currency: str) -> str:
    text = (format_money(value, currency, suffix=False) if field.kind == "money"
            else format_value(value, field.kind))
    return f'<td class="{tone(value, field)}">{_E(text)}</td>'


def group_table(key_label: str, groups: Mapping[str, Mapping[str, Any]], currency: str,
                extra: tuple[Field, ...] = ()) -> str:
    columns = GROUP_COLUMNS + extra
    head = f'<th class="l">{_E(key_label)}</th>' + "".join(
        f"<th>{_E(f.label)}{_E(f' ({currency})' if currency and f.kind == 'money' else '')}</th>"
        for f in columns)
    rows = "".join(
        f'<tr><td class="l">{_E(name)}</td>'
        + "".join(_cell(row.get(f.key), f, currency) for f in columns) + "</tr>"
        for name, row in groups.items())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _setting(key: str, value: Any, currency: str) -> str:
    if key == "balance" and isinstance(value, (int, float)):
        return format_money(value, currency)
    if key == "fee" and isinstance(value, (int, float)):
        return f"{value * 100:g}% per side"
    if key == "slippage_bps" and isinstance(value, (int, float)):
        return f"{value:g} bps ({value / 100:g}%)"
    if key == "price_tick" and value is None:
        return "inferred per symbol"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or MISSING
    if isinstance(value, dict):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return MISSING if value is None else str(value)


_SETTING_LABELS = {"fee": "Fee", "slippage_bps": "Slippage", "balance": "Starting balance",
                   "data": "Data", "symbols": "Symbols", "start": "From", "end": "To",
                   "gaps": "Gaps", "price_tick": "Price tick"}


def _dl(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_E(k)}</dt><dd>{_E(v)}</dd>" for k, v in items) + "</dl>"


def run_facts(run_id: str | None, params: Mapping[str, Any] | None,
              settings: Mapping[str, Any] | None, currency: str = "") -> str:
    """Run id, the strategy's parameter values, and the settings (fee and slippage first)."""
    facts = [("Run id", run_id or "not kept (--no-keep)")]
    settings = dict(settings or {})
    order = ["fee", "slippage_bps", "balance"] + [k for k in settings
                                                    if k not in ("fee", "slippage_bps", "balance")]
    for key in order:
        if key in settings and key not in ("extra", "timings_ms", "timings"):
            facts.append((_SETTING_LABELS.get(key, key), _setting(key, settings[key], currency)))
    params = dict(params or {})
    param_items = [(k, str(v)) for k, v in sorted(params.items())]
    return ('<div class="facts"><div><div class="section">Run</div>' + _dl(facts) + "</div>"
            '<div><div class="section">Strategy parameters</div>'
            + (_dl(param_items) if param_items else "<p>none</p>") + "</div></div>")


def _heat(value: float | None) -> str:
    """Background colour of a monthly return: green or red, stronger up to +/-10 %."""
    if value is None or not math.isfinite(value) or value == 0:
        return ""
    alpha = min(abs(value) / 0.10, 1.0) * 0.55 + 0.08
    rgb = "22,163,74" if value > 0 else "220,38,38"
    return f' style="background:rgba({rgb},{alpha:.2f})"'


def monthly_table(monthly: Mapping[str, float | None]) -> str:
    """Years down, months across, and each year's compounded return."""
    if not monthly:
        return f"<p>{MISSING}</p>"
    years: dict[str, dict[int, float | None]] = {}
    for label, value in monthly.items():
        year, month = label.split("-")
        years.setdefault(year, {})[int(month)] = value
    head = '<th class="l">Year</th>' + "".join(f"<th>{m}</th>" for m in _MONTHS) + "<th>Year</th>"
    rows = []
    for year, months in years.items():
        cells = []
        for m in range(1, 13):
            v = months.get(m)
            text = format_value(v, "spct") if m in months else ""
            cells.append(f"<td{_heat(v)}>{_E(text)}</td>")
        finite = [v for v in months.values() if v is not None and math.isfinite(v)]
        total = float(np.prod([1.0 + v for v in finite]) - 1.0) if finite else None
        cells.append(f"<td{_heat(total)}><b>{_E(format_value(total, 'spct'))}</b></td>")
        rows.append(f'<tr><td class="l">{_E(year)}</td>{"".join(cells)}</tr>')
    return (f'<table class="monthly"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def trade_table(result: SimResult, currency: str, limit: int) -> str:
    """The trades, sortable and filterable in the page (report.js)."""
    t = result.trades
    n = len(t)
    shown = min(n, limit)
    if n == 0:
        return "<p>No trades on this data.</p>"
    symbols = np.asarray(result.symbols, dtype=object)[np.asarray(t.symbol[:shown], np.int64)]
    reasons = np.asarray(EXIT_REASONS, dtype=object)[np.asarray(t.exit_reason[:shown], np.int64)]
    entry_ms = np.asarray(t.entry_time[:shown], np.int64)
    exit_ms = np.asarray(t.exit_time[:shown], np.int64)
    entry = np.datetime_as_string(entry_ms.astype("datetime64[ms]"), unit="m").tolist()
    exit_ = np.datetime_as_string(exit_ms.astype("datetime64[ms]"), unit="m").tolist()
    seconds = ((exit_ms - entry_ms) / 1000).tolist()
    heads = ["#", "Symbol", "Side", "Entry (UTC)", "Exit (UTC)", "Entry price", "Exit price",
             "Amount", "Profit %", f"Profit {currency}".strip(), "Exit reason", "Duration"]
    left = {"Symbol", "Side", "Entry (UTC)", "Exit (UTC)", "Exit reason"}
    head = "".join(f'<th class="{"l" if h in left else ""}" title="sort">{_E(h)}</th>'
                   for h in heads)
    rows = []
    for i in range(shown):  # one row per trade, never per bar
        ratio = float(t.profit_ratio[i])
        profit = float(t.profit_abs[i])
        tone_ = "pos" if ratio > 0 else "neg" if ratio < 0 else ""
        outcome = "win" if profit > 0 else "loss" if profit < 0 else "draw"
        side = "long" if t.side[i] > 0 else "short"
        rows.append(
            f'<tr data-k="{_E(str(symbols[i]))} {side} {_E(str(reasons[i]))} {outcome}">'
            f'<td data-v="{i + 1}">{i + 1}</td><td class="l">{_E(str(symbols[i]))}</td>'
            f'<td class="l">{side}</td>'
            f'<td class="l" data-v="{entry_ms[i]}">{entry[i].replace("T", " ")}</td>'
            f'<td class="l" data-v="{exit_ms[i]}">{exit_[i].replace("T", " ")}</td>'
            f'<td data-v="{float(t.entry_price[i])!r}">{float(t.entry_price[i]):.8g}</td>'
            f'<td data-v="{float(t.exit_price[i])!r}">{float(t.exit_price[i]):.8g}</td>'
            f'<td data-v="{float(t.amount[i])!r}">{float(t.amount[i]):.6g}</td>'
            f'<td class="{tone_}" data-v="{ratio!r}">{ratio * 100:+.2f}%</td>'
            f'<td class="{tone_}" data-v="{profit!r}">'
            f"{_E(format_money(profit, currency, suffix=False, signed=True))}</td>"
            f'<td class="l">{_E(str(reasons[i]))}</td>'
            f'<td data-v="{seconds[i]!r}">{format_duration(seconds[i])}</td></tr>')
    more = (f"<p>Showing the first {shown:,} of {n:,} trades; `superbot backtest --json` or "
            "`--trades out.csv` has them all.</p>" if shown < n else "")
    tools = ('<div class="tools"><input id="trade-filter" type="search" '
             'placeholder="filter: e.g. ETH short stop_loss loss" aria-label="filter trades">'
             f' <span id="trade-count">{shown:,} of {shown:,} trades</span>'
             " · click a column to sort</div>")
    return (f'{more}{tools}<div class="scroll"><table id="trade-table"><thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')
