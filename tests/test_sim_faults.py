"""Faults on demand, as the real clients see them (seeded, so every run strikes the same requests)."""
from __future__ import annotations

import urllib.error
import urllib.request

import ccxt
import pytest
from _sim import binance_client, ccxt_client, sim_server
from binance.exceptions import BinanceAPIException

from dsl.errors import UsageError
from engine.sim.faults import FaultPlan, Rate, parse_faults


def _status(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers)


def test_fault_429_answers_retry_after_and_ccxt_raises_ddos_protection():
    with sim_server(faults="429:every1", retry_after=7) as sim:
        status, headers = _status(sim.url + "/api/v3/ping")
        assert (status, headers["Retry-After"]) == (429, "7")
        with pytest.raises(ccxt.DDoSProtection, match="429"):
            ccxt_client(sim.url).fetch_time()


def test_fault_418_is_a_ban_python_binance_sees_code_1003():
    with sim_server(faults="418:every1") as sim, pytest.raises(BinanceAPIException) as info:
        binance_client(sim.url).get_server_time()
    assert (info.value.status_code, info.value.code) == (418, -1003)


def test_fault_1021_strikes_signed_requests_only():
    with sim_server(faults="1021:every1") as sim:
        ex = ccxt_client(sim.url)
        assert ex.fetch_time() > 0
        with pytest.raises(ccxt.InvalidNonce):
            ex.fetch_balance()


def test_fault_5xx_refuses_the_order_without_placing_it():
    with sim_server(faults="5xx:every1") as sim:
        client = binance_client(sim.url)
        with pytest.raises(BinanceAPIException) as info:
            client.order_market_buy(symbol="BTCUSDT", quantity="0.01")
        assert info.value.status_code in (500, 502, 503)
        assert sim.call(lambda: len(sim.state.account.orders)) == 0


def test_fault_timeout_after_accept_places_the_order_the_client_never_hears_of():
    with sim_server(faults="timeout_after_accept:every1", hold=30) as sim:
        ex = ccxt_client(sim.url, timeout=300)
        ex.load_markets()
        with pytest.raises(ccxt.RequestTimeout):
            ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000.0, {"newClientOrderId": "intent-1"})
        found = ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "intent-1"})
    assert (found["status"], found["clientOrderId"]) == ("open", "intent-1")


def test_fault_drop_response_executes_then_closes_the_connection():
    with sim_server(faults="drop_response:every1") as sim:
        client = binance_client(sim.url)
        with pytest.raises(Exception) as info:   # requests' ConnectionError: no answer at all
            client.order_market_buy(symbol="BTCUSDT", quantity="0.01", newClientOrderId="dropped")
        orders = sim.call(lambda: [o.client_order_id for o in sim.state.account.orders.values()])
    assert "Connection" in type(info.value).__name__
    assert orders == ["dropped"]


def test_fault_partial_fill_fills_a_limit_in_three_trades_on_the_candles_that_reach_it():
    with sim_server(faults="partial_fill:every1") as sim:
        market = sim.state.market
        c = market.candles["BTCUSDT"]
        i = int((c.time == market.now).nonzero()[0][0])
        target = round(float(market.price("BTCUSDT")) * 0.998, 2)
        reaching = [int(c.time[k]) + 60_000 for k in range(i, len(c)) if c.low[k] <= target][:3]
        ex = ccxt_client(sim.url)
        ex.load_markets()
        order = ex.create_order("BTC/USDT", "limit", "buy", 0.03, target)
        sim.advance(int((reaching[0] - market.now) // 60_000))
        first = ex.fetch_order(order["id"], "BTC/USDT")
        sim.advance(int((reaching[2] - market.now) // 60_000))
        trades = ex.fetch_my_trades("BTC/USDT")
        last = ex.fetch_order(order["id"], "BTC/USDT")
    assert (first["status"], first["filled"], last["status"], last["filled"]) == ("open", 0.01, "closed", 0.03)
    assert [(t["timestamp"], t["amount"], t["price"]) for t in trades] == [(t, 0.01, target) for t in reaching]


def test_fault_plan_same_seed_strikes_the_same_requests():
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan({"429": Rate(probability=0.5)}, seed)
        return [plan.strikes("429") for _ in range(64)]
    assert pattern(3) == pattern(3)
    assert pattern(3) != pattern(4)


def test_fault_plan_streams_are_independent_of_other_faults():
    alone = FaultPlan({"5xx": Rate(probability=0.3)}, 1)
    both = FaultPlan({"5xx": Rate(probability=0.3), "429": Rate(probability=0.3)}, 1)
    first = [alone.strikes("5xx") for _ in range(50)]
    second = []
    for _ in range(50):
        both.strikes("429")
        second.append(both.strikes("5xx"))
    assert first == second


def test_fault_every_n_strikes_exactly_every_nth():
    plan = FaultPlan(parse_faults("drop_response:every3"), 0)
    assert [plan.strikes("drop_response") for _ in range(7)] == [False, False, True] * 2 + [False]


@pytest.mark.parametrize(("text", "message", "hint"), [
    pytest.param("429,5xxx", "unknown fault '5xxx'", "did you mean '5xx'?", id="unknown"),
    pytest.param("429:1.5", "fault '429': rate 1.5 is outside (0, 1]", "every N", id="rate"),
    pytest.param("418:every0", "fault '418': rate 'every0' is not every N with N >= 1", "every5",
                 id="every0"),
    pytest.param("429:often", "fault '429': rate 'often' is not a number", "probability", id="word"),
    pytest.param("429,429", "fault '429' is given twice", "once", id="twice"),
])
def test_fault_bad_spec_is_a_usage_error_naming_the_option(text, message, hint):
    with pytest.raises(UsageError) as info:
        parse_faults(text)
    assert (str(info.value), info.value.location) == (message, "--faults")
    assert hint in (info.value.hint or "")


def test_fault_timeout_after_accept_python_binance_times_out_and_finds_the_order():
    import requests
    with sim_server(faults="timeout_after_accept:every1") as sim:
        client = binance_client(sim.url, requests_params={"timeout": 0.3})
        with pytest.raises(requests.exceptions.ReadTimeout):
            client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="1000.00", newClientOrderId="t1")
        assert client.get_order(symbol="BTCUSDT", origClientOrderId="t1")["status"] == "NEW"
