"""Kept backtest runs: save each one, list them, show one, compare two.

Every `superbot backtest` run is worth keeping: a user tunes a strategy over
dozens of runs and wants to see what a change did. `RunStore` writes a run
(strategy name and content hash, data range, symbols, timeframe, params,
settings, metrics, trades) in one transaction to SQLite in the user's data
directory by default, or to any SQLAlchemy URL (PostgreSQL for a shared
team store). Ids are 32 hex digits; every lookup accepts a unique prefix, as
git does, so `superbot backtest show 3f9a` works.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Engine, RowMapping, create_engine, exc, insert, make_url, select
from sqlalchemy.orm import Session

from dsl.errors import UserError
from engine.kernel.trades import TRADE_FIELDS, SimResult, record_from_plain
from engine.metrics.metrics import iso_time
from engine.store.compare import Comparison, compare
from engine.store.errors import StoreUnavailableError, unreachable
from engine.store.paths import database_url
from engine.store.records import Run, RunSummary
from engine.store.rows import run_row, trade_rows, utc
from engine.store.schema import TRADES, RunRow

__all__ = [
    "AmbiguousRunIdError",
    "RunLookupError",
    "RunNotFoundError",
    "RunStore",
    "StoreUnavailableError",
    "open_store",
]

_HEX = re.compile(r"^[0-9a-f]+$")


class RunLookupError(UserError, LookupError):
    """An id (prefix) does not name exactly one kept run: pick another id."""


class RunNotFoundError(RunLookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no backtest run matches '{run_id}'; "
                         "`superbot backtest list` shows the kept runs")


class AmbiguousRunIdError(RunLookupError):
    def __init__(self, run_id: str, matches: list[str]) -> None:
        shown = ", ".join(m[:12] for m in matches[:5]) + (", ..." if len(matches) > 5 else "")
        super().__init__(f"'{run_id}' matches {len(matches)} backtest runs ({shown}); "
                         "give more characters of the id")


def _trade_record(row: RowMapping) -> dict[str, Any]:
    return record_from_plain({f.name: row[f.column] for f in TRADE_FIELDS})


def _summary_fields(row: RunRow) -> dict[str, Any]:
    metrics = row.metrics or {}
    return {
        "id": row.id, "created_at": utc(row.created_at), "strategy_name": row.strategy_name,
        "strategy_hash": row.strategy_hash, "timeframe": row.timeframe,
        "symbols": tuple(row.symbols), "data_start": iso_time(row.data_start_ms),
        "data_end": iso_time(row.data_end_ms), "n_trades": row.n_trades,
        "total_return": row.total_return, "sharpe": metrics.get("sharpe"),
        "max_drawdown": metrics.get("max_drawdown"),
    }


def _url_source(url: str | None) -> str:
    if url:
        return "the database URL"
    return "SUPERBOT_DATABASE_URL" if os.environ.get("SUPERBOT_DATABASE_URL") else "the default database"


class RunStore:
    """The results database. Open once, use, `close()` (or use as a context manager)."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            engine = self._create_engine(database_url(url))
        self._engine = engine
        try:
            self._migrate(engine)
        except exc.OperationalError as error:
            if "already exists" in str(error.orig):
                self._migrate(engine)  # another process created the tables meanwhile
                return
            raise unreachable(engine.url.render_as_string(hide_password=False), error,
                              source=_url_source(url)) from error
        except (exc.IntegrityError, exc.ProgrammingError):
            self._migrate(engine)  # another process created the tables meanwhile

    @staticmethod
    def _migrate(engine: Engine) -> None:
        """Migrations run only when the database is not at the current head (one query)."""
        from engine.store.migrate import ensure_schema
        ensure_schema(engine)

    @staticmethod
    def _create_engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite"):
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            return create_engine(parsed, connect_args={"timeout": 30})
        return create_engine(parsed, pool_pre_ping=True)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def save_run(self, result: SimResult, *, strategy_name: str, strategy_hash: str,
                 params: dict[str, Any], metrics: dict[str, Any],
                 settings: dict[str, Any] | None = None,
                 created_at: datetime | None = None) -> str:
        """Keep one run with its trades (one transaction); returns the new run id.

        `strategy_hash` is the content hash of the strategy as run (the compiled
        Strategy's `digest`), `params` the parameter values used, `settings`
        the run's other inputs (fee, slippage, balance, data path, ...),
        `metrics` the `compute_metrics` output.
        """
        row = run_row(result, strategy_name=strategy_name, strategy_hash=strategy_hash, params=params,
                      metrics=metrics, settings=settings, created_at=created_at)
        run_id = str(row["id"])
        trades = trade_rows(run_id, result)
        with Session(self._engine) as session, session.begin():
            session.add(RunRow(**row))
            session.flush()
            if trades:
                session.execute(insert(TRADES), trades)
        return run_id

    def list_runs(self, *, strategy: str | None = None, limit: int | None = None
                  ) -> list[RunSummary]:
        """Kept runs, newest first; optionally only one strategy's, at most `limit`."""
        query = select(RunRow).order_by(RunRow.created_at.desc(), RunRow.id)
        if strategy is not None:
            query = query.where(RunRow.strategy_name == strategy)
        if limit is not None:
            query = query.limit(limit)
        with Session(self._engine) as session:
            return [RunSummary(**_summary_fields(row)) for row in session.scalars(query)]

    def resolve_id(self, run_id: str) -> str:
        """The full id of the one run whose id starts with `run_id`."""
        prefix = run_id.strip().lower()
        if not prefix or not _HEX.match(prefix):
            raise RunNotFoundError(run_id)
        with Session(self._engine) as session:
            matches = list(session.scalars(
                select(RunRow.id).where(RunRow.id.startswith(prefix)).order_by(RunRow.id)
                .limit(50)))
        if not matches:
            raise RunNotFoundError(run_id)
        if len(matches) > 1 and prefix not in matches:
            raise AmbiguousRunIdError(run_id, matches)
        return prefix if prefix in matches else matches[0]

    def get_run(self, run_id: str) -> Run:
        """The run whose id is or starts with `run_id`, with its trades."""
        full = self.resolve_id(run_id)
        with Session(self._engine) as session:
            row = session.get_one(RunRow, full)
            trades = session.execute(
                select(TRADES).where(TRADES.c.run_id == full).order_by(TRADES.c.seq)).mappings()
            return Run(**_summary_fields(row), starting_balance=row.starting_balance,
                       params=dict(row.params or {}), settings=dict(row.settings or {}),
                       metrics=dict(row.metrics or {}),
                       trades=[_trade_record(t) for t in trades],
                       superbot_version=row.superbot_version)

    def compare_runs(self, a: str, b: str) -> Comparison:
        """Run `b` against run `a` (ids or unique prefixes): deltas are b - a."""
        return compare(self.get_run(a), self.get_run(b))


def open_store(url: str | None = None) -> RunStore:
    """The results store at `url`, `SUPERBOT_DATABASE_URL`, or the default SQLite file."""
    return RunStore(url)
