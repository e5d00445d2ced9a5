"""Order types and balances through the real python-binance client against the simulator."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from _sim import binance_client, sim_server
from binance.exceptions import BinanceAPIException

from engine.sim import ExchangeSim


@pytest.fixture()
def sim() -> Iterator[ExchangeSim]:
    with sim_server(balances={"USDT": "10000", "BTC": "1"}) as server:
        yield server


@pytest.fixture()
def client(sim: ExchangeSim):
    return binance_client(sim.url)


def _index(sim: ExchangeSim) -> int:
    m = sim.state.market
    return int((m.candles["BTCUSDT"].time == m.now).nonzero()[0][0])


def _balances(client) -> dict[str, tuple[Decimal, Decimal]]:
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in client.get_account()["balances"]}


def _first_reaching(sim: ExchangeSim, start: int, up: bool, level: float) -> int:
    c = sim.state.market.candles["BTCUSDT"]
    return next(k for k in range(start, len(c)) if (c.high[k] >= level if up else c.low[k] <= level))


def test_order_sell_limit_locks_base_and_pays_the_fee_in_quote(sim, client):
    i = _index(sim)
    c = sim.state.market.candles["BTCUSDT"]
    target = round(float(sim.state.market.price("BTCUSDT")) * 1.001, 2)
    k = _first_reaching(sim, i, True, target)   # the open candle counts
    order = client.order_limit_sell(symbol="BTCUSDT", quantity="0.5", price=f"{target:.2f}")
    assert _balances(client)["BTC"] == (Decimal("0.5"), Decimal("0.5"))
    sim.advance(k - i)
    assert client.get_order(symbol="BTCUSDT", orderId=order["orderId"])["status"] == "NEW"
    sim.advance(1)
    done = client.get_order(symbol="BTCUSDT", orderId=order["orderId"])
    proceeds = Decimal("0.5") * Decimal(f"{target:.2f}")
    assert (done["status"], Decimal(done["cummulativeQuoteQty"])) == ("FILLED", proceeds)
    assert _balances(client)["BTC"] == (Decimal("0.5"), Decimal(0))
    assert _balances(client)["USDT"] == (Decimal(10000) + proceeds * Decimal("0.999"), Decimal(0))
    assert c.high[k] >= target


def test_order_stop_loss_limit_triggers_on_the_stop_then_rests_from_the_next_candle(sim, client):
    i = _index(sim)
    c = sim.state.market.candles["BTCUSDT"]
    stop = round(float(sim.state.market.price("BTCUSDT")) * 0.999, 2)
    k = _first_reaching(sim, i, False, stop)
    limit = round(stop - 5, 2)
    j = _first_reaching(sim, k + 1, True, limit)      # a sell limit fills when a high reaches it
    order = client.create_order(symbol="BTCUSDT", side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC",
                                quantity="0.1", price=f"{limit:.2f}", stopPrice=f"{stop:.2f}")
    sim.advance(k - i + 1)
    got = client.get_order(symbol="BTCUSDT", orderId=order["orderId"])
    assert (got["status"], got["isWorking"]) == ("NEW", True)
    sim.advance(j - k - 1)
    assert client.get_order(symbol="BTCUSDT", orderId=order["orderId"])["status"] == "NEW"
    sim.advance(1)
    [trade] = client.get_my_trades(symbol="BTCUSDT")
    assert (Decimal(trade["price"]), trade["time"]) == (Decimal(f"{limit:.2f}"), int(c.time[j]) + 60_000)
    assert c.high[k] >= limit          # the trigger candle reached the limit too, yet did not fill it


def test_order_take_profit_limit_waits_for_a_rise(sim, client):
    i = _index(sim)
    stop = round(float(sim.state.market.price("BTCUSDT")) * 1.001, 2)
    k = _first_reaching(sim, i, True, stop)
    order = client.create_order(symbol="BTCUSDT", side="SELL", type="TAKE_PROFIT_LIMIT", timeInForce="GTC",
                                quantity="0.1", price=f"{stop:.2f}", stopPrice=f"{stop:.2f}")
    sim.advance(k - i)
    assert client.get_order(symbol="BTCUSDT", orderId=order["orderId"])["isWorking"] is False
    sim.advance(1)
    assert client.get_order(symbol="BTCUSDT", orderId=order["orderId"])["isWorking"] is True


def test_order_stop_that_would_trigger_at_once_is_refused(sim, client):
    above = round(float(sim.state.market.price("BTCUSDT")) * 1.01, 2)
    with pytest.raises(BinanceAPIException) as info:
        client.create_order(symbol="BTCUSDT", side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC",
                            quantity="0.1", price=f"{above:.2f}", stopPrice=f"{above:.2f}")
    assert (info.value.code, info.value.message) == (-2010, "Stop price would trigger immediately.")


@pytest.mark.parametrize(("tif", "status"), [("IOC", "EXPIRED"), ("FOK", "EXPIRED"), ("GTC", "NEW")])
def test_order_limit_below_the_market_rests_only_when_gtc(client, tif, status):
    order = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="1000.00", timeInForce=tif)
    assert order["status"] == status
    assert _balances(client)["USDT"][1] == (Decimal(10) if status == "NEW" else 0)


@pytest.mark.parametrize("tif", ["IOC", "FOK", "GTC"])
def test_order_limit_through_the_market_fills_at_once_at_the_price_now(sim, client, tif):
    now = sim.state.market.price("BTCUSDT")
    order = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="99999.00", timeInForce=tif)
    assert (order["status"], Decimal(order["fills"][0]["price"])) == ("FILLED", now)


@pytest.mark.parametrize(("params", "code", "message"), [
    pytest.param({"quantity": "0.000001"}, -1013, "Filter failure: LOT_SIZE", id="lot-min"),
    pytest.param({"quantity": "0.010001"}, -1013, "Filter failure: LOT_SIZE", id="lot-step"),
    pytest.param({"quantity": "0.01", "price": "1000.001"}, -1013, "Filter failure: PRICE_FILTER", id="tick"),
    pytest.param({"quantity": "0.0001", "price": "1000.00"}, -1013, "Filter failure: NOTIONAL", id="notional"),
    pytest.param({"quantity": "1", "price": "20000.00"}, -2010,
                 "Account has insufficient balance for requested action.", id="balance"),
    pytest.param({"quantity": "0.01", "price": "1000.00", "symbol": "DOGEUSDT"}, -1121, "Invalid symbol.",
                 id="symbol"),
])
def test_order_refusals_carry_binance_codes(client, params, code, message):
    args = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "1000.00",
            **params}
    with pytest.raises(BinanceAPIException) as info:
        client.create_order(**args)
    assert (info.value.code, info.value.message) == (code, message)


def test_order_market_buy_by_quote_amount_spends_at_most_it(sim, client):
    order = client.order_market_buy(symbol="BTCUSDT", quoteOrderQty="100")
    spent = Decimal(order["cummulativeQuoteQty"])
    assert Decimal(99) < spent <= Decimal(100)
    assert _balances(client)["USDT"][0] == Decimal(10000) - spent


def test_order_query_of_an_unknown_id_is_2013(client):
    with pytest.raises(BinanceAPIException) as info:
        client.get_order(symbol="BTCUSDT", orderId=12345)
    assert (info.value.code, info.value.message) == (-2013, "Order does not exist.")


def test_order_client_id_may_be_reused_once_the_first_is_closed(client):
    first = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="1000.00", newClientOrderId="x")
    client.cancel_order(symbol="BTCUSDT", orderId=first["orderId"])
    second = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="1000.00", newClientOrderId="x")
    assert client.get_order(symbol="BTCUSDT", origClientOrderId="x")["orderId"] == second["orderId"]


def test_order_the_clock_stops_at_the_end_of_the_data(sim):
    m = sim.state.market
    closed = sim.advance(10 ** 6)
    assert (m.finished, closed) == (True, (m.last - m.first) // 60_000 + 1 - 1000)
    assert sim.advance(5) == 0


def test_order_resting_limit_fills_on_the_candle_open_when_it_was_placed(sim, client):
    i = _index(sim)
    c = sim.state.market.candles["BTCUSDT"]
    target = round(float(c.low[i]) + 0.01, 2)
    assert target < float(sim.state.market.price("BTCUSDT"))     # resting, not marketable
    order = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price=f"{target:.2f}")
    assert order["status"] == "NEW"
    sim.advance(1)
    [trade] = client.get_my_trades(symbol="BTCUSDT")
    assert (Decimal(trade["price"]), trade["time"]) == (Decimal(f"{target:.2f}"), int(c.time[i]) + 60_000)


@pytest.mark.parametrize(("params", "name"), [
    pytest.param({"quantity": "1e999999"}, "quantity", id="exponent"),
    pytest.param({"quantity": "1" * 21}, "quantity", id="too-many-digits"),
    pytest.param({"quantity": "-1"}, "quantity", id="negative"),
    pytest.param({"quantity": "0.01", "price": "NaN"}, "price", id="nan"),
    pytest.param({"quantity": "0.01", "newClientOrderId": "x" * 37}, "newClientOrderId", id="long-client-id"),
    pytest.param({"quantity": "0.01", "newClientOrderId": "a~b"}, "newClientOrderId", id="client-id-tilde"),
])
def test_order_malformed_parameters_are_1100_naming_the_parameter(client, params, name):
    args = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "1000.00",
            **params}
    with pytest.raises(BinanceAPIException) as info:
        client.create_order(**args)
    assert info.value.code == -1100
    assert f"parameter '{name}'" in info.value.message


def test_order_a_failing_endpoint_answers_1000_and_the_server_keeps_serving(sim, client, monkeypatch):
    from engine.sim import rest

    def broken(state: object, params: object) -> object:
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(rest.ENDPOINTS, ("GET", "/api/v3/ticker/price"), rest.Endpoint(broken, 2, False))
    with pytest.raises(BinanceAPIException) as info:
        client.get_symbol_ticker(symbol="BTCUSDT")
    assert (info.value.status_code, info.value.code) == (500, -1000)
    assert client.ping() == {}


def test_order_test_endpoint_checks_but_places_nothing(sim, client):
    assert client.create_test_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                    quantity="0.01", price="1000.00") == {}
    with pytest.raises(BinanceAPIException) as info:
        client.create_test_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                 quantity="0.01", price="1000.001")
    assert info.value.message == "Filter failure: PRICE_FILTER"
    assert client.get_all_orders(symbol="BTCUSDT") == []
    assert _balances(client)["USDT"] == (Decimal(10000), Decimal(0))


def test_order_book_ticker_and_average_price(sim, client):
    price = sim.state.market.price("BTCUSDT")
    top = client.get_orderbook_ticker(symbol="BTCUSDT")
    assert (Decimal(top["bidPrice"]), Decimal(top["askPrice"])) == (price - Decimal("0.01"), price + Decimal("0.01"))
    book = client.get_order_book(symbol="BTCUSDT", limit=5)
    assert (book["bids"][0][0], book["asks"][0][0]) == (top["bidPrice"], top["askPrice"])
    c = sim.state.market.candles["BTCUSDT"]
    i = _index(sim)
    assert Decimal(client.get_avg_price(symbol="BTCUSDT")["price"]) == pytest.approx(
        Decimal(repr(float(c.close[i - 5:i].mean()))), abs=Decimal("0.00000001"))
