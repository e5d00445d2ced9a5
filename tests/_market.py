"""Deterministic random candles for compiler and engine tests (no files needed)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z, on every timeframe's boundary


def random_candles(n: int, timeframe: str = "5m", seed: int = 0, start_ms: int = START_MS,
                   symbol: str = "TEST/USDT") -> Candles:
    rng = np.random.default_rng(seed)
    vol = 0.002 * np.exp(np.cumsum(rng.standard_normal(n)) * 0.05)   # wandering volatility
    close = 100 * np.exp(np.cumsum(rng.standard_normal(n) * vol))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = np.abs(rng.standard_normal((2, n))) * vol * close * 0.5
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    volume = rng.lognormal(3, 1, n)
    time = start_ms + np.arange(n, dtype=np.int64) * timeframe_ms(timeframe)
    return Candles.from_arrays(symbol, timeframe, time, open_, high, low, close, volume)


def write_candle_json(path: Path, c: Candles) -> Path:
    """`c` as a freqtrade-style JSON candle file (`[[time_ms, o, h, l, c, v], ...]`), which `--data` reads."""
    columns = (c.open.tolist(), c.high.tolist(), c.low.tolist(), c.close.tolist(), c.volume.tolist())
    path.write_text(json.dumps([[int(t), *ohlcv] for t, *ohlcv in zip(c.time.tolist(), *columns, strict=True)]))
    return path


def strategy_yaml(entry: str, exit: str | None = None, timeframe: str = "5m", params: str = "") -> str:
    """A minimal strategy manifest around string-form conditions (JSON strings are YAML scalars)."""
    lines = ["apiVersion: superbot/v1", "kind: Strategy", "metadata: {name: generated}", "spec:",
             f"  timeframe: {timeframe}"]
    if params:
        lines.append(f"  params: {params}")
    lines.append(f"  entry: {{long: {json.dumps(entry)}}}")
    if exit:
        lines.append(f"  exit: {{long: {json.dumps(exit)}}}")
    return "\n".join(lines) + "\n"
