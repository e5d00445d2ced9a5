"""The report's plotly figures: candles with trades and indicators, equity and drawdown.

Steps:
1. resample candles, indicator lines and the equity curve to the display
   timeframe (downsample.py); trade markers keep their exact times and prices;
2. put indicators on the price chart when they live on the price scale
   (moving averages, bands, VWAP), in their own rows otherwise (RSI, MACD),
   one row per indicator family (`macd_12_26_9.*` share a row);
3. entries are triangles (up for long, down for short), exits diamonds
   coloured by outcome, and a thin line joins each trade's entry and exit.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.data.candles import Candles
from engine.kernel.trades import EXIT_REASONS, Trades
from engine.report.downsample import Buckets, buckets, resample_ohlc

__all__ = ["TradeMarks", "equity_figure", "indicator_key", "is_histogram", "is_overlay",
           "price_figure", "returns_histogram"]

GREEN, RED, BLUE, GREY = "#16a34a", "#dc2626", "#2563eb", "#6b7280"
_OVERLAY_GROUPS = {"Overlap Studies", "Price Transform"}
_PANEL_GROUPS = {"Momentum Indicators", "Volatility Indicators", "Cycle Indicators",
                 "Pattern Recognition", "Math Transform"}
_PRICE_TERMS = {"open", "high", "low", "close", "hl2", "hlc3", "ohlc4"}
_MAX_PANELS = 4
_NAT = np.datetime64("NaT", "ms")


def _dates(ms: np.ndarray) -> np.ndarray:
    return np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")


def _registry_group(name: str) -> str | None:
    """TA-Lib group of the indicator a column is named after (`bbands_20_2.upper`)."""
    head = re.split(r"[.(@\[\s]", name.strip().lower(), maxsplit=1)[0]
    if head in _PRICE_TERMS:
        return "Price Transform"
    try:
        from compiler import indicators
    except ImportError:  # pragma: no cover - the compiler ships with the engine
        return None
    parts = head.split("_")
    for k in range(len(parts), 0, -1):
        spec = indicators.get("_".join(parts[:k]))
        if spec is not None:
            return spec.group
    return None


def indicator_key(name: str) -> str:
    """The key of an indicator's series in a chart's detail block (detail.py)."""
    return "i:" + name


def is_histogram(name: str) -> bool:
    """Whether an indicator output is a histogram drawn as bars (`macd_12_26_9.macdhist`)."""
    output = re.split(r"@", name, maxsplit=1)[0].rsplit(".", 1)
    return len(output) == 2 and bool(re.fullmatch(r"\w*hist(ogram)?", output[1].lower()))


def _line(name: str, x: np.ndarray, y: np.ndarray) -> go.Scatter | go.Bar:
    """An indicator trace: bars coloured by sign for a histogram, a line otherwise."""
    meta: dict[str, object] = {"detail": "last", "key": indicator_key(name)}
    if is_histogram(name):  # report.js recolours the bars by sign after a zoom
        meta["colors"] = [GREEN, RED]
        return go.Bar(x=x, y=y, name=name, meta=meta, marker={"color": np.where(y >= 0, GREEN, RED),
                                                                "line": {"width": 0}})
    return go.Scatter(x=x, y=y, mode="lines", name=name, meta=meta, line={"width": 1.2})


def is_overlay(name: str, values: np.ndarray, close: np.ndarray,
               overlays: Collection[str] | None = None) -> bool:
    """Whether an indicator belongs on the price chart.

    `overlays` decides when given; else the indicator's TA-Lib group; else
    whether its values stay within 25 % of the close (median distance).
    """
    if overlays is not None:
        return name in overlays
    group = _registry_group(name)
    if group in _OVERLAY_GROUPS:
        return True
    if group in _PANEL_GROUPS:
        return False
    ok = np.isfinite(values) & np.isfinite(close) & (close != 0)
    if not ok.any():
        return False
    return bool(np.median(np.abs(values[ok] / close[ok] - 1.0)) < 0.25)


@dataclass(frozen=True)
class TradeMarks:
    """The trades of one symbol, as the chart needs them."""

    number: np.ndarray        # 1-based trade number in the run
    side: np.ndarray
    entry_time: np.ndarray
    entry_price: np.ndarray
    exit_time: np.ndarray
    exit_price: np.ndarray
    profit_ratio: np.ndarray
    exit_reason: np.ndarray   # str

    @classmethod
    def of(cls, trades: Trades, symbol_index: int) -> TradeMarks:
        mask = np.asarray(trades.symbol) == symbol_index
        reasons = np.asarray(EXIT_REASONS, dtype=object)
        return cls(np.flatnonzero(mask) + 1, np.asarray(trades.side)[mask],
                   np.asarray(trades.entry_time)[mask], np.asarray(trades.entry_price)[mask],
                   np.asarray(trades.exit_time)[mask], np.asarray(trades.exit_price)[mask],
                   np.asarray(trades.profit_ratio)[mask],
                   reasons[np.asarray(trades.exit_reason, dtype=np.int64)[mask]])


def _spans(marks: TradeMarks, won: bool) -> go.Scatter:
    """One trace of entry->exit segments (None-separated) for winners or losers."""
    mask = (marks.profit_ratio > 0) == won
    n = int(mask.sum())
    x = np.empty(3 * n, dtype="datetime64[ms]")
    y = np.full(3 * n, np.nan)
    # NaT with an explicit unit: a unit-less ("generic") NaT is deprecated in NumPy
    x[0::3], x[1::3], x[2::3] = _dates(marks.entry_time[mask]), _dates(marks.exit_time[mask]), _NAT
    y[0::3], y[1::3] = marks.entry_price[mask], marks.exit_price[mask]
    return go.Scatter(x=x, y=y, mode="lines", line={"color": GREEN if won else RED, "width": 1},
                      opacity=0.5, hoverinfo="skip", showlegend=False,
                      name="winning trades" if won else "losing trades")


def _marker_size(n: int) -> int:
    """Smaller markers when a chart holds many trades, so the candles stay visible."""
    return 9 if n <= 200 else 7 if n <= 1000 else 5


def _markers(marks: TradeMarks) -> list[go.Scatter]:
    side = np.where(marks.side > 0, "long", "short")
    size = _marker_size(len(marks.number))
    entries = go.Scatter(
        x=_dates(marks.entry_time), y=marks.entry_price, mode="markers", name="entry",
        marker={"symbol": np.where(marks.side > 0, "triangle-up", "triangle-down"),
                "color": BLUE, "size": size, "line": {"width": 0.5, "color": "white"}},
        customdata=np.stack([marks.number, side], axis=-1),
        hovertemplate="trade %{customdata[0]} %{customdata[1]} entry<br>%{x}<br>"
                      "price %{y:.8g}<extra></extra>")
    pct = np.char.mod("%+.2f%%", marks.profit_ratio * 100)
    exits = go.Scatter(
        x=_dates(marks.exit_time), y=marks.exit_price, mode="markers", name="exit",
        marker={"symbol": "diamond", "size": max(size - 1, 4),
                "color": np.where(marks.profit_ratio > 0, GREEN, RED),
                "line": {"width": 0.5, "color": "white"}},
        customdata=np.stack([marks.number, marks.exit_reason, pct], axis=-1),
        hovertemplate="trade %{customdata[0]} exit: %{customdata[1]}<br>%{x}<br>"
                      "price %{y:.8g} · %{customdata[2]}<extra></extra>")
    return [_spans(marks, True), _spans(marks, False), entries, exits]


def _panels(names: list[str]) -> list[list[str]]:
    """Indicator names grouped by family (text before '.' or '@'), at most _MAX_PANELS rows.

    `macd_12_26_9.macd` and `.signal` share a row, as do `rsi_14` and `rsi_14@1h`.
    """
    families: dict[str, list[str]] = {}
    for name in names:
        families.setdefault(re.split(r"[.@]", name, maxsplit=1)[0], []).append(name)
    rows = list(families.values())
    if len(rows) > _MAX_PANELS:
        rows = [*rows[:_MAX_PANELS - 1], [n for row in rows[_MAX_PANELS - 1:] for n in row]]
    return rows


def price_figure(candles: Candles, indicators: Mapping[str, np.ndarray], marks: TradeMarks,
                 bucket_ms: int, *, overlays: Collection[str] | None = None,
                 title: str = "") -> go.Figure:
    """Candles (resampled to `bucket_ms`), trade markers, indicator lines and panels."""
    bar_ms = int(np.median(np.diff(candles.time))) if len(candles) > 1 else bucket_ms
    b = buckets(candles.time, bucket_ms)
    o, h, low, c = resample_ohlc(b, candles.open, candles.high, candles.low, candles.close)
    line_x = _dates(b.last(candles.time) + bar_ms)
    usable = {k: np.asarray(v, dtype=np.float64) for k, v in indicators.items()
              if len(v) == len(candles)}
    over = [k for k, v in usable.items() if is_overlay(k, v, candles.close, overlays)]
    panels = _panels([k for k in usable if k not in over])
    rows = 1 + len(panels)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[3.0] + [1.0] * len(panels),
                        subplot_titles=[""] + [", ".join(p) for p in panels])
    fig.add_trace(go.Candlestick(
        x=_dates(b.time + bucket_ms // 2), open=o, high=h, low=low, close=c, name=candles.symbol,
        meta={"detail": "ohlc"},
        increasing={"line": {"color": "#26a69a", "width": 1}, "fillcolor": "#26a69a"},
        decreasing={"line": {"color": "#ef5350", "width": 1}, "fillcolor": "#ef5350"}),
        row=1, col=1)
    for name in over:
        fig.add_trace(_line(name, line_x, b.last(usable[name])), row=1, col=1)
    for trace in _markers(marks):
        fig.add_trace(trace, row=1, col=1)
    for i, panel in enumerate(panels, start=2):
        for name in panel:
            fig.add_trace(_line(name, line_x, b.last(usable[name])), row=i, col=1)
    fig.update_xaxes(rangeslider_visible=False, type="date")
    if len(candles):  # no autorange padding: the chart spans exactly the backtest
        fig.update_xaxes(range=list(_dates(np.array([candles.time[0],
                                                      candles.time[-1] + bar_ms]))))
    fig.update_layout(
        title={"text": title, "x": 0.01, "y": 0.99, "yanchor": "top"}, template="plotly_white",
        height=540 + 170 * len(panels), hovermode="closest", bargap=0,
        margin={"l": 60, "r": 20, "t": 80, "b": 30},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
    )
    return fig


def equity_figure(time: np.ndarray, equity: np.ndarray, drawdown: np.ndarray, bar_ms: int,
                  bucket_ms: int, benchmark: np.ndarray | None = None) -> go.Figure:
    """Equity (and buy-and-hold) above, drawdown in % below; per bar arrays on one clock."""
    b: Buckets = buckets(time, bucket_ms)
    x = _dates(b.last(time) + bar_ms)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[2.0, 1.0])
    fig.add_trace(go.Scatter(x=x, y=b.last(equity), mode="lines", name="strategy",
                             meta={"detail": "last", "key": "equity"},
                             line={"color": BLUE, "width": 1.5}), row=1, col=1)
    if benchmark is not None and len(benchmark) == len(time):
        fig.add_trace(go.Scatter(x=x, y=b.last(benchmark), mode="lines", name="buy & hold",
                                 meta={"detail": "last", "key": "benchmark"},
                                 line={"color": GREY, "width": 1.2, "dash": "dot"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=b.min(drawdown) * 100.0, mode="lines", name="drawdown",
                             meta={"detail": "min", "key": "drawdown", "scale": 100},
                             fill="tozeroy", line={"color": RED, "width": 1},
                             hovertemplate="%{x}<br>%{y:.2f}%<extra>drawdown</extra>"),
                  row=2, col=1)
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", ticksuffix="%", row=2, col=1)
    fig.update_xaxes(type="date")
    fig.update_layout(template="plotly_white", height=520, hovermode="x unified",
                      margin={"l": 70, "r": 20, "t": 60, "b": 30},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1.0,
                              "xanchor": "right"})
    return fig


def returns_histogram(profit_ratio: np.ndarray) -> go.Figure:
    """The distribution of trade returns (%), winners green and losers red, on shared bins."""
    pct = np.asarray(profit_ratio, dtype=np.float64) * 100.0
    pct = pct[np.isfinite(pct)]
    lo, hi = (float(pct.min()), float(pct.max())) if len(pct) else (0.0, 0.0)
    width = max((hi - lo) / 60.0, 1e-6)  # about 60 bins whatever the spread
    # bins aligned on 0, so no bin holds both winners and losers
    bins = {"start": np.floor(lo / width) * width, "end": np.ceil(hi / width) * width + width,
            "size": width}
    fig = go.Figure()
    for name, mask, colour in (("losing trades", pct < 0, RED), ("winning trades", pct > 0, GREEN),
                               ("break-even", pct == 0, GREY)):
        if mask.any():
            fig.add_trace(go.Histogram(x=pct[mask], xbins=bins, name=name,
                                       marker={"color": colour}, opacity=0.85,
                                       hovertemplate="%{x}%: %{y} trades<extra></extra>"))
    fig.update_layout(template="plotly_white", height=320, barmode="overlay", bargap=0.05,
                      margin={"l": 60, "r": 20, "t": 30, "b": 40},
                      xaxis={"title": {"text": "trade return"}, "ticksuffix": "%"},
                      yaxis={"title": {"text": "trades"}},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0.0,
                              "xanchor": "left"})
    return fig
