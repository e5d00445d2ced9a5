"""Persistence: kept backtest runs in SQLite (default) or PostgreSQL via SQLAlchemy 2.

Names are loaded on first use (PEP 562): importing a light module of this
package (`engine.store.direct`, `engine.store.rows`) must not import
SQLAlchemy, which `engine.store.runs` does.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "Comparison": "compare", "MetricDelta": "compare", "ParamChange": "compare",
    "data_dir": "paths", "database_url": "paths", "Run": "records", "RunSummary": "records",
    "AmbiguousRunIdError": "runs", "RunLookupError": "runs", "RunNotFoundError": "runs",
    "RunStore": "runs", "StoreUnavailableError": "runs", "open_store": "runs",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'engine.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.store.{_WHERE[name]}"), name)
