"""The download tests' Binance: `engine.sim.ExchangeSim` over given candles, with the clock past them.

`tests/test_data_download.py` builds it from rows `[t, o, h, l, c, v]` per
(symbol, interval), reads the requests it received (`klines()`: path, params,
arrival time) and makes kline requests fail with a gateway's HTTP 503 page
(`fail_next`: the next N; `fail_after`: every one after N served) through the
simulator's `intercept` hook. Everything else is the real simulator.
"""
from __future__ import annotations

from typing import Any, Self
from urllib.parse import urlparse

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import Candles
from engine.sim import ExchangeSim as Sim
from engine.sim import Market
from engine.sim.server import Request

__all__ = ["ExchangeSim", "ccxt_config"]

_GATEWAY_PAGE = "<html><body>503 Service Unavailable</body></html>"


def _candles(symbol: str, interval: str, rows: list[list[float]]) -> Candles:
    a = np.array(rows, dtype=np.float64)
    return Candles(symbol, interval, a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5])


class ExchangeSim:
    """Serve `candles[(symbol, interval)] = [[t, o, h, l, c, v], ...]` (sorted), all closed."""

    def __init__(self, candles: dict[tuple[str, str], list[list[float]]]) -> None:
        self.candles = candles
        self.fail_next = 0             # answer this many of the next kline requests with HTTP 503
        self.fail_after: int | None = None   # answer every kline request after this many with 503
        series = [_candles(s, i, rows) for (s, i), rows in candles.items()]
        after = max(int(c.time[-1]) + timeframe_ms(c.timeframe) for c in series)
        market = Market(series, start=after)               # every candle closed
        self._sim = Sim(market, intercept=self._intercept)

    def _intercept(self, request: Request) -> tuple[int, str] | None:
        if request.path != "/api/v3/klines":
            return None
        served = len(self.klines()) - 1
        if self.fail_next > 0 or (self.fail_after is not None and served >= self.fail_after):
            self.fail_next = max(0, self.fail_next - 1)
            return 503, _GATEWAY_PAGE
        return None

    @property
    def url(self) -> str:
        return self._sim.url

    @property
    def requests(self) -> list[Request]:
        return list(self._sim.requests)

    def klines(self) -> list[Request]:
        return [r for r in self._sim.requests if r.path == "/api/v3/klines"]

    def __enter__(self) -> Self:
        self._sim.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sim.stop()


def ccxt_config(base_url: str) -> dict[str, Any]:
    """ccxt constructor settings that send every Binance API call to `base_url`."""
    import ccxt
    api = ccxt.binance().urls["api"]
    return {"urls": {"api": {k: base_url + urlparse(v).path for k, v in api.items() if isinstance(v, str)}}}
