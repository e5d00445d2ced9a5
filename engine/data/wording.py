"""Counts in messages read as English: `1 candle`, `2 candles`, `1,440 candles`.

Every count the data commands print goes through `count`, so no message says
"1 candles" or "1 ranges".
"""
from __future__ import annotations

__all__ = ["count"]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and `noun` in the number `n` asks for."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
