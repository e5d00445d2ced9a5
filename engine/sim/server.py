"""The simulator's HTTP server: Binance's spot REST API on 127.0.0.1, in-process or as a command.

A request goes through, in order (`SimServer._handle`):

1. routing (`engine/sim/rest.py:ENDPOINTS`; unknown paths answer 404 -1100),
   and the request weight, reported in `X-MBX-USED-WEIGHT-1M` (per wall-clock
   minute); over `weight_limit` a request is refused with 429 -1003 and a
   `Retry-After` to the next minute, as Binance does;
2. the faults that refuse a request before it runs (418, 429, 5xx, and 1021
   on signed requests; engine/sim/faults.py), each drawn on every request;
3. the signature check of signed endpoints (engine/sim/auth.py);
4. the endpoint itself, on the server's event loop (the only thread that
   touches the state, so no locks);
5. the faults that strike after the request ran: `timeout_after_accept` (a new
   order) holds the answer back `hold` seconds, `drop_response` closes the
   connection unanswered.

`ExchangeSim` runs the server on its own thread and loop for tests (port 0:
a free port) and the CLI runs it in the foreground. The candle clock moves by
`advance(bars)` / `POST /sim/advance?bars=N`, or by itself at `speed` candles
per second (`"max"`: as fast as the loop allows).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from engine.sim.auth import verify
from engine.sim.book import Account, SymbolRules
from engine.sim.errors import ApiError, SimConfigError
from engine.sim.faults import FaultPlan, parse_faults
from engine.sim.market import Bar, Market
from engine.sim.rest import ENDPOINTS
from engine.sim.ws import Hub

__all__ = ["DEFAULT_KEY", "DEFAULT_SECRET", "ExchangeSim", "Intercept", "Request", "SimState"]

_log = logging.getLogger(__name__)
DEFAULT_KEY = "sim-key"
DEFAULT_SECRET = "sim-secret"
PARTIAL_PIECES = 3
T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One API request as it arrived (tests read them: what a client asked, and when)."""

    method: str
    path: str
    params: dict[str, str]
    at: float          # time.monotonic() on arrival


Intercept = Callable[[Request], tuple[int, str] | None]


class SimState:
    """Everything a request may read or change: the market, the account, the faults."""

    def __init__(self, market: Market, account: Account, faults: FaultPlan,
                 keys: dict[str, str], wall_ms: Callable[[], int]) -> None:
        self.market = market
        self.account = account
        self.faults = faults
        self.keys = keys
        self.wall_ms = wall_ms
        self.weight_minute = 0
        self.weight = 0
        self.bar_listeners: list[Callable[[dict[str, Bar]], None]] = []   # the market streams

    def partial_split(self) -> int:
        """How many pieces the next order fills in (the partial-fill fault draws here)."""
        return PARTIAL_PIECES if self.faults.strikes("partial_fill") else 1

    def advance(self, bars: int) -> int:
        """Close `bars` candles, matching orders on each; returns how many closed."""
        done = 0
        for _ in range(bars):
            closed = self.market.tick()
            if not closed:
                break
            for symbol, bar in closed.items():
                self.account.on_bar(symbol, bar)
            for listener in self.bar_listeners:
                listener(closed)
            done += 1
        return done


def _json(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json",
                        headers=headers)


class ExchangeSim:
    """A Binance look-alike on 127.0.0.1 over `market` (see the module docstring)."""

    def __init__(self, market: Market, *, port: int = 0, seed: int = 0, faults: str = "",
                 speed: float | str | None = None, keys: dict[str, str] | None = None,
                 balances: dict[str, str] | None = None, commission: str = "0.001",
                 slippage: str = "0", rules: SymbolRules | None = None, hold: float = 30.0,
                 retry_after: int = 1, wall_ms: Callable[[], int] | None = None,
                 intercept: Intercept | None = None, record: int = 10_000,
                 weight_limit: int = 6000) -> None:
        if (isinstance(speed, str) and speed != "max") or (isinstance(speed, float | int) and speed <= 0):
            raise SimConfigError(f"speed {speed!r} is not a positive number of candles per second",
                                 location="--speed", hint="write e.g. 10, 0.5 or max")
        quote = sorted({q for _, q in market.pairs.values()})
        self.state = SimState(
            market,
            Account(market, {k: Decimal(v) for k, v in (balances or dict.fromkeys(quote, "10000")).items()},
                    commission=Decimal(commission), slippage=Decimal(slippage), rules=rules),
            FaultPlan(parse_faults(faults), seed),
            dict(keys or {DEFAULT_KEY: DEFAULT_SECRET}),
            wall_ms or (lambda: int(time.time() * 1000)))
        self.port = port
        self.speed = speed
        self.hold = hold
        self.weight_limit = weight_limit    # request weight per wall-clock minute; 0: no limit
        self.retry_after = retry_after
        self.requests: deque[Request] = deque(maxlen=record)   # the last `record` API requests
        self.intercept = intercept          # a test may answer a request itself: (status, HTML body)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._hub: Hub | None = None

    # ---- the app ----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sim/advance", self._admin_advance)
        app.router.add_get("/sim/status", self._admin_status)
        self._hub = Hub(self.state)
        self._hub.routes(app)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    def _headers(self, weight: int) -> dict[str, str]:
        s = self.state
        minute = s.wall_ms() // 60_000
        if minute != s.weight_minute:
            s.weight_minute, s.weight = minute, 0
        s.weight += weight
        return {"X-MBX-USED-WEIGHT-1M": str(s.weight)}

    def _refusal(self, signed: bool) -> tuple[int, ApiError] | None:
        """Step 2: the faults that refuse a request. Each is drawn on every request."""
        f = self.state.faults
        hits = {name: f.strikes(name) for name in ("418", "429", "5xx")}
        hits["1021"] = signed and f.strikes("1021")
        retry = {"Retry-After": str(self.retry_after)}
        if hits["418"]:
            until = self.state.wall_ms() + self.retry_after * 1000
            return 418, ApiError(-1003, f"Way too many requests; IP(127.0.0.1) banned until {until}. "
                                        "Please use the websocket for live updates to avoid bans.",
                                 418, retry)
        if hits["429"]:
            return 429, ApiError(-1003, "Too many requests; current limit of IP(127.0.0.1) request "
                                        "weight per minute is 6000. Please use the websocket for "
                                        "live updates to avoid bans.", 429, retry)
        if hits["5xx"]:
            status = f.choice("5xx", (500, 502, 503))
            return status, ApiError(-1001, "Internal error; unable to process your request. "
                                           "Please try again.", status)
        if hits["1021"]:
            return 400, ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        endpoint = ENDPOINTS.get((request.method, path))
        raw_query = request.raw_path.partition("?")[2]
        body = await request.text() if request.can_read_body else ""
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        seen = Request(request.method, path, params, time.monotonic())
        self.requests.append(seen)
        if endpoint is None:
            return _json(404, {"code": -1100, "msg": f"no endpoint {request.method} {path}"}, {})
        headers = self._headers(endpoint.weight)
        if self.weight_limit and self.state.weight > self.weight_limit:
            wait = str(60 - self.state.wall_ms() // 1000 % 60)
            return _json(429, {"code": -1003, "msg": f"Too many requests; current limit of IP(127.0.0.1) "
                                                     f"request weight per minute is {self.weight_limit}. "
                                                     "Please use the websocket for live updates to avoid "
                                                     "bans."}, {**headers, "Retry-After": wait})
        answer = self.intercept(seen) if self.intercept is not None else None
        if answer is not None:
            return web.Response(status=answer[0], text=answer[1], content_type="text/html", headers=headers)
        refused = self._refusal(endpoint.signed)
        if refused is not None:
            status, err = refused
            return _json(status, {"code": err.code, "msg": err.msg}, {**headers, **err.headers})
        try:
            if endpoint.signed:
                verify(self.state.keys, request.headers.get("X-MBX-APIKEY"), params, raw_query, body,
                       self.state.wall_ms())
            result = endpoint.handler(self.state, params)
        except ApiError as err:
            return _json(err.status, {"code": err.code, "msg": err.msg}, headers)
        except Exception:   # a bug of ours: answer as Binance does, keep serving, log the traceback
            _log.exception("exchange-sim: %s %s failed", request.method, path)
            return _json(500, {"code": -1000, "msg": "An unknown error occured while processing the "
                                                     "request."}, headers)
        f = self.state.faults
        if (request.method, path) == ("POST", "/api/v3/order") and f.strikes("timeout_after_accept"):
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.hold)
        if f.strikes("drop_response") and request.transport is not None:
            request.transport.abort()
            return web.Response(status=200)
        return _json(200, result, headers)

    async def _admin_advance(self, request: web.Request) -> web.Response:
        text = request.query.get("bars", "1")
        if not text.isdigit():
            return _json(400, {"error": f"bars must be a whole number, was {text!r}"}, {})
        closed = self.state.advance(int(text))
        return _json(200, self._status(closed=closed), {})

    async def _admin_status(self, request: web.Request) -> web.Response:
        return _json(200, self._status(), {})

    def _status(self, **extra: Any) -> dict[str, Any]:
        m = self.state.market
        return {"now": m.now, "timeframe": m.timeframe, "finished": m.finished,
                "faults": self.state.faults.struck, "subscribers": self.subscribers(), **extra}

    def subscribers(self) -> dict[str, int]:
        """Open WebSocket subscriptions: market-stream names and user data streams (tests wait on it)."""
        hub = self._hub
        if hub is None:
            return {"streams": 0, "users": 0}
        return {"streams": sum(len(names) for _, names in hub.streams.values()), "users": len(hub.users)}

    async def _clock(self) -> None:
        """Play candles at `speed` per second ("max": one per loop turn) until the data ends."""
        delay = 0.0 if self.speed == "max" else 1.0 / float(self.speed or 1)
        while not self.state.market.finished:
            await asyncio.sleep(delay)
            self.state.advance(1)

    # ---- running ----------------------------------------------------------------------------
    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.speed is not None:
            self._clock_task = asyncio.get_running_loop().create_task(self._clock())

    async def _stop(self) -> None:
        assert self._stopping is not None and self._runner is not None
        self._stopping.set()
        if self._clock_task is not None:
            self._clock_task.cancel()
        if self._hub is not None:
            await self._hub.close()
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Serve on a thread of its own; returns when the port is bound."""
        ready: Future[None] = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:  # the caller sees why it did not start
                loop.close()
                ready.set_exception(exc)
                return
            ready.set_result(None)
            try:
                loop.run_forever()
                loop.run_until_complete(self._stop())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="exchange-sim", daemon=True)
        self._thread.start()
        try:
            ready.result(timeout=30)
        except BaseException:
            self._thread.join(timeout=10)
            self._loop = self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Stop serving and join the thread (held answers are released first)."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (the state's only thread) and return its result."""
        if self._loop is None:
            return fn()

        async def run() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def advance(self, bars: int = 1) -> int:
        """Close `bars` candles now (matching orders); returns how many closed."""
        return self.call(lambda: self.state.advance(bars))

    async def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """The CLI's foreground run: serve until cancelled (Ctrl-C); `ready()` once bound."""
        await self._start()
        if ready is not None:
            ready()
        try:
            await asyncio.Event().wait()
        finally:
            await self._stop()
