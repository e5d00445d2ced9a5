"""A kept run as the plain rows the results database stores: what both writers insert.

Built without SQLAlchemy, so the backtest command can keep a run in SQLite
through the standard library (`engine.store.direct`) and `RunStore` can
insert the very same values through SQLAlchemy. The names are the columns of
`engine.store.schema` (a test compares the two writers' rows); the trades'
columns derive from the trade record (`engine.kernel.trades.TRADE_FIELDS`).
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from compiler.timeframes import timeframe_ms
from engine.kernel.trades import TRADE_FIELDS, SimResult

__all__ = ["json_value", "run_row", "trade_rows", "utc"]


def _version() -> str:
    try:
        return metadata.version("superbot")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def json_value(data: Any) -> Any:
    """A JSON round trip: what the database will hand back (tuples -> lists, str keys)."""
    return json.loads(json.dumps(data, default=str, allow_nan=False))


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def run_row(result: SimResult, *, strategy_name: str, strategy_hash: str, params: dict[str, Any],
            metrics: dict[str, Any], settings: dict[str, Any] | None = None,
            created_at: datetime | None = None) -> dict[str, Any]:
    """The `backtest_runs` row of a new run (a fresh 32-hex-digit id)."""
    n_bars = len(result.time)
    bar_ms = timeframe_ms(result.timeframe)
    return {
        "id": uuid.uuid4().hex,
        "created_at": utc(created_at or datetime.now(UTC)),
        "strategy_name": strategy_name,
        "strategy_hash": strategy_hash,
        "timeframe": result.timeframe,
        "symbols": list(result.symbols),
        "data_start_ms": int(result.time[0]) if n_bars else None,
        "data_end_ms": int(result.time[-1]) + bar_ms if n_bars else None,
        "starting_balance": float(result.starting_balance),
        "params": json_value(params),
        "settings": json_value(settings or {}),
        "metrics": json_value(metrics),
        "n_trades": len(result.trades),
        "total_return": metrics.get("total_return"),
        "superbot_version": _version(),
    }


def trade_rows(run_id: str, result: SimResult) -> list[dict[str, Any]]:
    """The `backtest_trades` rows of a run, in trade order (`seq` 0, 1, ...)."""
    plain = result.trades.plain(result.symbols)
    columns = {f.column: plain[f.name] for f in TRADE_FIELDS}
    names = list(columns)
    return [{"run_id": run_id, "seq": seq, **dict(zip(names, row, strict=True))}
            for seq, row in enumerate(zip(*columns.values(), strict=True))]
