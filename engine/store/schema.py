"""Tables of kept backtest runs: one row per run, one row per trade.

Trades get their own table (not a JSON blob) so a database user can query
them, and so PostgreSQL and SQLite store them the same way. Its columns are
derived from the one definition of a trade record, `engine.kernel.trades`
(`TRADE_FIELDS`): a Core table, read and written as plain rows. Times are int64
UTC milliseconds, like everywhere in the engine; `created_at` is a timezone
aware timestamp. The database is brought to this schema by the Alembic
migrations in `migrations/` (`engine.store.migrate`): a change here needs a
new revision there (`alembic revision --autogenerate`), and
`tests/test_store_migrations.py` fails until the two agree.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.kernel.trades import TRADE_FIELDS

__all__ = ["TRADES", "Base", "RunRow"]


class Base(DeclarativeBase):
    """Declarative base of the results store (its own metadata, nobody else's)."""


class RunRow(Base):
    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    strategy_name: Mapped[str] = mapped_column(String(200), index=True)
    strategy_hash: Mapped[str] = mapped_column(String(64), index=True)
    timeframe: Mapped[str] = mapped_column(String(8))
    symbols: Mapped[list[str]] = mapped_column(JSON)
    data_start_ms: Mapped[int | None] = mapped_column(BigInteger)
    data_end_ms: Mapped[int | None] = mapped_column(BigInteger)
    starting_balance: Mapped[float] = mapped_column(Double)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    n_trades: Mapped[int] = mapped_column(Integer)
    total_return: Mapped[float | None] = mapped_column(Double)
    superbot_version: Mapped[str] = mapped_column(String(32))


def _trade_columns() -> list[Column[Any]]:
    """One column per field of the trade record (`engine.kernel.trades.TRADE_FIELDS`)."""
    types: dict[str, Any] = {"symbol": String(64), "side": SmallInteger(), "index": BigInteger(),
                             "time": BigInteger(), "number": Double(), "reason": String(32)}
    return [Column(f.column, types[f.kind], nullable=False) for f in TRADE_FIELDS]


TRADES = Table(
    "backtest_trades", Base.metadata,
    Column("run_id", String(32), ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    *_trade_columns(),
)
