"""The simulator's WebSockets: Binance market streams and the WebSocket API's user data stream.

Market streams (`/ws/<stream>[/<stream>...]` raw frames, `/stream?streams=a/b`
combined frames `{"stream": name, "data": event}`; both accept
`{"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS", "params": [...], "id": n}`).
The one stream kind is `<symbol>@kline_<interval>` (the intervals klines serve):
after each clock step, the candle that closed (`"x": true`) if one did, then
the current one (`"x": false`).

WebSocket API (`/ws-api/v3`): requests `{"id", "method", "params"}`, answers
`{"id", "status", "result" | "error", "rateLimits"}`. Methods: `ping`, `time`,
`session.logon` (apiKey, timestamp, signature; HMAC keys are accepted here,
where Binance itself takes only Ed25519 keys), `session.status`,
`session.logout`, `userDataStream.subscribe` (after logon),
`userDataStream.subscribe.signature` (signed request), and
`userDataStream.unsubscribe`. A signature covers the other parameters sorted by
name, URL-encoded (Binance's rule). Subscribed sessions get
`{"subscriptionId": n, "event": {...}}` frames: an `executionReport` for
every order change and an `outboundAccountPosition` after every fill.

The `disconnect` fault is drawn for every frame sent: when it strikes, the
connection is cut (no close frame) right after that frame.
"""
from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from engine.sim.auth import verify
from engine.sim.book import Fill, Order, fmt
from engine.sim.errors import ApiError
from engine.sim.market import Bar

if TYPE_CHECKING:
    from engine.sim.server import SimState

__all__ = ["Hub", "execution_report", "kline_event"]


def kline_event(symbol: str, interval: str, bar: Bar, step: int, closed: bool) -> dict[str, Any]:
    """A `kline` event as Binance frames it (event time: the candle's close for a closed one)."""
    def f(x: float) -> str:
        return f"{x:.8f}"
    return {"e": "kline", "E": bar.time + step if closed else bar.time, "s": symbol,
            "k": {"t": bar.time, "T": bar.time + step - 1, "s": symbol, "i": interval, "f": -1, "L": -1,
                  "o": f(bar.open), "c": f(bar.close), "h": f(bar.high), "l": f(bar.low),
                  "v": f(bar.volume), "n": 0, "x": closed, "q": f(bar.volume * bar.close),
                  "V": "0.00000000", "Q": "0.00000000", "B": "0"}}


def execution_report(o: Order, fill: Fill | None, now: int) -> dict[str, Any]:
    """Binance's `executionReport` for an order change (`fill` set for a trade)."""
    zero = Decimal(0)
    kind = "TRADE" if fill is not None else o.status if o.status != "PARTIALLY_FILLED" else "TRADE"
    when = fill.time if fill is not None else o.update_time
    return {"e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side,
            "o": o.type, "f": o.time_in_force or "GTC", "q": fmt(o.orig_qty), "p": fmt(o.price),
            "P": fmt(o.stop_price), "F": fmt(zero), "g": -1,
            "C": o.client_order_id if o.status == "CANCELED" else "", "x": kind, "X": o.status,
            "r": "NONE", "i": o.order_id, "l": fmt(fill.qty if fill else zero),
            "z": fmt(o.executed_qty), "L": fmt(fill.price if fill else zero),
            "n": fmt(fill.commission if fill else zero), "N": fill.commission_asset if fill else None,
            "T": when, "t": fill.trade_id if fill else -1, "I": 0, "w": o.is_working and o.is_open,
            "m": fill.is_maker if fill else False, "M": False, "O": o.time, "Z": fmt(o.cum_quote),
            "Y": fmt(fill.qty * fill.price if fill else zero),
            "Q": fmt(o.orig_quote or zero), "W": o.time, "V": "NONE"}


class _Conn:
    """One WebSocket: its frames go out in order through a queue and a writer task."""

    def __init__(self, hub: Hub, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def send(self, payload: Any) -> None:
        self.queue.put_nowait(json.dumps(payload))

    async def writer(self) -> None:
        while (text := await self.queue.get()) is not None:
            if self.ws.closed:
                return
            await self.ws.send_str(text)
            if self.hub.state.faults.strikes("disconnect"):
                if self.request.transport is not None:
                    self.request.transport.abort()
                return


class Hub:
    """Routes clock ticks to stream subscribers and order changes to user data subscribers."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.streams: dict[_Conn, tuple[bool, set[str]]] = {}   # conn -> (combined, streams)
        self.users: dict[_Conn, int] = {}                        # conn -> subscriptionId
        self._next_subscription = 0
        state.bar_listeners.append(self.on_bars)
        state.account.listeners.append(self.on_order)

    async def close(self) -> None:
        """Close every open WebSocket (the server is stopping)."""
        for conn in [*self.streams, *self.users]:
            await conn.ws.close(code=1001, message=b"server stopping")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._market)
        app.router.add_get("/ws/{streams:.*}", self._market)
        app.router.add_get("/stream", self._market)
        app.router.add_get("/ws-api/v3", self._api)

    # ---- pushing ------------------------------------------------------------------------------
    def stream_error(self, name: str) -> str | None:
        """Why `name` is not a stream the simulator serves (None when it is)."""
        symbol, _, kind = name.partition("@")
        if symbol.upper() not in self.state.market.candles:
            return f"Invalid request: unknown symbol in stream '{name}'"
        if not kind.startswith("kline_") or self.state.market.interval(kind[6:]) is None:
            return (f"Invalid request: stream '{name}' is not served (only <symbol>@kline_<interval>, "
                    f"intervals that {self.state.market.timeframe} candles make)")
        return None

    def on_bars(self, closed: dict[str, Bar]) -> None:
        """After a step: each kline stream gets its candle that closed (if one did), then its open one."""
        m = self.state.market
        frames: dict[str, list[dict[str, Any]]] = {}
        for names in (names for _, names in self.streams.values()):
            for name in names - frames.keys():
                symbol, _, kind = name.partition("@")
                symbol = symbol.upper()
                interval = kind[6:]
                size = m.interval(interval)
                if symbol not in m.candles or size is None:
                    continue
                current = m.now - m.now % size
                events = []
                for bar in m.coarse(symbol, size, None, None, 2):
                    if bar.time == current:
                        events.append(kline_event(symbol, interval, bar, size, False))
                    elif bar.time == current - size and current == m.now:
                        events.append(kline_event(symbol, interval, bar, size, True))
                frames[name] = events
        for conn, (combined, names) in self.streams.items():
            for name in sorted(names):
                for event in frames.get(name, []):
                    conn.send({"stream": name, "data": event} if combined else event)

    def on_order(self, order: Order, fill: Fill | None) -> None:
        if not self.users:
            return
        now = self.state.market.now
        report = execution_report(order, fill, now)
        base, quote = self.state.market.pairs[order.symbol]
        position = {"e": "outboundAccountPosition", "E": now, "u": now,
                    "B": [{"a": a, "f": fmt(self.state.account.balance(a)[0]),
                           "l": fmt(self.state.account.balance(a)[1])} for a in (base, quote)]}
        for conn, sub in self.users.items():
            conn.send({"subscriptionId": sub, "event": report})
            if fill is not None or order.status in ("NEW", "CANCELED", "EXPIRED"):
                conn.send({"subscriptionId": sub, "event": position})

    # ---- connections --------------------------------------------------------------------------
    async def _serve(self, request: web.Request, handle: Any, on_open: Any = None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(self, ws, request)
        writer = asyncio.ensure_future(conn.writer())
        if on_open is not None:
            on_open(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = None
                handle(conn, data)
        finally:
            self.streams.pop(conn, None)
            self.users.pop(conn, None)
            conn.queue.put_nowait(None)
            await asyncio.wait([writer], timeout=1)
        return ws

    async def _market(self, request: web.Request) -> web.WebSocketResponse:
        combined = request.path == "/stream"
        given = request.query.get("streams", "") if combined else request.match_info.get("streams", "")
        names = {n for n in given.split("/") if n}

        def opened(conn: _Conn) -> None:
            # a name in the URL that is no stream is ignored, as Binance does: ccxt.pro connects
            # to `/ws/<n>` (a connection number) and subscribes with SUBSCRIBE messages
            self.streams[conn] = (combined, {n for n in names if self.stream_error(n) is None})

        def handle(conn: _Conn, data: Any) -> None:
            if not isinstance(data, dict) or data.get("method") not in ("SUBSCRIBE", "UNSUBSCRIBE",
                                                                         "LIST_SUBSCRIPTIONS"):
                conn.send({"error": {"code": 2, "msg": "Invalid request"}, "id": None})
                return
            subscribed = self.streams[conn][1]
            params = [p for p in data.get("params") or [] if isinstance(p, str)]
            if data["method"] == "SUBSCRIBE":
                errors = [e for e in map(self.stream_error, params) if e is not None]
                if errors:
                    conn.send({"error": {"code": 2, "msg": errors[0]}, "id": data.get("id")})
                    return
                subscribed.update(params)
            elif data["method"] == "UNSUBSCRIBE":
                subscribed.difference_update(params)
            else:
                conn.send({"result": sorted(subscribed), "id": data.get("id")})
                return
            conn.send({"result": None, "id": data.get("id")})

        return await self._serve(request, handle, opened)

    async def _api(self, request: web.Request) -> web.WebSocketResponse:
        session: dict[str, str] = {}

        def handle(conn: _Conn, data: Any) -> None:
            rid = data.get("id") if isinstance(data, dict) else None
            try:
                if not isinstance(data, dict) or not isinstance(data.get("method"), str):
                    raise ApiError(-1102, "Mandatory parameter 'method' was not sent, was empty/null, "
                                          "or malformed.")
                params = data.get("params") or {}
                if not isinstance(params, dict):
                    raise ApiError(-1102, "Mandatory parameter 'params' was not sent, was empty/null, "
                                          "or malformed.")
                result = self._method(conn, session, data["method"], {k: str(v) for k, v in params.items()})
                conn.send({"id": rid, "status": 200, "result": result, "rateLimits": []})
            except ApiError as err:
                conn.send({"id": rid, "status": err.status,
                           "error": {"code": err.code, "msg": err.msg}, "rateLimits": []})

        return await self._serve(request, handle)

    def _signed(self, params: dict[str, str]) -> str:
        payload = urlencode(sorted((k, v) for k, v in params.items() if k != "signature"))
        return verify(self.state.keys, params.get("apiKey"), params, payload, "", self.state.wall_ms())

    def _method(self, conn: _Conn, session: dict[str, str], method: str, params: dict[str, str]) -> Any:
        now = self.state.wall_ms()
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": now}
        if method == "session.logon":
            session["apiKey"] = self._signed(params)
            return {"apiKey": session["apiKey"], "authorizedSince": now, "connectedSince": now,
                    "returnRateLimits": False, "serverTime": now}
        if method == "session.status":
            return {"apiKey": session.get("apiKey"), "serverTime": now}
        if method == "session.logout":
            session.clear()
            return {"apiKey": None, "serverTime": now}
        if method in ("userDataStream.subscribe", "userDataStream.subscribe.signature"):
            if method == "userDataStream.subscribe" and "apiKey" not in session:
                raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
            if method.endswith(".signature"):
                self._signed(params)
            sub = self.users.get(conn)
            if sub is None:
                sub = self.users[conn] = self._next_subscription
                self._next_subscription += 1
            return {"subscriptionId": sub}
        if method == "userDataStream.unsubscribe":
            self.users.pop(conn, None)
            return {}
        raise ApiError(-1100, f"Unknown method '{method}'.")
