"""The candle representation the data layer hands out: `compiler.candles.Candles`.

Defined one layer down, in `compiler`, because the compiler's evaluators and
resampler take candles and must not import the engine; re-exported here so
the data layer and its callers name it where they get it.
"""
from __future__ import annotations

from compiler.candles import FIELDS, Candles

__all__ = ["FIELDS", "Candles"]
