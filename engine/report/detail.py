"""Full-detail series embedded next to a downsampled chart, for the browser to zoom into.

A year of 5m candles opens fast only as a few thousand display candles
(downsample.py), but a user who zooms into one week expects 5m candles.
The page carries the detail itself (it must work offline, from one file):
each series as base64 float32 (display precision: 7 significant digits, a
float64 would double the file for nothing a screen can show) inside a
`<script type="application/json">` block that the browser does not parse
until the first zoom. report.js resamples the visible range with the rules
of downsample.py; each trace says how in its plotly `meta`:
`{"detail": "ohlc"}`, or `{"detail": "last" | "min", "key": SERIES, "scale": k}`.

Very long histories are embedded at the finest timeframe that keeps at most
`max_detail` candles (a year of 1m as 5m), pre-resampled with the same rules,
so a file stays within tens of megabytes.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

import numpy as np

from compiler.timeframes import TIMEFRAMES, timeframe_ms
from engine.report.downsample import Buckets, buckets

__all__ = ["DEFAULT_MAX_DETAIL", "ZOOM_POINTS", "detail_blocks", "detail_timeframe"]

DEFAULT_MAX_DETAIL = 120_000  # embedded candles per chart: a year of 5m in full detail
ZOOM_POINTS = 2_500           # candles drawn after a zoom, at most (a week of 5m)


def detail_timeframe(n_bars: int, bar_ms: int, max_detail: int) -> int:
    """Bucket (ms) of the embedded detail: the bar itself, or the finest standard
    multiple of it that keeps at most `max_detail` candles."""
    span = n_bars * bar_ms
    for candidate in TIMEFRAMES:
        ms = timeframe_ms(candidate)
        if ms >= bar_ms and ms % bar_ms == 0 and span / ms <= max_detail:
            return ms
    return timeframe_ms(TIMEFRAMES[-1])


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def _rule(b: Buckets, how: str, values: np.ndarray) -> np.ndarray:
    if how == "first":
        return b.first(values)
    if how == "max":
        return b.max(values)
    if how == "min":
        return b.min(values)
    return b.last(values)


def _script(element_id: str, payload: object) -> str:
    # `</` cannot end the block early: JSON allows the escaped form `<\\/`
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def detail_blocks(div_id: str, time: np.ndarray, bar_ms: int, overview_ms: int,
                  series: Mapping[str, tuple[str, np.ndarray]], *,
                  max_detail: int = DEFAULT_MAX_DETAIL,
                  timeframes: Sequence[str] = TIMEFRAMES,
                  title: str | None = None) -> str:
    """The two script blocks report.js reads for the chart `div_id` ('' when not downsampled).

    `series` maps a key to (rule, values aligned with `time`), the rule being how
    a bucket summarizes it: `first` (open), `max` (high), `min` (low, drawdown)
    or `last` (close, indicator and equity lines). With `title`, the chart's
    title reads `title · <timeframe shown>` after each zoom.
    """
    time = np.asarray(time, dtype=np.int64)
    if overview_ms <= bar_ms or len(time) == 0:
        return ""
    base_ms = detail_timeframe(len(time), bar_ms, max_detail)
    if base_ms >= overview_ms:
        return ""
    b = buckets(time, base_ms)
    if base_ms == bar_ms:
        detail_time = time
        columns = {k: np.asarray(v, dtype=np.float64) for k, (_, v) in series.items()}
    else:  # pre-resampled: the buckets' open times; report.js adds one base bar for the close
        detail_time = b.time
        columns = {k: _rule(b, how, np.asarray(v, dtype=np.float64))
                   for k, (how, v) in series.items()}
    labels = {timeframe_ms(t): t for t in timeframes}
    zoom = sorted(m for m in labels if base_ms <= m < overview_ms and m % base_ms == 0)
    spec = {"bar_ms": base_ms, "overview_ms": overview_ms, "timeframes": zoom,
            "labels": {str(m): labels[m] for m in [*zoom, overview_ms] if m in labels},
            "max_points": ZOOM_POINTS, "title": title}
    steps = np.diff(detail_time)
    regular = len(detail_time) > 1 and bool(np.all(steps == steps[0]))
    # a regular clock (the usual case) is three numbers, not 8 bytes a bar
    time_field: object = ({"start": int(detail_time[0]), "step": int(steps[0]),
                           "n": len(detail_time)} if regular else
                          base64.b64encode(np.ascontiguousarray(detail_time, dtype="<f8")
                                           .tobytes()).decode("ascii"))
    payload = {"time": time_field, "series": {k: _b64(v) for k, v in columns.items()}}
    return _script(f"detail-spec-{div_id}", spec) + _script(f"detail-{div_id}", payload)
