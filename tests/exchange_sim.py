"""A tiny Binance look-alike on 127.0.0.1 for download tests (no internet, no mocks).

It answers the requests the real ccxt `binance` client makes to load
markets (`/api/v3/exchangeInfo`, and the USD-M / COIN-M futures ones, with no
symbols) and to fetch candles (`/api/v3/klines`: `startTime`, `endTime`,
`limit` as Binance applies them: candles with open time >= startTime, at most
`limit`, default 500, max 1000). Tests point ccxt's URLs at it with
`ccxt_config(server.url)`, record every request, and can make the next
requests fail with HTTP 503 to exercise retries.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

__all__ = ["ExchangeSim", "Request", "ccxt_config", "kline_rows"]

_INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000}


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]
    at: float          # time.monotonic() when it arrived


def _market(symbol: str) -> dict[str, Any]:
    base, quote = symbol.split("/")
    return {
        "symbol": base + quote, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
        "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
             "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
             "stepSize": "0.00001000"},
        ],
        "permissions": ["SPOT"], "permissionSets": [["SPOT"]],
    }


def kline_rows(rows: list[list[float]], interval: str) -> list[list[Any]]:
    """Candles [t, o, h, l, c, v] in Binance's kline layout (prices as 8-decimal strings)."""
    step = _INTERVAL_MS[interval]

    def f(x: float) -> str:
        return f"{x:.8f}"

    return [[int(t), f(o), f(h), f(lo), f(c), f(v), int(t) + step - 1, f(v * c), 10, f(v / 2),
             f(v * c / 2), "0"] for t, o, h, lo, c, v in rows]


@dataclass
class ExchangeSim:
    """Serve `candles[(symbol, interval)] = [[t, o, h, l, c, v], ...]` (sorted) like Binance."""

    candles: dict[tuple[str, str], list[list[float]]]
    requests: list[Request] = field(default_factory=list)
    fail_next: int = 0            # answer this many of the next kline requests with HTTP 503
    fail_after: int | None = None  # answer every kline request after this many with HTTP 503

    def __post_init__(self) -> None:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:   # keep test output clean
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                sim.requests.append(Request(url.path, params, time.monotonic()))
                status, body = sim.answer(url.path, params)
                text = isinstance(body, str)
                data = body.encode() if text else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if text else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def klines(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/klines")]

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path == "/api/v3/exchangeInfo":
            symbols = sorted({s for s, _ in self.candles})
            return 200, {"timezone": "UTC", "serverTime": int(time.time() * 1000), "rateLimits": [],
                         "exchangeFilters": [], "symbols": [_market(s) for s in symbols]}
        if path in ("/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"):
            return 200, {"timezone": "UTC", "serverTime": int(time.time() * 1000), "rateLimits": [],
                         "exchangeFilters": [], "assets": [], "symbols": []}
        if path == "/api/v3/klines":
            served = len(self.klines()) - 1
            if self.fail_next > 0 or (self.fail_after is not None and served >= self.fail_after):
                self.fail_next = max(0, self.fail_next - 1)
                return 503, "<html><body>503 Service Unavailable</body></html>"
            return self._klines(params)
        return 404, {"code": -1100, "msg": f"no such endpoint {path}"}

    def _klines(self, params: dict[str, str]) -> tuple[int, Any]:
        interval = params.get("interval", "")
        symbol = next((s for s, i in self.candles if s.replace("/", "") == params.get("symbol")
                       and i == interval), None)
        if symbol is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        limit = min(int(params.get("limit", 500)), 1000)
        start = int(params.get("startTime", 0))
        end = int(params.get("endTime", 2**62))
        rows = [r for r in self.candles[(symbol, interval)] if start <= r[0] <= end][:limit]
        return 200, kline_rows(rows, interval)


def ccxt_config(base_url: str) -> dict[str, Any]:
    """ccxt constructor settings that send every Binance API call to `base_url`."""
    import ccxt
    api = ccxt.binance().urls["api"]
    return {"urls": {"api": {k: base_url + urlparse(v).path for k, v in api.items()}}}
