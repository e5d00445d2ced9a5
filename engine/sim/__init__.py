"""A Binance-compatible exchange simulator on 127.0.0.1 (issue 10): `superbot exchange-sim`.

Modules, bottom up: `market` (candle clock), `book` (account and matching),
`auth` (request signatures), `faults` (seeded failures), `rest` (the REST
endpoints), `server` (HTTP, the in-process runner). docs/exchange-sim.md is
the user's page. Importing this package imports aiohttp: only the
`exchange-sim` command and tests do.
"""
from __future__ import annotations

from engine.sim.market import Market
from engine.sim.server import DEFAULT_KEY, DEFAULT_SECRET, ExchangeSim

__all__ = ["DEFAULT_KEY", "DEFAULT_SECRET", "ExchangeSim", "Market"]
