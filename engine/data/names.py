"""Symbols, store directory names and freqtrade's data file names.

A unified symbol is ccxt's: `BTC/USDT` (spot), `XRP/USDT:USDT` (a contract
settled in USDT). On disk a symbol becomes a directory name the way
freqtrade names its files, `BTC_USDT` and `XRP_USDT_USDT`, so a user who
knows one layout reads the other. The store also keeps the exact symbol in
each file's metadata, so the mapping never has to be reversed by guessing.

freqtrade names a candle file `<BASE>_<QUOTE>[_<SETTLE>]-<tf>[-<type>].<ext>`
with type `futures`, `mark`, `index`, `premiumIndex` or `funding_rate`, and
trades files `<pair>-trades.<ext>`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CANDLE_SUFFIXES", "FileName", "check_symbol", "parse_file_name", "symbol_dirname"]

CANDLE_SUFFIXES = (".feather", ".parquet", ".json", ".json.gz", ".jsongz", ".csv", ".csv.gz")
TRADE_CANDLE_TYPES = ("", "spot", "futures")   # types that are trade candles (not mark/index/...)

_SYMBOL = re.compile(r"^[A-Za-z0-9.]+/[A-Za-z0-9.]+(:[A-Za-z0-9.]+(-[A-Za-z0-9]+)?)?$")
_NAME = re.compile(
    r"^(?P<pair>[A-Za-z0-9.]+(?:_[A-Za-z0-9.]+){1,2})"
    r"-(?:(?P<tf>[0-9]+[smhdwMy])(?:-(?P<type>[A-Za-z_]+))?|(?P<trades>trades))$"
)


def check_symbol(symbol: str) -> str:
    """The symbol if it is a unified symbol such as `BTC/USDT` or `XRP/USDT:USDT`."""
    s = symbol.strip()
    if not _SYMBOL.match(s):
        raise ValueError(f"'{symbol}' is not a symbol; write it as BASE/QUOTE, e.g. BTC/USDT "
                         "(or BASE/QUOTE:SETTLE for a contract, e.g. XRP/USDT:USDT)")
    return s


def symbol_dirname(symbol: str) -> str:
    """`BTC/USDT` -> `BTC_USDT`, `XRP/USDT:USDT` -> `XRP_USDT_USDT` (freqtrade's spelling)."""
    return check_symbol(symbol).replace("/", "_").replace(":", "_")


@dataclass(frozen=True)
class FileName:
    """What a freqtrade file name says about its contents."""

    symbol: str
    timeframe: str | None      # None for a trades file
    candle_type: str           # '' (spot), 'futures', 'mark', 'index', ..., or 'trades'

    @property
    def is_trade_candles(self) -> bool:
        return self.candle_type in TRADE_CANDLE_TYPES


def _stem(path: Path) -> str | None:
    name = path.name
    for suffix in sorted(CANDLE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return None


def parse_file_name(path: str | Path) -> FileName | None:
    """`UNITTEST_BTC-5m.feather` -> UNITTEST/BTC 5m; None when the name does not follow
    freqtrade's pattern (the caller then needs --symbol and --timeframe)."""
    stem = _stem(Path(path))
    match = _NAME.match(stem) if stem is not None else None
    if match is None:
        return None
    parts = match["pair"].split("_")
    symbol = f"{parts[0]}/{parts[1]}" + (f":{parts[2]}" if len(parts) == 3 else "")
    if match["trades"]:
        return FileName(symbol, None, "trades")
    return FileName(symbol, match["tf"], match["type"] or "")
