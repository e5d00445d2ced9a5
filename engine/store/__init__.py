"""Persistence: kept backtest runs in SQLite (default) or PostgreSQL via SQLAlchemy 2."""
from __future__ import annotations

from engine.store.compare import Comparison, MetricDelta, ParamChange
from engine.store.paths import data_dir, database_url
from engine.store.records import Run, RunSummary
from engine.store.runs import (
    AmbiguousRunIdError,
    RunLookupError,
    RunNotFoundError,
    RunStore,
    StoreUnavailableError,
    open_store,
)

__all__ = [
    "AmbiguousRunIdError",
    "Comparison",
    "MetricDelta",
    "ParamChange",
    "Run",
    "RunLookupError",
    "RunNotFoundError",
    "RunStore",
    "RunSummary",
    "StoreUnavailableError",
    "data_dir",
    "database_url",
    "open_store",
]
