"""Money as text, with the quote currency's precision.

Two decimals suit USDT and fiat, but a BTC-quoted run that made 0.0013 BTC
would read "Profit 0.00 BTC". Fiat and stablecoins get 2 decimals, any
other (crypto) quote currency 8, the precision exchanges quote BTC and ETH
pairs in. When the currency is unknown (mixed quotes), the decimals follow
the value's magnitude: 2 from 1 up, otherwise enough for 3 significant
digits (at most 8). The terminal tables, the HTML report and run
comparisons all call `format_money`, so one amount reads the same everywhere.
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["FIAT_LIKE", "format_money", "money_decimals"]

# Quote currencies worth about one unit of a fiat currency: cents are enough.
FIAT_LIKE = frozenset({
    "USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "TRY", "BRL", "RUB", "UAH", "KRW", "INR",
    "IDR", "MXN", "ARS", "ZAR", "NGN", "PLN", "SGD", "HKD", "CNY",
    "USDT", "USDC", "BUSD", "TUSD", "FDUSD", "DAI", "USDP", "PYUSD", "USDD", "UST", "EURT",
    "EURC", "USDE", "RLUSD", "USD1",
})
_CRYPTO_DECIMALS = 8
_MISSING = "—"


def money_decimals(currency: str, value: float | None = None) -> int:
    """Decimals to show an amount of `currency` with (see the module docstring)."""
    code = currency.strip().upper()
    if code in FIAT_LIKE:
        return 2
    if code:
        return _CRYPTO_DECIMALS
    magnitude = abs(value) if value is not None and math.isfinite(value) else 0.0
    if magnitude == 0.0 or magnitude >= 1.0:
        return 2
    return min(_CRYPTO_DECIMALS, max(2, 2 - math.floor(math.log10(magnitude))))


def format_money(value: Any, currency: str = "", *, suffix: bool = True,
                 signed: bool = False) -> str:
    """`1234.5, "USDT"` -> `1,234.50 USDT`; `0.0013, "BTC"` -> `0.00130000 BTC`.

    None or NaN reads as an em dash. `suffix=False` leaves the currency out
    (for a table whose header names it); `signed` adds a `+` to gains.
    """
    if value is None or not isinstance(value, (int, float)) or math.isnan(value):
        return _MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    decimals = money_decimals(currency, float(value))
    text = f"{float(value):{'+' if signed else ''},.{decimals}f}"
    if text.lstrip("+-").strip("0.,") == "":  # rounds to zero: no "-0.00"
        text = f"{0.0:,.{decimals}f}"
    return f"{text} {currency}" if suffix and currency else text
