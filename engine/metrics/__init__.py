"""Performance metrics of a backtest: from the equity curve and the closed trades.

Definitions live in docs/metrics.md; `compute_metrics` is the entry point.
"""
from __future__ import annotations

from engine.metrics.metrics import METRICS_VERSION, compute_metrics

__all__ = ["METRICS_VERSION", "compute_metrics"]
