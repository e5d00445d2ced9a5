"""Money with the quote currency's precision, and metric warnings, in every report."""
from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from engine.kernel.trades import SimResult, Trades
from engine.metrics import compute_metrics
from engine.report import render_summary
from engine.report.display import format_value
from engine.report.money import format_money, money_decimals

T0 = 1_704_067_200_000
MINUTE = 60_000


@pytest.mark.parametrize(("value", "currency", "text"), [
    pytest.param(1234.5, "USDT", "1,234.50 USDT", id="stablecoin-2-decimals"),
    pytest.param(0.0013, "BTC", "0.00130000 BTC", id="btc-8-decimals"),
    pytest.param(-0.25, "ETH", "-0.25000000 ETH", id="eth-8-decimals"),
    pytest.param(99.999, "EUR", "100.00 EUR", id="fiat-rounds"),
    pytest.param(0.0013, "", "0.00130", id="unknown-currency-3-significant"),
    pytest.param(12.345, "", "12.35", id="unknown-currency-from-1-two-decimals"),
    pytest.param(-0.001, "USDT", "0.00 USDT", id="no-negative-zero"),
    pytest.param(None, "USDT", "—", id="missing"),
    pytest.param(float("nan"), "BTC", "—", id="nan"),
])
def test_format_money_uses_the_currency_precision(value, currency, text):
    assert format_money(value, currency) == text


def test_format_money_without_suffix_and_signed():
    assert format_money(0.0013, "BTC", suffix=False, signed=True) == "+0.00130000"
    assert format_money(1.5, "usdt") == "1.50 usdt"  # the code is matched case-insensitively


def test_money_decimals_by_magnitude_caps_at_8():
    assert money_decimals("", 1e-12) == 8
    assert money_decimals("", 0.5) == 3


def test_format_value_money_is_format_money():
    assert format_value(0.0013, "money", "BTC") == "0.00130000 BTC"


def _btc_quoted_day() -> dict:
    """A one-day run of 1m bars on ETH/BTC that made 0.0013 BTC on one trade."""
    n = 1440
    trades = Trades(np.zeros(1, np.int32), np.ones(1, np.int8), np.array([10]), np.array([20]),
                    np.array([T0 + 10 * MINUTE]), np.array([T0 + 20 * MINUTE]),
                    np.array([0.05]), np.array([0.0513]), np.array([20.0]), np.array([1.0]),
                    np.array([0.0013]), np.array([0.0013]), np.array([0.002]),
                    np.zeros(1, np.int8))
    equity = np.where(np.arange(n) >= 20, 1.0013, 1.0)
    result = SimResult(("ETH/BTC",), "1m", T0 + np.arange(n, dtype=np.int64) * MINUTE, trades,
                       equity, 1.0)
    return compute_metrics(result)


def test_render_summary_shows_btc_profit_with_8_decimals_and_the_short_run_warning():
    out = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    render_summary(_btc_quoted_day(), out)
    text = out.export_text()
    assert "0.00130000 BTC" in text
    assert "0.00 BTC" not in text
    assert "warning: the run spans 1 day (under 30)" in " ".join(text.split())
