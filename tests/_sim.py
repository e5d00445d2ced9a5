"""Shared pieces of the exchange-simulator tests: a seeded market and real clients pointed at it."""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from engine.data.synth import synth_candles
from engine.sim import DEFAULT_KEY, DEFAULT_SECRET, ExchangeSim, Market

__all__ = ["binance_client", "ccxt_client", "make_market", "sim_server"]

T0 = 1_704_067_200_000   # 2024-01-01 00:00 UTC


def make_market(days: float = 2, start: int | None = None) -> Market:
    """BTC/USDT and ETH/USDT 1m synthetic candles (fixed seeds), the clock 1000 candles in."""
    return Market([synth_candles("BTC/USDT", "1m", days=days, seed=11, start=T0),
                   synth_candles("ETH/USDT", "1m", days=days, seed=12, start=T0)], start=start)


def sim_server(**kwargs: Any) -> ExchangeSim:
    return ExchangeSim(make_market(), **kwargs)


def ccxt_client(url: str, **extra: Any) -> Any:
    """The real ccxt binance client with every API URL sent to the simulator."""
    import ccxt
    api = ccxt.binance().urls["api"]
    urls = {k: url + urlparse(v).path for k, v in api.items() if isinstance(v, str)}
    return ccxt.binance({"urls": {"api": urls}, "apiKey": DEFAULT_KEY, "secret": DEFAULT_SECRET,
                         **extra})


def binance_client(url: str, **extra: Any) -> Any:
    """The real python-binance client (no ping at construction) talking to the simulator."""
    from binance.client import Client
    # its constructor sets an event loop of its own for its WebSocket API; the REST calls never use
    # it, so give it one and close it at once, or a later asyncio.run() orphans it (ResourceWarning)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        client = Client(DEFAULT_KEY, DEFAULT_SECRET, ping=False, **extra)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    client.API_URL = url + "/api"
    return client
