"""The self-contained HTML backtest report: one file that works offline.

plotly.js is embedded once in the page head (no CDN, no network), then each
figure is a div. The page reads top to bottom: what was run, the headline
metrics, the equity and drawdown curves, one candlestick chart per symbol
with its trades and indicators, the per-symbol and per-exit-reason tables,
and the trade list. Long histories are resampled for display
(downsample.py) and the page says so.
"""
from __future__ import annotations

import html
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.kernel.trades import EXIT_REASONS, SimResult
from engine.report.risk_view import risk_events_html
from engine.metrics.benchmark import buy_and_hold_curve
from engine.metrics.returns import drawdown_series, equity_curve
from engine.report.charts import TradeMarks, equity_figure, price_figure
from engine.report.display import (
    GROUP_COLUMNS,
    HEADLINE,
    MISSING,
    Field,
    format_duration,
    format_value,
    metric_text,
    quote_currency,
)
from engine.report.downsample import display_timeframe

__all__ = ["DEFAULT_MAX_CANDLES", "write_html_report"]

DEFAULT_MAX_CANDLES = 5000   # per chart; a year of 1m data shows as 2h candles
_CONFIG = {"displaylogo": False, "responsive": True}
_E = html.escape

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 background:#f8fafc;color:#0f172a}
main{max-width:1360px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.sub{color:#475569}.note{background:#fef9c3;border:1px solid #fde047;padding:8px 12px;
 border-radius:6px;margin:12px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px}
.card .k{color:#64748b;font-size:12px}.card .v{font-size:18px;font-weight:600}
.section{font-weight:600;color:#334155;margin:14px 0 6px}
.chart{background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin:12px 0;padding:4px}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e2e8f0;text-align:right;white-space:nowrap}
th{background:#f1f5f9;position:sticky;top:0}td.l,th.l{text-align:left}
.pos{color:#15803d}.neg{color:#b91c1c}
.scroll{max-height:640px;overflow:auto;border:1px solid #e2e8f0;border-radius:8px}
footer{color:#64748b;margin:32px 0 8px;font-size:12px}
"""


def _version() -> str:
    try:
        return metadata.version("superbot")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _tone(value: Any, field: Field) -> str:
    if field.better != "higher" or field.kind not in ("spct", "money"):
        return ""
    if not isinstance(value, (int, float)) or value == 0:
        return ""
    return "pos" if value > 0 else "neg"


def _cards(metrics: Mapping[str, Any]) -> str:
    out = []
    for section, fields in HEADLINE.items():
        cells = "".join(
            f'<div class="card"><div class="k">{_E(f.label)}</div>'
            f'<div class="v {_tone(metrics.get(f.key), f)}">'
            f"{_E(metric_text(metrics, f))}</div></div>"
            for f in fields)
        out.append(f'<div class="section">{_E(section)}</div><div class="cards">{cells}</div>')
    return "".join(out)


def _group_table(key_label: str, groups: Mapping[str, Mapping[str, Any]], currency: str,
                 extra: tuple[Field, ...] = ()) -> str:
    columns = GROUP_COLUMNS + extra
    head = f'<th class="l">{_E(key_label)}</th>' + "".join(
        f"<th>{_E(f.label)}{_E(f' ({currency})' if currency and f.kind == 'money' else '')}</th>"
        for f in columns)
    rows = "".join(
        f'<tr><td class="l">{_E(name)}</td>' + "".join(
            f'<td class="{_tone(row.get(f.key), f)}">'
            f'{_E(format_value(row.get(f.key), f.kind))}</td>' for f in columns)
        + "</tr>" for name, row in groups.items())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _trade_table(result: SimResult, currency: str, limit: int) -> str:
    t = result.trades
    n = len(t)
    shown = min(n, limit)
    if n == 0:
        return "<p>No trades on this data.</p>"
    symbols = np.asarray(result.symbols, dtype=object)[np.asarray(t.symbol[:shown], np.int64)]
    reasons = np.asarray(EXIT_REASONS, dtype=object)[np.asarray(t.exit_reason[:shown], np.int64)]
    entry = np.datetime_as_string(np.asarray(t.entry_time[:shown], np.int64)
                                  .astype("datetime64[ms]"), unit="m").tolist()
    exit_ = np.datetime_as_string(np.asarray(t.exit_time[:shown], np.int64)
                                  .astype("datetime64[ms]"), unit="m").tolist()
    seconds = ((np.asarray(t.exit_time[:shown], np.int64)
                - np.asarray(t.entry_time[:shown], np.int64)) / 1000).tolist()
    heads = ["#", "Symbol", "Side", "Entry (UTC)", "Exit (UTC)", "Entry price", "Exit price",
             "Amount", "Profit %", f"Profit {currency}".strip(), "Exit reason", "Duration"]
    left = {"Symbol", "Side", "Entry (UTC)", "Exit (UTC)", "Exit reason"}
    head = "".join(f'<th class="{"l" if h in left else ""}">{_E(h)}</th>' for h in heads)
    rows = []
    for i in range(shown):  # one row per trade, never per bar
        ratio = float(t.profit_ratio[i])
        tone = "pos" if ratio > 0 else "neg" if ratio < 0 else ""
        rows.append(
            f'<tr><td>{i + 1}</td><td class="l">{_E(str(symbols[i]))}</td>'
            f'<td class="l">{"long" if t.side[i] > 0 else "short"}</td>'
            f'<td class="l">{entry[i].replace("T", " ")}</td>'
            f'<td class="l">{exit_[i].replace("T", " ")}</td>'
            f"<td>{float(t.entry_price[i]):.8g}</td><td>{float(t.exit_price[i]):.8g}</td>"
            f"<td>{float(t.amount[i]):.6g}</td>"
            f'<td class="{tone}">{ratio * 100:+.2f}%</td>'
            f'<td class="{tone}">{float(t.profit_abs[i]):,.2f}</td>'
            f'<td class="l">{_E(str(reasons[i]))}</td><td>{format_duration(seconds[i])}</td></tr>')
    more = (f"<p>Showing the first {shown:,} of {n:,} trades; `superbot backtest --json` or "
            "`--trades out.csv` has them all.</p>" if shown < n else "")
    return (f'{more}<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _figure_div(fig: go.Figure, div_id: str) -> str:
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)
    return f'<div class="chart">{body}</div>'


def _downsample_note(n_bars: int, timeframe: str, shown_tf: str, bucket_ms: int) -> str:
    if shown_tf == timeframe:
        return ""
    shown = -(-n_bars * timeframe_ms(timeframe) // bucket_ms)
    return (f'<div class="note">Downsampled for display: charts show {_E(shown_tf)} candles '
            f"(about {shown:,}) resampled from {n_bars:,} {_E(timeframe)} candles. Trade markers "
            f"are at their exact fill times and prices; indicator and equity lines show the value "
            f"at the end of each {_E(shown_tf)} candle, and the drawdown curve each candle's "
            "deepest point. Metrics use every bar.</div>")


def _bounds(result: SimResult, c: Candles, bar_ms: int) -> tuple[int, int]:
    """Rows of `c` inside the backtest's range."""
    if len(result.time) == 0:
        return 0, len(c)
    lo = int(np.searchsorted(c.time, int(result.time[0])))
    hi = int(np.searchsorted(c.time, int(result.time[-1]) + bar_ms))
    return lo, hi


def _traded_range(result: SimResult, candles: Mapping[str, Candles],
                  bar_ms: int) -> tuple[dict[str, Candles], list[str]]:
    """(symbol -> candles cut to the backtest's range, symbols without candles)."""
    ranged = {s: candles[s].take(*_bounds(result, candles[s], bar_ms))
              for s in result.symbols if s in candles}
    return ranged, [s for s in result.symbols if s not in candles]


def write_html_report(path: str | os.PathLike[str], result: SimResult,
                      candles: Mapping[str, Candles],
                      indicators: Mapping[str, Mapping[str, np.ndarray]],
                      metrics: Mapping[str, Any], title: str, *,
                      max_candles: int = DEFAULT_MAX_CANDLES,
                      overlays: Collection[str] | None = None,
                      max_trade_rows: int = 50_000) -> Path:
    """Write the report to `path` (atomically) and return it.

    `candles` and `indicators` are keyed by symbol. Candles may extend beyond
    the backtest (warm-up bars); the charts show its range. Each indicator
    array is aligned either with its symbol's candles or with the backtest's
    bars; arrays of any other length are left out. `overlays` names the indicators to
    draw on the price chart (default: decided per indicator, see charts.py).
    Charts with more than `max_candles` candles are resampled to a coarser
    timeframe for display.
    """
    out = Path(path)
    bar_ms = timeframe_ms(result.timeframe)
    n_bars = len(result.time)
    shown_tf = display_timeframe(n_bars, result.timeframe, max_candles)
    bucket_ms = timeframe_ms(shown_tf)
    currency = quote_currency(result.symbols)

    # The traded range of each symbol's candles (they may start with warm-up bars).
    ranged, missing = _traded_range(result, candles, bar_ms)
    closes = {s: c.close for s, c in ranged.items() if len(c) == n_bars}
    curve = equity_curve(np.asarray(result.equity, np.float64), result.starting_balance)
    benchmark = (buy_and_hold_curve(closes, result.starting_balance)
                 if closes and len(closes) == len(result.symbols) else None)
    charts = [_figure_div(equity_figure(np.asarray(result.time, np.int64), curve[1:],
                                        drawdown_series(curve)[1:], bar_ms, bucket_ms,
                                        benchmark), "equity")] if n_bars else []
    for i, symbol in enumerate(result.symbols):
        if symbol not in ranged:
            continue
        c, lo, hi = ranged[symbol], *_bounds(result, candles[symbol], bar_ms)
        ind = {}
        for name, values in indicators.get(symbol, {}).items():
            if len(values) == len(candles[symbol]):     # aligned with the given candles
                ind[name] = np.asarray(values)[lo:hi]
            elif len(values) == len(c):                 # aligned with the traded range
                ind[name] = np.asarray(values)
        fig = price_figure(c, ind, TradeMarks.of(result.trades, i), bucket_ms,
                           overlays=overlays, title=f"{symbol} · {shown_tf}")
        charts.append(_figure_div(fig, f"price-{i}"))

    span = (f"{format_value(metrics.get('start'), 'time')} → "
            f"{format_value(metrics.get('end'), 'time')}")
    balance = format_value(result.starting_balance, "money", currency)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missing_note = (f'<div class="note">No candles for {_E(", ".join(missing))}: '
                    "no chart for them.</div>" if missing else "")
    per_symbol = _group_table("Symbol", metrics.get("per_symbol") or {}, currency,
                              (Field("buy_and_hold_return", "Buy & hold", "spct", None),))
    per_reason = metrics.get("per_exit_reason") or {}
    per_reason_html = (_group_table("Exit reason", per_reason, currency) if per_reason
                       else f"<p>{MISSING}</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_E(title)}</title><style>{_CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head><body><main>
<h1>{_E(title)}</h1>
<div class="sub">{_E(", ".join(result.symbols))} · {_E(result.timeframe)} · {_E(span)} ·
{n_bars:,} bars · times in UTC · starting balance {_E(balance)}</div>
{_downsample_note(n_bars, result.timeframe, shown_tf, bucket_ms)}{missing_note}
<h2 id="metrics">Metrics</h2>{_cards(metrics)}
<h2 id="equity-curve">Equity and drawdown</h2>{charts[0] if n_bars else "<p>No bars.</p>"}
<h2 id="charts">Charts</h2>{"".join(charts[1:])}
{risk_events_html(result.risk_events)}
<h2 id="per-symbol">Per symbol</h2>{per_symbol}
<h2 id="per-exit-reason">Per exit reason</h2>{per_reason_html}
<h2 id="trades">Trades</h2>{_trade_table(result, currency, max_trade_rows)}
<footer>Generated by SuperBot {_E(_version())} on {generated}. Self-contained: works offline.
Metric definitions: docs/metrics.md.</footer>
</main></body></html>
"""
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
