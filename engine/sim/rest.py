"""Binance spot REST endpoints of the simulator: what each answers, in Binance's JSON.

Each endpoint is a plain function of (simulator state, parameters) returning
JSON-able data or raising `ApiError`; `engine/sim/server.py` does HTTP,
signing, weights and faults around them. `ENDPOINTS` maps (method, path) to
the function, its request weight and whether it is signed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.sim.book import Fill, Order, fmt
from engine.sim.errors import ApiError
from engine.sim.market import Bar

if TYPE_CHECKING:
    from engine.sim.server import SimState

__all__ = ["ENDPOINTS", "Endpoint", "fill_json", "kline_json", "order_json"]

Params = dict[str, str]
MAX_KLINES = 1000
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")


@dataclass(frozen=True)
class Endpoint:
    handler: Callable[[SimState, Params], Any]
    weight: int
    signed: bool


def kline_json(bar: Bar, step: int) -> list[Any]:
    """A candle in Binance's kline layout (prices as 8-decimal strings)."""
    def f(x: float) -> str:
        return f"{x:.8f}"
    return [bar.time, f(bar.open), f(bar.high), f(bar.low), f(bar.close), f(bar.volume),
            bar.time + step - 1, f(bar.volume * bar.close), 0, "0.00000000", "0.00000000", "0"]


def order_json(o: Order) -> dict[str, Any]:
    """An order as GET /api/v3/order answers it."""
    return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": o.client_order_id, "price": fmt(o.price), "origQty": fmt(o.orig_qty),
            "executedQty": fmt(o.executed_qty), "cummulativeQuoteQty": fmt(o.cum_quote),
            "status": o.status, "timeInForce": o.time_in_force or "GTC", "type": o.type,
            "side": o.side, "stopPrice": fmt(o.stop_price), "icebergQty": fmt(Decimal(0)),
            "time": o.time, "updateTime": o.update_time, "isWorking": o.is_working,
            "workingTime": o.time if o.is_working else -1,
            "origQuoteOrderQty": fmt(o.orig_quote or Decimal(0)), "selfTradePreventionMode": "NONE"}


def fill_json(f: Fill) -> dict[str, Any]:
    return {"price": fmt(f.price), "qty": fmt(f.qty), "commission": fmt(f.commission),
            "commissionAsset": f.commission_asset, "tradeId": f.trade_id}


# ---- parameters -----------------------------------------------------------------------------
def _need(p: Params, name: str) -> str:
    value = p.get(name)
    if not value:
        raise ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def _decimal(p: Params, name: str) -> Decimal | None:
    """A decimal parameter in Binance's legal form (so no exponent or length can blow up the maths)."""
    text = p.get(name)
    if text is None:
        return None
    if not _DECIMAL.fullmatch(text):
        raise ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                              "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
    return Decimal(text)


def _int(p: Params, name: str) -> int | None:
    text = p.get(name)
    if text is None:
        return None
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                              "'^[0-9]{1,20}$'.")
    return int(text)


def _symbol(s: SimState, p: Params) -> str:
    symbol = _need(p, "symbol")
    if symbol not in s.market.candles:
        raise ApiError(-1121, "Invalid symbol.")
    return symbol


def _symbols(s: SimState, p: Params) -> list[str]:
    if "symbol" in p:
        return [_symbol(s, p)]
    return sorted(s.market.candles)


# ---- market data ----------------------------------------------------------------------------
def _ping(s: SimState, p: Params) -> Any:
    return {}


def _server_time(s: SimState, p: Params) -> Any:
    return {"serverTime": s.wall_ms()}


def _exchange_info(s: SimState, p: Params) -> Any:
    out = []
    for symbol in _symbols(s, p):
        base, quote = s.market.pairs[symbol]
        r = s.account.rules[symbol]
        out.append({
            "symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
            "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False,
            "cancelReplaceAllowed": False, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(r.tick_size),
                 "maxPrice": "1000000.00000000", "tickSize": fmt(r.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": fmt(r.min_qty), "maxQty": fmt(r.max_qty),
                 "stepSize": fmt(r.step_size)},
                {"filterType": "NOTIONAL", "minNotional": fmt(r.min_notional),
                 "applyMinToMarket": True, "maxNotional": "9000000.00000000",
                 "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"],
        })
    return {"timezone": "UTC", "serverTime": s.wall_ms(),
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                            "limit": 6000}],
            "exchangeFilters": [], "symbols": out}


def _futures_info(s: SimState, p: Params) -> Any:
    """ccxt loads futures markets too: the simulator lists none."""
    return {"timezone": "UTC", "serverTime": s.wall_ms(), "rateLimits": [], "exchangeFilters": [],
            "assets": [], "symbols": []}


def _klines(s: SimState, p: Params) -> Any:
    symbol = _symbol(s, p)
    interval = _need(p, "interval")
    size = s.market.interval(interval)
    if size is None:
        raise ApiError(-1120, "Invalid interval.")
    limit = _int(p, "limit") or 500
    if not 1 <= limit <= MAX_KLINES:
        raise ApiError(-1130, "Invalid data sent for a parameter.")
    start, end = _int(p, "startTime"), _int(p, "endTime")
    if size != s.market.step:
        return [kline_json(b, size) for b in s.market.coarse(symbol, size, start, end, limit)]
    bars = s.market.closed(symbol, start, end, limit)
    live = s.market.open_bar(symbol)
    if live is not None and (end is None or end >= live.time):
        if start is None:       # the latest `limit` candles, the open one last (as Binance)
            bars = [*bars[max(0, len(bars) - limit + 1):], live] if limit > 1 else [live]
        elif len(bars) < limit:
            bars.append(live)
    return [kline_json(b, s.market.step) for b in bars]


def _ticker_price(s: SimState, p: Params) -> Any:
    rows = [{"symbol": sym, "price": fmt(s.market.price(sym))} for sym in _symbols(s, p)]
    return rows[0] if "symbol" in p else rows


def _ticker_24hr(s: SimState, p: Params) -> Any:
    rows = []
    count = max(1, 86_400_000 // s.market.step)
    for sym in _symbols(s, p):
        bars = s.market.last_closed(sym, count)
        last = s.market.price(sym)
        first = Decimal(repr(bars[0].open)) if bars else last
        high = max([Decimal(repr(b.high)) for b in bars] + [last])
        low = min([Decimal(repr(b.low)) for b in bars] + [last])
        volume = Decimal(repr(sum(b.volume for b in bars)))
        rows.append({"symbol": sym, "priceChange": fmt(last - first),
                     "priceChangePercent": f"{(last - first) / first * 100:.3f}" if first else "0.000",
                     "weightedAvgPrice": fmt(last), "prevClosePrice": fmt(first),
                     "lastPrice": fmt(last), "lastQty": fmt(Decimal(0)), "bidPrice": fmt(last),
                     "bidQty": fmt(Decimal(1)), "askPrice": fmt(last), "askQty": fmt(Decimal(1)),
                     "openPrice": fmt(first), "highPrice": fmt(high), "lowPrice": fmt(low),
                     "volume": fmt(volume), "quoteVolume": fmt(volume * last),
                     "openTime": bars[0].time if bars else s.market.now,
                     "closeTime": s.market.now - 1, "firstId": 0, "lastId": 0, "count": len(bars)})
    return rows[0] if "symbol" in p else rows


def _book_top(s: SimState, symbol: str) -> tuple[Decimal, Decimal]:
    tick = s.account.rules[symbol].tick_size
    price = s.market.price(symbol).quantize(tick)
    return price - tick, price + tick


def _book_ticker(s: SimState, p: Params) -> Any:
    """The best bid and ask of the synthetic book (`/depth`'s first levels)."""
    rows = []
    for sym in _symbols(s, p):
        bid, ask = _book_top(s, sym)
        rows.append({"symbol": sym, "bidPrice": fmt(bid), "bidQty": fmt(Decimal(1)), "askPrice": fmt(ask),
                     "askQty": fmt(Decimal(1))})
    return rows[0] if "symbol" in p else rows


def _avg_price(s: SimState, p: Params) -> Any:
    """The mean close of the last 5 minutes of closed candles (Binance's avgPrice)."""
    symbol = _symbol(s, p)
    bars = s.market.last_closed(symbol, max(1, 300_000 // s.market.step))
    closes = [Decimal(repr(b.close)) for b in bars] or [s.market.price(symbol)]
    price = sum(closes, Decimal(0)) / len(closes)
    return {"mins": 5, "price": fmt(price), "closeTime": s.market.now - 1}


def _depth(s: SimState, p: Params) -> Any:
    """A synthetic book: `limit` levels each side, one tick apart around the price now."""
    symbol = _symbol(s, p)
    limit = _int(p, "limit") or 100
    if not 1 <= limit <= 5000:
        raise ApiError(-1130, "Invalid data sent for a parameter.")
    tick = s.account.rules[symbol].tick_size
    bid, ask = _book_top(s, symbol)
    qty = [fmt(Decimal(1) + Decimal(k % 7) / 10) for k in range(limit)]
    return {"lastUpdateId": (s.market.now - s.market.first) // s.market.step,
            "bids": [[fmt(bid - tick * k), qty[k]] for k in range(limit)],
            "asks": [[fmt(ask + tick * k), qty[k]] for k in range(limit)]}


# ---- trading ----------------------------------------------------------------------------------
def _place(s: SimState, p: Params, *, check_only: bool) -> Order | None:
    symbol = _symbol(s, p)
    client_id = p.get("newClientOrderId")
    if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
        raise ApiError(-1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                              "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
    return s.account.place(
        symbol, _need(p, "side"), _need(p, "type"), qty=_decimal(p, "quantity"),
        quote_qty=_decimal(p, "quoteOrderQty"), price=_decimal(p, "price"),
        stop_price=_decimal(p, "stopPrice"), time_in_force=p.get("timeInForce"),
        client_id=client_id, split=1 if check_only else s.partial_split(), check_only=check_only)


def _test_order(s: SimState, p: Params) -> Any:
    """POST /api/v3/order/test: every check of a new order, nothing placed."""
    _place(s, p, check_only=True)
    return {}


def _new_order(s: SimState, p: Params) -> Any:
    order = _place(s, p, check_only=False)
    assert order is not None
    symbol = order.symbol
    kind = p.get("newOrderRespType") or ("FULL" if order.type in ("MARKET", "LIMIT") else "ACK")
    ack = {"symbol": symbol, "orderId": order.order_id, "orderListId": -1,
           "clientOrderId": order.client_order_id, "transactTime": order.time}
    if kind == "ACK":
        return ack
    full = order_json(order)
    result = {**ack, **{k: full[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty",
                                             "status", "timeInForce", "type", "side", "workingTime",
                                             "selfTradePreventionMode")}}
    if order.type not in ("MARKET", "LIMIT"):
        result["stopPrice"] = full["stopPrice"]
    if kind == "FULL":
        result["fills"] = [fill_json(f) for f in order.fills]
    return result


def _find(s: SimState, p: Params) -> Order:
    symbol = _symbol(s, p)
    oid, cid = _int(p, "orderId"), p.get("origClientOrderId")
    if oid is None and cid is None:
        raise ApiError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                              "empty/null!")
    return s.account.find(symbol, oid, cid)


def _get_order(s: SimState, p: Params) -> Any:
    return order_json(_find(s, p))


def _cancel_json(o: Order) -> dict[str, Any]:
    out = order_json(o)
    return {"symbol": o.symbol, "origClientOrderId": o.client_order_id, "orderId": o.order_id,
            "orderListId": -1, "clientOrderId": o.client_order_id, "transactTime": o.update_time,
            **{k: out[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status",
                                   "timeInForce", "type", "side", "selfTradePreventionMode")}}


def _cancel_order(s: SimState, p: Params) -> Any:
    try:
        order = _find(s, p)
    except ApiError as exc:
        if exc.code == -2013:
            raise ApiError(-2011, "Unknown order sent.") from None
        raise
    return _cancel_json(s.account.cancel(order))


def _cancel_all(s: SimState, p: Params) -> Any:
    symbol = _symbol(s, p)
    orders = s.account.open_orders(symbol)
    if not orders:
        raise ApiError(-2011, "Unknown order sent.")
    return [_cancel_json(s.account.cancel(o)) for o in orders]


def _open_orders(s: SimState, p: Params) -> Any:
    symbol = _symbol(s, p) if "symbol" in p else None
    return [order_json(o) for o in s.account.open_orders(symbol)]


def _all_orders(s: SimState, p: Params) -> Any:
    symbol = _symbol(s, p)
    limit = min(_int(p, "limit") or 500, 1000)
    since, until, first = _int(p, "startTime"), _int(p, "endTime"), _int(p, "orderId")
    rows = [o for o in s.account.orders.values() if o.symbol == symbol
            and (first is None or o.order_id >= first) and (since is None or o.time >= since)
            and (until is None or o.time <= until)]
    return [order_json(o) for o in rows[:limit]]


def _account(s: SimState, p: Params) -> Any:
    rate = fmt(s.account.commission)
    bps = int(s.account.commission * 10_000)
    return {"makerCommission": bps, "takerCommission": bps, "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": rate, "taker": rate, "buyer": fmt(Decimal(0)),
                                "seller": fmt(Decimal(0))},
            "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": s.market.now,
            "accountType": "SPOT", "permissions": ["SPOT"], "uid": 1,
            "balances": [{"asset": a, "free": fmt(s.account.balance(a)[0]),
                          "locked": fmt(s.account.balance(a)[1])} for a in s.account.assets()]}


def _my_trades(s: SimState, p: Params) -> Any:
    symbol = _symbol(s, p)
    limit = min(_int(p, "limit") or 500, 1000)
    oid, since, from_id = _int(p, "orderId"), _int(p, "startTime"), _int(p, "fromId")
    rows = [t for t in s.account.trades if t.symbol == symbol and oid in (None, t.order_id)
            and (since is None or t.time >= since) and (from_id is None or t.trade_id >= from_id)]
    return [{"symbol": t.symbol, "id": t.trade_id, "orderId": t.order_id, "orderListId": -1,
             "price": fmt(t.price), "qty": fmt(t.qty), "quoteQty": fmt(t.price * t.qty),
             "commission": fmt(t.commission), "commissionAsset": t.commission_asset,
             "time": t.time, "isBuyer": t.is_buyer, "isMaker": t.is_maker, "isBestMatch": True}
            for t in rows[:limit]]


def _no_margin(s: SimState, p: Params) -> Any:
    """ccxt asks for the margin pairs when it has keys: the simulator is spot only."""
    return []


def _capital_config(s: SimState, p: Params) -> Any:
    """ccxt's fetchCurrencies asks this when it has keys: one network per asset."""
    rows = []
    for asset in s.account.assets():
        free, locked = s.account.balance(asset)
        rows.append({"coin": asset, "name": asset, "free": fmt(free), "locked": fmt(locked),
                     "depositAllEnable": False, "withdrawAllEnable": False, "trading": True,
                     "isLegalMoney": False,
                     "networkList": [{"network": asset, "coin": asset, "name": asset,
                                      "isDefault": True, "depositEnable": False,
                                      "withdrawEnable": False, "withdrawFee": "0",
                                      "withdrawMin": "0", "withdrawMax": "0",
                                      "withdrawIntegerMultiple": "0.00000001",
                                      "depositDust": "0", "minConfirm": 1}]})
    return rows


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): Endpoint(_ping, 1, False),
    ("GET", "/api/v3/time"): Endpoint(_server_time, 1, False),
    ("GET", "/api/v3/exchangeInfo"): Endpoint(_exchange_info, 20, False),
    ("GET", "/fapi/v1/exchangeInfo"): Endpoint(_futures_info, 1, False),
    ("GET", "/dapi/v1/exchangeInfo"): Endpoint(_futures_info, 1, False),
    ("GET", "/api/v3/klines"): Endpoint(_klines, 2, False),
    ("GET", "/api/v3/ticker/price"): Endpoint(_ticker_price, 2, False),
    ("GET", "/api/v3/ticker/24hr"): Endpoint(_ticker_24hr, 2, False),
    ("GET", "/api/v3/depth"): Endpoint(_depth, 5, False),
    ("GET", "/api/v3/ticker/bookTicker"): Endpoint(_book_ticker, 2, False),
    ("GET", "/api/v3/avgPrice"): Endpoint(_avg_price, 2, False),
    ("POST", "/api/v3/order"): Endpoint(_new_order, 1, True),
    ("POST", "/api/v3/order/test"): Endpoint(_test_order, 1, True),
    ("GET", "/api/v3/order"): Endpoint(_get_order, 4, True),
    ("DELETE", "/api/v3/order"): Endpoint(_cancel_order, 1, True),
    ("GET", "/api/v3/openOrders"): Endpoint(_open_orders, 6, True),
    ("DELETE", "/api/v3/openOrders"): Endpoint(_cancel_all, 1, True),
    ("GET", "/api/v3/allOrders"): Endpoint(_all_orders, 20, True),
    ("GET", "/api/v3/account"): Endpoint(_account, 20, True),
    ("GET", "/api/v3/myTrades"): Endpoint(_my_trades, 20, True),
    ("GET", "/sapi/v1/capital/config/getall"): Endpoint(_capital_config, 10, True),
    ("GET", "/sapi/v1/margin/allPairs"): Endpoint(_no_margin, 1, False),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Endpoint(_no_margin, 10, False),
}
