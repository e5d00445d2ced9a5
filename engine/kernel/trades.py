"""What a simulation returns: trades as columns, and the equity curve.

Struct-of-arrays because the kernel fills them from compiled code and
metrics/reports read them vectorized. The `Trades` fields are the ONE
definition of a trade record: each carries its kind (`_kind`), and
`TRADE_FIELDS` / `RECORD_FIELDS` derive from them what every other spelling
needs: the row view (`to_records`: JSON output, `--trades` CSV header, the
results store's `show`), the results store's columns
(`engine/store/schema.py`) and their values (`Trades.plain`,
`record_from_plain`). A new field is added here and nowhere else (plus a
migration, which keeps its own frozen copy: migrations are history).

Kinds: `symbol` (int index -> the symbol's name), `side` (+1/-1 -> long/short),
`index` (a bar index: stored, not in the row view), `time` (int64 ms UTC ->
ISO-8601 in the row view, stored as `<name>_ms`), `number` (float64) and
`reason` (int code -> its name in `EXIT_REASONS`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.kernel.risk_events import RiskEvent

__all__ = ["EXIT_REASONS", "RECORD_FIELDS", "TRADE_FIELDS", "SimResult", "TradeField", "Trades",
           "record_from_plain"]

# Codes stored in Trades.exit_reason (index into this tuple).
EXIT_REASONS = ("exit_signal", "stop_loss", "trailing_stop", "roi", "max_hold", "end_of_data",
                "risk_halt", "risk_close_all")


KINDS = ("symbol", "side", "index", "time", "number", "reason")


def _kind(kind: str) -> dict[str, str]:
    """The metadata of a `Trades` field of this kind (see the module docstring)."""
    assert kind in KINDS, kind
    return {"kind": kind}


@dataclass(frozen=True)
class Trades:
    symbol: np.ndarray = field(metadata=_kind("symbol"))         # int32: index into SimResult.symbols
    side: np.ndarray = field(metadata=_kind("side"))             # int8: +1 long, -1 short
    entry_index: np.ndarray = field(metadata=_kind("index"))     # int64: bar index on the shared clock of the fill
    exit_index: np.ndarray = field(metadata=_kind("index"))      # int64
    entry_time: np.ndarray = field(metadata=_kind("time"))       # int64 ms UTC: open of the candle the entry filled in
    exit_time: np.ndarray = field(metadata=_kind("time"))        # int64 ms UTC: open of the candle the exit filled in
    entry_price: np.ndarray = field(metadata=_kind("number"))    # float64, after slippage
    exit_price: np.ndarray = field(metadata=_kind("number"))     # float64, after slippage
    amount: np.ndarray = field(metadata=_kind("number"))         # float64: base-currency quantity
    stake: np.ndarray = field(metadata=_kind("number"))          # float64: quote spent at entry, before fee
    profit_ratio: np.ndarray = field(metadata=_kind("number"))   # float64: net of both fees
    profit_abs: np.ndarray = field(metadata=_kind("number"))     # float64: quote, net of both fees
    fees: np.ndarray = field(metadata=_kind("number"))           # float64: quote paid in fees (entry + exit)
    exit_reason: np.ndarray = field(metadata=_kind("reason"))    # int8: index into EXIT_REASONS

    def __len__(self) -> int:
        return len(self.entry_index)

    def plain(self, symbols: tuple[str, ...]) -> dict[str, list[Any]]:
        """Each field as a list of plain Python values: ints, floats, and names for the
        symbol and the exit reason (what a database stores)."""
        out: dict[str, list[Any]] = {}
        for f in TRADE_FIELDS:
            values = np.asarray(getattr(self, f.name))
            if f.kind == "symbol":
                out[f.name] = [symbols[i] for i in values.astype(np.int64).tolist()]
            elif f.kind == "reason":
                out[f.name] = [EXIT_REASONS[i] for i in values.astype(np.int64).tolist()]
            elif f.kind == "number":
                out[f.name] = values.astype(np.float64).tolist()
            else:
                out[f.name] = values.astype(np.int64).tolist()
        return out

    def to_records(self, symbols: tuple[str, ...]) -> list[dict[str, Any]]:
        """One dict per trade with the `RECORD_FIELDS` keys, in that order (each column is
        converted at once; the values equal `record_from_plain` of the plain values)."""
        plain = self.plain(symbols)
        columns: dict[str, list[Any]] = {}
        for f in TRADE_FIELDS:
            if not f.in_record:
                continue
            if f.kind == "side":
                columns[f.name] = ["long" if v > 0 else "short" for v in plain[f.name]]
            elif f.kind == "time":
                ms = np.asarray(plain[f.name], dtype=np.int64).astype("datetime64[ms]")
                columns[f.name] = [t + "Z" for t in np.datetime_as_string(ms, unit="s").tolist()]
            else:
                columns[f.name] = plain[f.name]
        names = list(columns)
        return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


@dataclass(frozen=True)
class TradeField:
    """One field of a trade: its name in `Trades` and records, and its kind."""

    name: str
    kind: str

    @property
    def in_record(self) -> bool:
        """Bar indexes mean nothing outside the run's clock: they are stored, not shown."""
        return self.kind != "index"

    @property
    def column(self) -> str:
        """The results store's column name (times say their unit)."""
        return f"{self.name}_ms" if self.kind == "time" else self.name


TRADE_FIELDS = tuple(TradeField(f.name, f.metadata["kind"]) for f in fields(Trades))
RECORD_FIELDS = tuple(f.name for f in TRADE_FIELDS if f.in_record)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_from_plain(plain: Mapping[str, Any]) -> dict[str, Any]:
    """The row view of one trade from its plain values (`Trades.plain`, or a stored row
    keyed by field name): side as long/short, times as ISO-8601 UTC."""
    out: dict[str, Any] = {}
    for f in TRADE_FIELDS:
        if not f.in_record:
            continue
        value = plain[f.name]
        if f.kind == "side":
            out[f.name] = "long" if value > 0 else "short"
        elif f.kind == "time":
            out[f.name] = _iso(int(value))
        elif f.kind == "number":
            out[f.name] = float(value)
        else:
            out[f.name] = value
    return out


@dataclass(frozen=True)
class SimResult:
    symbols: tuple[str, ...]
    timeframe: str
    time: np.ndarray          # int64 ms: open times of the shared clock
    trades: Trades
    equity: np.ndarray        # float64 per bar: cash + open positions marked at the close
    starting_balance: float
    risk_events: tuple[RiskEvent, ...] = ()   # rules that fired, in order (engine/kernel/risk.py)
