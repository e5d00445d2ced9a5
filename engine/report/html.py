"""The self-contained HTML backtest report: one file that works offline.

plotly.js is embedded once in the page head (no CDN, no network), then each
figure is a div. The page reads top to bottom: what was run (run id,
parameters, fee, slippage), the headline metrics (and freqtrade's
definitions of the same ideas), the equity and drawdown curves, monthly
returns, the distribution of trade returns, one candlestick chart per symbol
with its trades and indicators, the per-symbol and per-exit-reason tables,
and the trade list.

It has to open fast: a chart is drawn from at most `max_candles` display
candles (downsample.py) and carries its full detail in a data block that the
browser reads only on zoom (detail.py, report.js); the charts in view are
drawn first and the others while the browser is idle. Figures for a year of
5m candles: benchmarks/README.md (bench_report.py).
"""
from __future__ import annotations

import html
import json
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from compiler.timeframes import TIMEFRAMES, timeframe_ms
from engine.data.candles import Candles
from engine.kernel.trades import SimResult
from engine.metrics.benchmark import buy_and_hold_curve
from engine.metrics.returns import drawdown_series, equity_curve
from engine.report.charts import (
    TradeMarks,
    equity_figure,
    indicator_key,
    price_figure,
    returns_histogram,
)
from engine.report.detail import DEFAULT_MAX_DETAIL, detail_blocks, detail_timeframe
from engine.report.display import MISSING, Field, format_value, quote_currency
from engine.report.downsample import display_timeframe
from engine.report.risk_view import risk_events_html
from engine.report.sections import (
    cards,
    group_table,
    monthly_table,
    run_facts,
    trade_table,
    warnings_note,
)

__all__ = ["DEFAULT_MAX_CANDLES", "write_html_report"]

DEFAULT_MAX_CANDLES = 2500   # per chart at first sight; a year of 5m shows as 4h candles
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
.note.warn{background:#ffedd5;border-color:#fdba74}.flag{color:#c2410c;cursor:help}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;background:#fff;
 border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px}dt{color:#64748b}dd{margin:0}
.monthly td{min-width:52px}.tools{margin:6px 0}#trade-filter{width:320px;padding:4px 8px}
#trade-table th{cursor:pointer;user-select:none}#trade-table th[data-dir=asc]:after{content:" ▲"}
#trade-table th[data-dir=desc]:after{content:" ▼"}
"""


def _version() -> str:
    try:
        return metadata.version("superbot")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _script() -> str:
    return resources.files("engine.report").joinpath("report.js").read_text(encoding="utf-8")


def _figure_div(fig: go.Figure, div_id: str) -> str:
    """A placeholder of the figure's height and its JSON; report.js draws it.

    Drawing every chart while the page loads made a long report slow to open:
    report.js draws the charts in view first, then the others one at a time
    while the browser is idle (requestIdleCallback), so the page is usable at once.
    """
    height = int(fig.layout.height or 450)
    spec = fig.to_json(engine="json").replace("</", "<\\/")
    return (f'<div class="chart"><div id="{div_id}" class="lazy-plot" '
            f'style="height:{height}px"></div><script type="application/json" '
            f'id="figure-{div_id}">{spec}</script></div>')


def _downsample_note(n_bars: int, timeframe: str, shown_tf: str, bucket_ms: int,
                     max_detail: int) -> str:
    if shown_tf == timeframe:
        return ""
    finest_ms = detail_timeframe(n_bars, timeframe_ms(timeframe), max_detail)
    finest = next((t for t in TIMEFRAMES if timeframe_ms(t) == finest_ms), timeframe)
    shown = -(-n_bars * timeframe_ms(timeframe) // bucket_ms)
    return (f'<div class="note">Downsampled for display: charts show {_E(shown_tf)} candles '
            f"(about {shown:,}) resampled from {n_bars:,} {_E(timeframe)} candles; zoom in "
            f"for finer candles, down to {_E(finest)}. Trade markers "
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
                      max_trade_rows: int = 50_000,
                      max_detail: int = DEFAULT_MAX_DETAIL,
                      run_id: str | None = None,
                      params: Mapping[str, Any] | None = None,
                      settings: Mapping[str, Any] | None = None) -> Path:
    """Write the report to `path` (atomically) and return it.

    `candles` and `indicators` are keyed by symbol. Candles may extend beyond
    the backtest (warm-up bars); the charts show its range. Each indicator
    array is aligned either with its symbol's candles or with the backtest's
    bars; arrays of any other length are left out. `overlays` names the indicators to
    draw on the price chart (default: decided per indicator, see charts.py).
    Charts with more than `max_candles` candles open resampled to a coarser
    timeframe and carry up to `max_detail` candles of detail for zooming.
    `run_id`, `params` (the strategy's parameter values) and `settings`
    (fee, slippage_bps, balance, ...: `BacktestSettings.as_dict()`) are shown
    at the top.
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
    time_ = np.asarray(result.time, np.int64)
    drawdown = drawdown_series(curve)[1:]
    charts = []
    if n_bars:
        lines = {"equity": ("last", curve[1:]), "drawdown": ("min", drawdown)}
        if benchmark is not None:
            lines["benchmark"] = ("last", benchmark)
        charts.append(_figure_div(equity_figure(time_, curve[1:], drawdown, bar_ms, bucket_ms,
                                                benchmark), "equity")
                      + detail_blocks("equity", time_, bar_ms, bucket_ms, lines,
                                      max_detail=max_detail))
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
                           overlays=overlays, title=f"{symbol} · {shown_tf}"
                           + (" (zoom in for detail)" if bucket_ms > bar_ms else ""))
        series = {"open": ("first", c.open), "high": ("max", c.high), "low": ("min", c.low),
                  "close": ("last", c.close)}
        series.update({indicator_key(k): ("last", v) for k, v in ind.items()
                       if len(v) == len(c)})
        charts.append(_figure_div(fig, f"price-{i}")
                      + detail_blocks(f"price-{i}", c.time, bar_ms, bucket_ms, series,
                                      max_detail=max_detail, title=symbol))

    span = (f"{format_value(metrics.get('start'), 'time')} → "
            f"{format_value(metrics.get('end'), 'time')}")
    balance = format_value(result.starting_balance, "money", currency)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missing_note = (f'<div class="note">No candles for {_E(", ".join(missing))}: '
                    "no chart for them.</div>" if missing else "")
    per_symbol = group_table("Symbol", metrics.get("per_symbol") or {}, currency,
                             (Field("buy_and_hold_return", "Buy & hold", "spct", None),))
    per_reason = metrics.get("per_exit_reason") or {}
    per_reason_html = (group_table("Exit reason", per_reason, currency) if per_reason
                       else f"<p>{MISSING}</p>")
    histogram = (_figure_div(returns_histogram(np.asarray(result.trades.profit_ratio)),
                             "returns-histogram") if len(result.trades) else
                 "<p>No trades on this data.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_E(title)}</title><style>{_CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head><body><main>
<h1>{_E(title)}</h1>
<div class="sub">{_E(", ".join(result.symbols))} · {_E(result.timeframe)} · {_E(span)} ·
{n_bars:,} bars · times in UTC · starting balance {_E(balance)}</div>
{_downsample_note(n_bars, result.timeframe, shown_tf, bucket_ms, max_detail)}{missing_note}
{run_facts(run_id, params, settings, currency)}
<h2 id="metrics">Metrics</h2>{warnings_note(metrics)}{cards(metrics)}
<h2 id="equity-curve">Equity and drawdown</h2>{charts[0] if n_bars else "<p>No bars.</p>"}
<h2 id="monthly-returns">Monthly returns</h2>{monthly_table(metrics.get("monthly_returns") or {})}
<h2 id="trade-returns">Distribution of trade returns</h2>{histogram}
<h2 id="charts">Charts</h2>{"".join(charts[1:])}
{risk_events_html(result.risk_events)}
<h2 id="per-symbol">Per symbol</h2>{per_symbol}
<h2 id="per-exit-reason">Per exit reason</h2>{per_reason_html}
<h2 id="trades">Trades</h2>{trade_table(result, currency, max_trade_rows)}
<footer>Generated by SuperBot {_E(_version())} on {generated}. Self-contained: works offline.
Metric definitions: docs/metrics.md.</footer>
</main><script>window.SUPERBOT_PLOT_CONFIG = {json.dumps(_CONFIG)};
{_script()}</script></body></html>
"""
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
