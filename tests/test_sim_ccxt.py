"""The exchange simulator through the real ccxt binance client: market data, orders, balances."""
from __future__ import annotations

from collections.abc import Iterator

import ccxt
import pytest
from _sim import ccxt_client, sim_server

from engine.sim import ExchangeSim


@pytest.fixture()
def sim() -> Iterator[ExchangeSim]:
    with sim_server() as server:
        yield server


@pytest.fixture()
def ex(sim: ExchangeSim) -> ccxt.binance:
    client = ccxt_client(sim.url)
    client.load_markets()
    return client


def _price(sim: ExchangeSim, symbol: str = "BTCUSDT") -> float:
    return float(sim.call(lambda: sim.state.market.price(symbol)))


def test_ccxt_markets_carry_the_symbol_filters(ex):
    m = ex.market("BTC/USDT")
    assert (m["precision"]["price"], m["precision"]["amount"]) == (0.01, 0.00001)
    assert m["limits"]["cost"]["min"] == 5.0
    assert set(ex.symbols) == {"BTC/USDT", "ETH/USDT"}


def test_ccxt_klines_end_with_the_open_candle_showing_only_its_open(sim, ex):
    now = sim.state.market.now
    rows = ex.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert [r[0] for r in rows] == [now - 4 * 60_000 + i * 60_000 for i in range(5)]
    t, o, h, lo, c, v = rows[-1]
    assert (t, o, h, lo, c, v) == (now, o, o, o, o, 0.0)
    assert o == pytest.approx(_price(sim))


def test_ccxt_klines_never_show_a_candle_after_the_clock(sim, ex):
    now = sim.state.market.now
    rows = ex.fetch_ohlcv("BTC/USDT", "1m", since=now - 60_000, limit=100)
    assert [r[0] for r in rows] == [now - 60_000, now]
    sim.advance(3)
    rows = ex.fetch_ohlcv("BTC/USDT", "1m", since=now - 60_000, limit=100)
    assert [r[0] for r in rows] == [now - 60_000 + i * 60_000 for i in range(5)]


def test_ccxt_ticker_and_book_sit_at_the_price_now(sim, ex):
    price = _price(sim)
    assert ex.fetch_ticker("BTC/USDT")["last"] == pytest.approx(price)
    book = ex.fetch_order_book("BTC/USDT", limit=5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] < price < book["asks"][0][0]


def test_ccxt_market_buy_fills_at_the_open_and_pays_the_fee_in_base(sim, ex):
    price = _price(sim)
    order = ex.create_order("BTC/USDT", "market", "buy", 0.01)
    assert (order["status"], order["filled"], order["average"]) == ("closed", 0.01, price)
    balance = ex.fetch_balance()
    assert balance["USDT"]["free"] == pytest.approx(10_000 - 0.01 * price)
    assert balance["BTC"]["free"] == pytest.approx(0.01 * (1 - 0.001))


def test_ccxt_market_buy_with_slippage_pays_more(ex):
    with sim_server(slippage="0.01") as slipped:
        client = ccxt_client(slipped.url)
        price = _price(slipped)
        order = client.create_order("BTC/USDT", "market", "buy", 0.01)
    assert order["average"] == pytest.approx(round(price * 1.01, 2), abs=0.011)
    assert order["average"] > price


def test_ccxt_resting_limit_locks_quote_then_fills_at_its_price_when_a_low_reaches_it(sim, ex):
    market = sim.state.market
    future = market.candles["BTCUSDT"]
    i = int((future.time == market.now).nonzero()[0][0])
    target = round(float(future.low[i:i + 30].min()) + 0.01, 2)   # reached within 30 candles
    assume_above = target < _price(sim)
    assert assume_above
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, target)
    assert order["status"] == "open"
    assert ex.fetch_balance()["USDT"]["used"] == pytest.approx(0.01 * target)
    sim.advance(30)
    done = ex.fetch_order(order["id"], "BTC/USDT")
    assert (done["status"], done["average"]) == ("closed", target)
    assert ex.fetch_balance()["USDT"]["used"] == 0
    [trade] = ex.fetch_my_trades("BTC/USDT")
    assert (trade["takerOrMaker"], trade["price"]) == ("maker", target)


def test_ccxt_cancel_frees_the_locked_quote(ex):
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000.0)
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
    ex.cancel_order(order["id"], "BTC/USDT")
    assert ex.fetch_open_orders("BTC/USDT") == []
    assert ex.fetch_balance()["USDT"] == {"free": 10_000.0, "used": 0.0, "total": 10_000.0}
    assert ex.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"


def test_ccxt_client_order_id_finds_the_order(ex):
    ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000.0, {"newClientOrderId": "intent-7"})
    found = ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "intent-7"})
    assert found["clientOrderId"] == "intent-7"


def test_ccxt_duplicate_open_client_order_id_is_refused(ex):
    ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000.0, {"newClientOrderId": "dup"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000.0, {"newClientOrderId": "dup"})


def test_ccxt_insufficient_balance_raises_insufficient_funds(ex):
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "market", "buy", 5)


def test_ccxt_notional_below_minimum_is_bad_request(ex):
    # -1013 maps to BadRequest in ccxt (only LOT_SIZE / PRICE_FILTER texts become InvalidOrder)
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        ex.create_order("BTC/USDT", "limit", "buy", 0.00001, 1000.0)


def test_ccxt_cancel_unknown_order_is_order_not_found(ex):
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order("999", "BTC/USDT")


def test_ccxt_fetch_unknown_order_is_order_not_found(ex):
    with pytest.raises(ccxt.OrderNotFound):
        ex.fetch_order("999", "BTC/USDT")


def test_ccxt_cancel_all_orders_empties_the_book(ex):
    for price in (1000.0, 1001.0):
        ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    ex.cancel_all_orders("BTC/USDT")
    assert ex.fetch_open_orders("BTC/USDT") == []
    assert [o["status"] for o in ex.fetch_orders("BTC/USDT")] == ["canceled", "canceled"]


def test_ccxt_responses_report_the_used_weight(ex):
    ex.fetch_ticker("BTC/USDT")
    first = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
    ex.fetch_balance()
    assert int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == first + 20
