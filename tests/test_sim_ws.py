"""The simulator's WebSockets, framed as Binance frames them: kline streams and the user data stream."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from _sim import binance_client, sim_server

from engine.sim import DEFAULT_KEY, DEFAULT_SECRET, ExchangeSim
from engine.sim.auth import sign

TIMEOUT = 5.0


@pytest.fixture()
def sim() -> Iterator[ExchangeSim]:
    with sim_server() as server:
        yield server


async def _frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Any]:
    out = []
    while len(out) < count:
        msg = await asyncio.wait_for(ws.receive(), TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        out.append(json.loads(msg.data))
    return out


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_ws_kline_stream_pushes_the_closed_candle_then_the_open_one(sim):
    m = sim.state.market
    start = m.now
    c = m.candles["BTCUSDT"]

    async def go() -> list[Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws/btcusdt@kline_1m") as ws:
            await asyncio.to_thread(sim.advance, 1)
            return await _frames(ws, 2)

    closed, opened = _run(go())
    i = int((c.time == start).nonzero()[0][0])
    assert (closed["e"], closed["s"], closed["k"]["t"], closed["k"]["x"]) == ("kline", "BTCUSDT", start, True)
    assert float(closed["k"]["h"]) == pytest.approx(c.high[i])
    assert (opened["k"]["t"], opened["k"]["x"], opened["k"]["v"]) == (start + 60_000, False, "0.00000000")


def test_ws_combined_stream_wraps_events_with_their_stream_name(sim):
    async def go() -> list[Any]:
        url = sim.url + "/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m"
        async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
            await asyncio.to_thread(sim.advance, 1)
            return await _frames(ws, 4)

    frames = _run(go())
    assert sorted({f["stream"] for f in frames}) == ["btcusdt@kline_1m", "ethusdt@kline_1m"]
    assert all(f["data"]["s"] == f["stream"].split("@")[0].upper() for f in frames)


def test_ws_subscribe_message_adds_a_stream(sim):
    async def go() -> list[Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws") as ws:
            await ws.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@kline_1m"], "id": 7})
            ack = await _frames(ws, 1)
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
            listed = await _frames(ws, 1)
            await asyncio.to_thread(sim.advance, 1)
            return ack + listed + await _frames(ws, 1)

    ack, listed, event = _run(go())
    assert (ack, listed) == ({"result": None, "id": 7}, {"result": ["ethusdt@kline_1m"], "id": 8})
    assert event["s"] == "ETHUSDT"


def _signed(params: dict[str, Any], secret: str = DEFAULT_SECRET) -> dict[str, Any]:
    params = {**params, "apiKey": DEFAULT_KEY, "timestamp": int(time.time() * 1000)}
    return {**params, "signature": sign(secret, urlencode(sorted(params.items())))}


def test_ws_api_user_stream_reports_new_trade_and_balances(sim):
    client = binance_client(sim.url)

    async def go() -> list[Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws-api/v3") as ws:
            await ws.send_json({"id": "a", "method": "session.logon", "params": _signed({})})
            await ws.send_json({"id": "b", "method": "userDataStream.subscribe"})
            answers = await _frames(ws, 2)
            await asyncio.to_thread(client.order_market_buy, symbol="BTCUSDT", quantity="0.01",
                                    newClientOrderId="mkt-1")
            return answers + await _frames(ws, 4)

    logon, sub, new, pos1, trade, pos2 = _run(go())
    assert (logon["status"], logon["result"]["apiKey"]) == (200, DEFAULT_KEY)
    assert sub == {"id": "b", "status": 200, "result": {"subscriptionId": 0}, "rateLimits": []}
    assert [(f["event"]["e"], f["event"].get("x")) for f in (new, pos1, trade, pos2)] == [
        ("executionReport", "NEW"), ("outboundAccountPosition", None), ("executionReport", "TRADE"),
        ("outboundAccountPosition", None)]
    t = trade["event"]
    assert (t["c"], t["X"], t["l"], t["N"]) == ("mkt-1", "FILLED", "0.01000000", "BTC")
    btc = next(b for b in pos2["event"]["B"] if b["a"] == "BTC")
    assert btc["f"] == "0.00999000"


def test_ws_api_signed_subscribe_and_bad_signature(sim):
    async def go() -> list[Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws-api/v3") as ws:
            await ws.send_json({"id": 1, "method": "userDataStream.subscribe.signature",
                                "params": _signed({}, "wrong")})
            await ws.send_json({"id": 2, "method": "userDataStream.subscribe"})
            await ws.send_json({"id": 3, "method": "userDataStream.subscribe.signature",
                                "params": _signed({})})
            return await _frames(ws, 3)

    bad, unauthenticated, good = _run(go())
    assert bad["error"]["code"] == -1022
    assert unauthenticated["error"]["code"] == -2015
    assert good["result"] == {"subscriptionId": 0}


def test_ws_disconnect_fault_cuts_the_stream_after_a_frame():
    with sim_server(faults="disconnect:every2") as sim:
        async def go() -> tuple[list[Any], aiohttp.WSMsgType]:
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws/btcusdt@kline_1m") as ws:
                await asyncio.to_thread(sim.advance, 3)
                frames = await _frames(ws, 10)
                last = await asyncio.wait_for(ws.receive(), TIMEOUT)
                return frames, last.type

        frames, last = _run(go())
    assert len(frames) == 2
    assert last in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR)


def test_ws_coarse_kline_stream_closes_its_candle_on_its_boundary():
    from _sim import T0, make_market

    market = make_market(start=T0 + 1003 * 60_000)     # two minutes before a 5m boundary
    with ExchangeSim(market) as sim:
        async def go() -> list[Any]:
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws/btcusdt@kline_5m") as ws:
                await asyncio.to_thread(sim.advance, 2)
                return await _frames(ws, 3)

        first, closed, opened = _run(go())
    c = market.candles["BTCUSDT"]
    assert (first["k"]["t"], first["k"]["x"]) == (T0 + 1000 * 60_000, False)
    assert (closed["k"]["t"], closed["k"]["T"], closed["k"]["x"]) == (T0 + 1000 * 60_000, T0 + 1005 * 60_000 - 1, True)
    assert float(closed["k"]["h"]) == pytest.approx(c.high[1000:1005].max())
    assert float(closed["k"]["c"]) == pytest.approx(c.close[1004])
    assert (opened["k"]["t"], opened["k"]["x"]) == (T0 + 1005 * 60_000, False)


@pytest.mark.parametrize("stream", ["dogeusdt@kline_1m", "btcusdt@trade", "btcusdt@kline_1w"])
def test_ws_subscribe_to_a_stream_not_served_is_an_error(sim, stream):
    async def go() -> list[Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.url + "/ws") as ws:
            await ws.send_json({"method": "SUBSCRIBE", "params": [stream], "id": 3})
            return await _frames(ws, 1)

    [answer] = _run(go())
    assert (answer["id"], answer["error"]["code"]) == (3, 2)
    assert stream in answer["error"]["msg"]
