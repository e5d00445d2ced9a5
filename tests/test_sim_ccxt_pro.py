"""The simulator's WebSockets through the real ccxt.pro binance client (streams and the user data stream)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import ccxt
import ccxt.pro
import pytest
from _sim import sim_server

from engine.sim import DEFAULT_KEY, DEFAULT_SECRET, ExchangeSim

TIMEOUT = 5.0


@pytest.fixture()
def sim() -> Iterator[ExchangeSim]:
    with sim_server() as server:
        yield server


def _client(sim: ExchangeSim) -> Any:
    api = ccxt.binance().urls["api"]
    rest = {k: sim.url + urlparse(v).path for k, v in api.items() if isinstance(v, str)}
    ws = sim.url.replace("http://", "ws://")
    return ccxt.pro.binance({"urls": {"api": {**rest, "ws": {"spot": ws + "/ws",
                                                             "ws-api": {"spot": ws + "/ws-api/v3"}}}},
                             "apiKey": DEFAULT_KEY, "secret": DEFAULT_SECRET})


async def _subscribed(sim: ExchangeSim, kind: str) -> None:
    """Wait (bounded) until the simulator holds a subscription of `kind`."""
    deadline = time.monotonic() + TIMEOUT
    while sim.call(sim.subscribers)[kind] == 0:
        assert time.monotonic() < deadline, f"no {kind} subscription within {TIMEOUT} s"
        await asyncio.sleep(0.01)


def test_ccxt_pro_watch_ohlcv_gets_the_candle_the_clock_closed(sim):
    m = sim.state.market
    start = m.now
    c = m.candles["BTCUSDT"]
    i = int((c.time == start).nonzero()[0][0])

    async def go() -> Any:
        ex = _client(sim)
        try:
            await ex.load_markets()
            watch = asyncio.ensure_future(ex.watch_ohlcv("BTC/USDT", "1m"))
            await _subscribed(sim, "streams")
            await asyncio.to_thread(sim.advance, 1)
            return await asyncio.wait_for(watch, TIMEOUT)
        finally:
            await ex.close()

    [candle] = asyncio.run(go())
    assert candle == [start, c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]]


def test_ccxt_pro_watch_orders_sees_a_resting_limit_fill(sim):
    m = sim.state.market
    c = m.candles["BTCUSDT"]
    i = int((c.time == m.now).nonzero()[0][0])
    target = round(float(m.price("BTCUSDT")) * 0.999, 2)
    k = next(k for k in range(i, len(c)) if c.low[k] <= target)

    async def go() -> tuple[Any, Any]:
        ex = _client(sim)
        try:
            await ex.load_markets()
            watch = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
            await _subscribed(sim, "users")
            placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, target)
            first = [(o["id"], o["status"]) for o in await asyncio.wait_for(watch, TIMEOUT)]  # ccxt reuses the dicts
            watch = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))   # listening before the fill
            await asyncio.to_thread(sim.advance, k - i + 1)
            orders = await asyncio.wait_for(watch, TIMEOUT)
            return (placed, first), orders[-1]
        finally:
            await ex.close()

    (placed, first), last = asyncio.run(go())
    assert first == [(placed["id"], "open")]
    assert (last["id"], last["status"], last["filled"], last["average"]) == (placed["id"], "closed", 0.01, target)


def test_ccxt_pro_disconnect_fault_raises_network_error():
    async def go(sim: ExchangeSim) -> None:
        ex = _client(sim)
        try:
            await ex.load_markets()
            await asyncio.wait_for(ex.watch_ohlcv("BTC/USDT", "1m"), TIMEOUT)
        finally:
            await ex.close()

    with sim_server(faults="disconnect:every1") as server, pytest.raises(ccxt.NetworkError, match="1006"):
        asyncio.run(go(server))
