"""The matching engine: one account, orders on each symbol, fills against the candle stream.

Rules (docs/exchange-sim.md says the same):

1. Placing (`place`): the symbol's filters are checked (PRICE_FILTER tickSize,
   LOT_SIZE stepSize/minQty, NOTIONAL minNotional: -1013), the client order id
   must be unique among open orders (-2010 "Duplicate order sent."), the
   balance must cover it (-2010 insufficient balance).
2. MARKET fills at once at the price now (the open candle's open) moved by
   `slippage` against the taker. A LIMIT priced through the market (a buy at or
   above the price) fills at once at the price now, as a taker; otherwise it
   rests (GTC) or expires (IOC, FOK).
3. A resting LIMIT fills at its limit price when a candle reaches it (buy:
   low <= price; sell: high >= price), in `on_bar`: the candle that was open
   when it was placed counts (its range came after the open, where the order
   was placed), then every later one. STOP_LOSS_LIMIT and
   TAKE_PROFIT_LIMIT wait for their stop price (a stop-loss buy triggers when
   high >= stop, a sell when low <= stop; take-profit the other way round),
   then rest as LIMIT orders from the NEXT candle on (the path inside a candle
   is unknown, so a trigger and a fill never share one). A stop that would
   trigger at once is rejected (-2010), as Binance does.
4. Balances: a resting buy locks price * quantity of the quote asset, a sell
   locks the quantity of the base asset; fills move locked amounts out and the
   proceeds in. The commission (`commission`, a fraction) is taken from the
   asset received, as Binance does when BNB is not used to pay fees.
5. `split` > 1 (the partial-fill fault) makes a resting LIMIT fill in that many
   pieces, one per candle that reaches its price.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from engine.sim.errors import ApiError
from engine.sim.market import Bar, Market

__all__ = ["Account", "Fill", "Order", "SymbolRules", "fmt"]

ZERO = Decimal(0)
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
TYPES = ("MARKET", "LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")


def fmt(value: Decimal) -> str:
    """Decimals as Binance writes them: 8 decimals."""
    return f"{value:.8f}"


@dataclass(frozen=True)
class SymbolRules:
    """The filters of one symbol (Binance's exchangeInfo)."""

    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")


@dataclass
class Fill:
    """One trade of one order."""

    trade_id: int
    order_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool


@dataclass
class Order:
    """An order as the exchange keeps it."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    stop_price: Decimal
    orig_qty: Decimal
    time: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    triggered: bool = False          # a stop order whose stop price was reached
    working_from: int = 0            # first candle open time the order may fill on
    split: int = 1                   # partial-fill fault: pieces left to fill it in
    orig_quote: Decimal | None = None
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_working(self) -> bool:
        return self.type in ("MARKET", "LIMIT") or self.triggered

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty


class Account:
    """Balances, orders and trades of the one simulated account, matched against `market`."""

    def __init__(self, market: Market, balances: dict[str, Decimal], *, commission: Decimal,
                 slippage: Decimal, rules: SymbolRules | None = None) -> None:
        self.market = market
        self.free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self.locked: dict[str, Decimal] = {a: ZERO for a in self.free}
        self.commission = commission
        self.slippage = slippage
        self.rules = {s: rules or SymbolRules() for s in market.candles}
        self.orders: dict[int, Order] = {}
        self.trades: list[Fill] = []
        self._next_order = 1
        self._next_trade = 1
        self.listeners: list[Callable[[Order, Fill | None], None]] = []  # the user data stream

    # ---- queries ---------------------------------------------------------------------------
    def assets(self) -> list[str]:
        names = set(self.free)
        for base, quote in self.market.pairs.values():
            names |= {base, quote}
        return sorted(names)

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        return self.free.get(asset, ZERO), self.locked.get(asset, ZERO)

    def find(self, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        """The order by id or client id (the newest with that client id); -2013 when none."""
        if order_id is not None:
            order = self.orders.get(order_id)
            if order is not None and order.symbol == symbol:
                return order
        elif client_id is not None:
            mine = [o for o in self.orders.values() if o.symbol == symbol
                    and o.client_order_id == client_id]
            if mine:
                return mine[-1]
        raise ApiError(-2013, "Order does not exist.")

    def open_orders(self, symbol: str | None) -> list[Order]:
        return [o for o in self.orders.values() if o.is_open and symbol in (None, o.symbol)]

    # ---- placing and cancelling -------------------------------------------------------------
    def place(self, symbol: str, side: str, type_: str, *, qty: Decimal | None,
              quote_qty: Decimal | None, price: Decimal | None, stop_price: Decimal | None,
              time_in_force: str | None, client_id: str | None, split: int = 1,
              check_only: bool = False) -> Order | None:
        """Check and accept an order; fill what fills at once (rules 1-2). `check_only`
        (POST /api/v3/order/test) stops after the checks: nothing is placed, None is returned."""
        rules = self.rules[symbol]
        base, quote = self.market.pairs[symbol]
        if side not in ("BUY", "SELL"):
            raise ApiError(-1100, "Illegal characters found in parameter 'side'; legal range is 'BUY, SELL'.")
        if type_ not in TYPES:
            raise ApiError(-1116, "Invalid orderType.")
        if client_id is not None and any(o.client_order_id == client_id for o in self.open_orders(None)):
            raise ApiError(-2010, "Duplicate order sent.")
        now_price = self.market.price(symbol)
        if type_ != "MARKET":
            if price is None:
                raise ApiError(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
            if time_in_force is None:
                raise ApiError(-1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, "
                                      "or malformed.")
            if time_in_force not in ("GTC", "IOC", "FOK"):
                raise ApiError(-1115, "Invalid timeInForce.")
            _check_price(price, rules)
        if type_ in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
            if stop_price is None:
                raise ApiError(-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, "
                                      "or malformed.")
            _check_price(stop_price, rules)
            if _triggers(type_, side, stop_price, now_price, now_price):
                raise ApiError(-2010, "Stop price would trigger immediately.")
        if type_ == "MARKET" and qty is None:
            if quote_qty is None:
                raise ApiError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both "
                                      "were empty/null!")
            fill_price = self._taker_price(side, now_price, rules)
            qty = (quote_qty / fill_price).quantize(rules.step_size, rounding=ROUND_DOWN)
        if qty is None:
            raise ApiError(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        _check_qty(qty, rules)
        notional = qty * (price if price is not None and type_ != "MARKET" else now_price)
        if notional < rules.min_notional:
            raise ApiError(-1013, "Filter failure: NOTIONAL")
        need_asset, need = (quote, notional) if side == "BUY" else (base, qty)
        if type_ == "MARKET" and side == "BUY":
            need = qty * self._taker_price(side, now_price, rules)
        if self.free.get(need_asset, ZERO) < need:
            raise ApiError(-2010, "Account has insufficient balance for requested action.")
        if check_only:
            return None
        oid = self._next_order
        self._next_order += 1
        order = Order(symbol, oid, client_id or f"sim-{oid}", side, type_,
                      time_in_force or ("" if type_ == "MARKET" else "GTC"),
                      price if type_ != "MARKET" and price is not None else ZERO,
                      stop_price or ZERO, qty, self.market.now, update_time=self.market.now,
                      working_from=self.market.now, split=max(split, 1),
                      orig_quote=quote_qty)
        self.orders[oid] = order
        if type_ == "MARKET":
            self._notify(order, None)
            self._fill(order, qty, self._taker_price(side, now_price, rules), maker=False)
            return order
        self._lock(order, order.remaining)
        self._notify(order, None)
        if type_ == "LIMIT":
            marketable = price is not None and (price >= now_price if side == "BUY" else price <= now_price)
            if marketable:
                self._fill(order, qty, now_price, maker=False)
            elif time_in_force in ("IOC", "FOK"):
                self._close(order, "EXPIRED")
        return order

    def cancel(self, order: Order) -> Order:
        """Cancel an open order; -2011 when it is not open."""
        if not order.is_open:
            raise ApiError(-2011, "Unknown order sent.")
        self._close(order, "CANCELED")
        return order

    # ---- matching ---------------------------------------------------------------------------
    def on_bar(self, symbol: str, bar: Bar) -> None:
        """Match the open orders of `symbol` against a candle that just closed (rule 3)."""
        high, low = Decimal(repr(bar.high)), Decimal(repr(bar.low))
        for order in self.open_orders(symbol):
            if not order.is_working:
                if _triggers(order.type, order.side, order.stop_price, high, low):
                    order.triggered = True
                    order.working_from = bar.time + self.market.step
                    order.update_time = bar.time + self.market.step
                continue
            if bar.time < order.working_from:
                continue
            reached = low <= order.price if order.side == "BUY" else high >= order.price
            if not reached:
                continue
            qty = order.remaining
            if order.split > 1:
                piece = (order.orig_qty / order.split).quantize(self.rules[symbol].step_size,
                                                                rounding=ROUND_DOWN)
                qty = min(qty, max(piece, self.rules[symbol].step_size))
            self._fill(order, qty, order.price, maker=True, at=bar.time + self.market.step)

    # ---- internals --------------------------------------------------------------------------
    def _taker_price(self, side: str, price: Decimal, rules: SymbolRules) -> Decimal:
        moved = price * (1 + self.slippage if side == "BUY" else 1 - self.slippage)
        return moved.quantize(rules.tick_size, rounding=ROUND_DOWN if side == "SELL" else ROUND_UP)

    def _lock(self, order: Order, qty: Decimal) -> None:
        base, quote = self.market.pairs[order.symbol]
        asset, amount = (quote, qty * order.price) if order.side == "BUY" else (base, qty)
        self.free[asset] = self.free.get(asset, ZERO) - amount
        self.locked[asset] = self.locked.get(asset, ZERO) + amount

    def _unlock(self, order: Order, qty: Decimal) -> None:
        base, quote = self.market.pairs[order.symbol]
        asset, amount = (quote, qty * order.price) if order.side == "BUY" else (base, qty)
        self.locked[asset] = self.locked.get(asset, ZERO) - amount
        self.free[asset] = self.free.get(asset, ZERO) + amount

    def _fill(self, order: Order, qty: Decimal, price: Decimal, *, maker: bool,
              at: int | None = None) -> None:
        base, quote = self.market.pairs[order.symbol]
        if order.type != "MARKET":
            self._unlock(order, qty)
        cost = qty * price
        if order.side == "BUY":
            fee, fee_asset = qty * self.commission, base
            self.free[quote] = self.free.get(quote, ZERO) - cost
            self.free[base] = self.free.get(base, ZERO) + qty - fee
        else:
            fee, fee_asset = cost * self.commission, quote
            self.free[base] = self.free.get(base, ZERO) - qty
            self.free[quote] = self.free.get(quote, ZERO) + cost - fee
        when = self.market.now if at is None else at
        fill = Fill(self._next_trade, order.order_id, order.symbol, price, qty, fee, fee_asset,
                    when, order.side == "BUY", maker)
        self._next_trade += 1
        self.trades.append(fill)
        order.fills.append(fill)
        order.executed_qty += qty
        order.cum_quote += cost
        order.update_time = when
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        self._notify(order, fill)

    def _close(self, order: Order, status: str) -> None:
        self._unlock(order, order.remaining)
        order.status = status
        order.update_time = self.market.now
        self._notify(order, None)

    def _notify(self, order: Order, fill: Fill | None) -> None:
        for listener in self.listeners:
            listener(order, fill)


def _triggers(type_: str, side: str, stop: Decimal, high: Decimal, low: Decimal) -> bool:
    """Whether a candle spanning [low, high] reaches the stop of a stop-limit order."""
    rising = (type_ == "STOP_LOSS_LIMIT") == (side == "BUY")
    return high >= stop if rising else low <= stop


def _check_price(price: Decimal, rules: SymbolRules) -> None:
    if price <= 0 or price % rules.tick_size != 0:
        raise ApiError(-1013, "Filter failure: PRICE_FILTER")


def _check_qty(qty: Decimal, rules: SymbolRules) -> None:
    if qty < rules.min_qty or qty > rules.max_qty or qty % rules.step_size != 0:
        raise ApiError(-1013, "Filter failure: LOT_SIZE")
