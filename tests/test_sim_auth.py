"""Binance request signing in the simulator, checked with raw HTTP and both real clients."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import ccxt
import pytest
from _sim import binance_client, ccxt_client, sim_server
from binance.exceptions import BinanceAPIException

from engine.sim import DEFAULT_KEY, DEFAULT_SECRET, ExchangeSim
from engine.sim.auth import sign


@pytest.fixture(scope="module")
def sim() -> Iterator[ExchangeSim]:
    with sim_server() as server:
        yield server


def _call(sim: ExchangeSim, method: str, path: str, query: str, *, key: str | None = DEFAULT_KEY,
          body: str = "") -> tuple[int, dict[str, object]]:
    url = f"{sim.url}{path}" + (f"?{query}" if query else "")
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    if key is not None:
        req.add_header("X-MBX-APIKEY", key)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def _signed(query: str, secret: str = DEFAULT_SECRET) -> str:
    return f"{query}&signature={sign(secret, query)}"


def _now() -> int:
    return int(time.time() * 1000)


def test_auth_signed_query_is_accepted(sim):
    status, body = _call(sim, "GET", "/api/v3/account", _signed(f"timestamp={_now()}"))
    assert (status, body["accountType"]) == (200, "SPOT")


def test_auth_signature_over_query_and_body_together_is_accepted(sim):
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=0.01&price=1000.00&timestamp={_now()}"
    signature = sign(DEFAULT_SECRET, query + "&" + body)
    status, answer = _call(sim, "POST", "/api/v3/order", query, body=f"{body}&signature={signature}")
    assert (status, answer["status"]) == (200, "NEW")


@pytest.mark.parametrize(("query", "key", "code", "status"), [
    pytest.param(lambda: _signed(f"timestamp={_now()}", "wrong"), DEFAULT_KEY, -1022, 400, id="bad-signature"),
    pytest.param(lambda: _signed(f"timestamp={_now() - 10_000}"), DEFAULT_KEY, -1021, 400, id="stale"),
    pytest.param(lambda: _signed(f"timestamp={_now() + 5_000}"), DEFAULT_KEY, -1021, 400, id="ahead"),
    pytest.param(lambda: _signed(f"timestamp={_now() - 10_000}&recvWindow=20000"), DEFAULT_KEY, 200, 200,
                 id="wide-window"),
    pytest.param(lambda: _signed(f"timestamp={_now()}"), None, -2014, 401, id="no-key"),
    pytest.param(lambda: _signed(f"timestamp={_now()}"), "someone-else", -2015, 401, id="unknown-key"),
    pytest.param(lambda: f"timestamp={_now()}", DEFAULT_KEY, -1102, 400, id="no-signature"),
    pytest.param(lambda: _signed("recvWindow=5000"), DEFAULT_KEY, -1102, 400, id="no-timestamp"),
])
def test_auth_bad_requests_get_binance_codes(sim, query, key, code, status):
    got_status, body = _call(sim, "GET", "/api/v3/account", query(), key=key)
    assert (got_status, body.get("code", 200)) == (status, code)


def test_auth_ccxt_wrong_secret_raises_authentication_error(sim):
    ex = ccxt_client(sim.url, secret="not-the-secret")
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        ex.fetch_balance()


def test_auth_ccxt_clock_skew_raises_invalid_nonce(sim):
    ex = ccxt_client(sim.url)
    ex.options["timeDifference"] = 30_000     # ccxt subtracts it from its timestamps
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        ex.fetch_balance()


def test_auth_python_binance_wrong_key_raises_its_api_exception(sim):
    client = binance_client(sim.url)
    client.API_KEY = "nobody"
    client.session.headers["X-MBX-APIKEY"] = "nobody"
    with pytest.raises(BinanceAPIException) as info:
        client.get_account()
    assert (info.value.code, info.value.status_code) == (-2015, 401)
