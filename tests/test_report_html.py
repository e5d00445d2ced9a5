"""The HTML report's parts: detail blocks for zooming, monthly returns, histograms, sections.

Run with NumPy deprecations as errors (issue 8: a unit-less NaT is deprecated).
"""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from engine.data.candles import Candles
from engine.kernel.trades import SimResult, Trades
from engine.metrics import compute_metrics
from engine.report.charts import TradeMarks, is_histogram, price_figure, returns_histogram
from engine.report.detail import detail_blocks, detail_timeframe
from engine.report.sections import cards, monthly_table, run_facts, trade_table, warnings_note

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

T0 = 1_704_067_200_000
MINUTE = 60_000


def _blocks(page: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(2)) for m in
            re.finditer(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page)}


def _f32(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def test_detail_blocks_carry_every_bar_as_float32():
    time_ = T0 + np.arange(10, dtype=np.int64) * MINUTE
    close = np.arange(10.0) + 0.25
    page = detail_blocks("price-0", time_, MINUTE, 5 * MINUTE, {"close": ("last", close)},
                         title="BTC/USDT")
    blocks = _blocks(page)
    spec, payload = blocks["detail-spec-price-0"], blocks["detail-price-0"]
    assert spec["bar_ms"] == MINUTE and spec["overview_ms"] == 5 * MINUTE
    assert spec["timeframes"] == [MINUTE, 3 * MINUTE]  # finer than the 5m overview
    assert spec["labels"][str(MINUTE)] == "1m" and spec["title"] == "BTC/USDT"
    assert payload["time"] == {"start": T0, "step": MINUTE, "n": 10}  # a regular clock
    assert list(_f32(payload["series"]["close"])) == list(close)


def test_detail_blocks_pre_resample_a_long_history_with_each_rule():
    time_ = T0 + np.arange(12, dtype=np.int64) * MINUTE
    values = np.array([5, 9, 1, 4, 2, 8, 7, 3, 6, 0, 11, 10], dtype=np.float64)
    page = detail_blocks("equity", time_, MINUTE, 15 * MINUTE,
                         {"high": ("max", values), "low": ("min", values),
                          "open": ("first", values), "close": ("last", values)},
                         max_detail=4)  # 12 bars > 4: embedded as 3m buckets
    payload = _blocks(page)["detail-equity"]
    assert _blocks(page)["detail-spec-equity"]["bar_ms"] == 3 * MINUTE
    assert list(_f32(payload["series"]["high"])) == [9, 8, 7, 11]
    assert list(_f32(payload["series"]["low"])) == [1, 2, 3, 0]
    assert list(_f32(payload["series"]["open"])) == [5, 4, 7, 0]
    assert list(_f32(payload["series"]["close"])) == [1, 8, 6, 10]


def test_detail_blocks_irregular_clock_is_every_time():
    time_ = T0 + np.array([0, 1, 2, 5, 6, 7], dtype=np.int64) * MINUTE  # a gap
    payload = _blocks(detail_blocks("p", time_, MINUTE, 5 * MINUTE,
                                    {"c": ("last", np.ones(6))}))["detail-p"]
    assert list(np.frombuffer(base64.b64decode(payload["time"]), "<f8")) == list(time_)


def test_detail_blocks_absent_when_the_chart_is_not_downsampled():
    time_ = T0 + np.arange(10, dtype=np.int64) * MINUTE
    assert detail_blocks("price-0", time_, MINUTE, MINUTE, {"close": ("last", np.ones(10))}) == ""


def test_detail_block_cannot_close_its_script_early():
    time_ = T0 + np.arange(4, dtype=np.int64) * MINUTE
    page = detail_blocks("x", time_, MINUTE, 5 * MINUTE, {"c": ("last", np.ones(4))},
                         title="</script><b>")
    assert page.count("</script>") == 2


def test_detail_timeframe_of_a_year():
    assert detail_timeframe(105_120, 5 * MINUTE, 120_000) == 5 * MINUTE  # a year of 5m: itself
    assert detail_timeframe(525_600, MINUTE, 120_000) == 5 * MINUTE       # a year of 1m: 5m


@pytest.mark.parametrize(("name", "bars"), [
    pytest.param("macd_12_26_9.macdhist", True, id="macd-hist"),
    pytest.param("macd_12_26_9.macdhist@1h", True, id="macd-hist-1h"),
    pytest.param("macd_12_26_9.macd", False, id="macd-line"),
    pytest.param("rsi_14", False, id="rsi"),
])
def test_is_histogram_by_output_name(name, bars):
    assert is_histogram(name) is bars


def _candles(n: int) -> Candles:
    close = 100 + np.sin(np.arange(n) / 5)
    return Candles.from_arrays("BTC/USDT", "1m", T0 + np.arange(n, dtype=np.int64) * MINUTE,
                               close, close + 1, close - 1, close, np.ones(n))


def _no_trades() -> Trades:
    return Trades(*(np.zeros(0) for _ in range(14)))


def test_price_figure_draws_histograms_as_signed_bars_and_tags_traces_for_zoom():
    c = _candles(50)
    hist = np.sin(np.arange(50) / 3)
    fig = price_figure(c, {"macd_12_26_9.macdhist": hist, "ema_9": c.close},
                       TradeMarks.of(_no_trades(), 0), MINUTE)
    bar = next(t for t in fig.data if t.name == "macd_12_26_9.macdhist")
    assert bar.type == "bar"
    assert list(bar.marker.color) == ["#16a34a" if v >= 0 else "#dc2626" for v in hist]
    assert fig.data[0].meta == {"detail": "ohlc"}
    assert next(t for t in fig.data if t.name == "ema_9").meta == {"detail": "last",
                                                                  "key": "i:ema_9"}


def test_price_figure_trade_spans_use_millisecond_nat():
    c = _candles(20)
    trades = Trades(np.zeros(1, np.int32), np.ones(1, np.int8), np.array([2]), np.array([5]),
                    c.time[[2]], c.time[[5]], np.array([100.0]), np.array([101.0]), np.ones(1),
                    np.full(1, 100.0), np.array([0.01]), np.array([1.0]), np.zeros(1),
                    np.zeros(1, np.int8))
    fig = price_figure(c, {}, TradeMarks.of(trades, 0), MINUTE)
    span = next(t for t in fig.data if t.name == "winning trades")
    x = np.asarray(span.x)
    assert x.dtype == np.dtype("datetime64[ms]") and np.isnat(x[2])  # the separator


def test_returns_histogram_splits_winners_and_losers_on_bins_aligned_at_zero():
    fig = returns_histogram(np.array([-0.02, -0.01, 0.0, 0.01, 0.03]))
    names = [t.name for t in fig.data]
    assert names == ["losing trades", "winning trades", "break-even"]
    bins = fig.data[0].xbins
    assert (0 - bins.start) / bins.size == pytest.approx(round((0 - bins.start) / bins.size))
    assert fig.data[1].xbins == bins


def test_monthly_table_has_a_row_per_year_and_compounds_the_year():
    page = monthly_table({"2023-12": 0.1, "2024-01": 0.1, "2024-02": -0.5})
    rows = re.findall(r"<tr><td class=\"l\">(\d{4})</td>(.*?)</tr>", page)
    assert [year for year, _ in rows] == ["2023", "2024"]
    cells_2024 = re.findall(r"<td[^>]*>(.*?)</td>", rows[1][1])
    assert cells_2024[:2] == ["+10.00%", "-50.00%"] and cells_2024[2:12] == [""] * 10
    assert cells_2024[12] == "<b>-45.00%</b>"  # 1.1 * 0.5 - 1


def _short_btc_run() -> tuple[SimResult, dict]:
    n = 600
    trades = Trades(np.zeros(2, np.int32), np.array([1, -1], np.int8), np.array([10, 30]),
                    np.array([20, 40]), T0 + np.array([10, 30]) * MINUTE,
                    T0 + np.array([20, 40]) * MINUTE, np.array([0.05, 0.05]),
                    np.array([0.0513, 0.0495]), np.array([20.0, 20.0]), np.ones(2),
                    np.array([0.0013, -0.0007]), np.array([0.0013, -0.0007]), np.zeros(2),
                    np.array([0, 1], np.int8))
    result = SimResult(("ETH/BTC",), "1m", T0 + np.arange(n, dtype=np.int64) * MINUTE, trades,
                       np.full(n, 1.0006), 1.0)
    return result, compute_metrics(result)


def test_cards_mark_annualized_figures_of_a_short_run_and_show_freqtrade_figures():
    _, metrics = _short_btc_run()
    page = cards(metrics)
    assert re.search(r"Annualized return <span class=\"flag\"", page)
    assert re.search(r"Sharpe \(freqtrade\) <span class=\"flag\"", page)
    assert "Total return <span" not in page
    assert "Max drawdown (freqtrade)" in page and "Expectancy ratio" in page
    assert warnings_note(metrics).startswith('<div class="note warn">⚠ the run spans 0.417 days')


def test_trade_table_rows_carry_sort_values_and_filter_keywords():
    result, _ = _short_btc_run()
    page = trade_table(result, "BTC", 50_000)
    rows = re.findall(r'<tr data-k="([^"]*)">(.*?)</tr>', page)
    assert [k for k, _ in rows] == ["ETH/BTC long exit_signal win", "ETH/BTC short stop_loss loss"]
    assert 'data-v="0.0013">+0.00130000</td>' in rows[0][1]  # BTC money: 8 decimals
    assert 'id="trade-filter"' in page and "2 of 2 trades" in page


def test_run_facts_lists_fee_slippage_balance_and_parameters():
    page = run_facts("abc123", {"rsi_buy": 30}, {"fee": 0.001, "slippage_bps": 5.0,
                                                 "balance": 0.5, "extra": {"x": 1}}, "BTC")
    assert "<dt>Run id</dt><dd>abc123</dd>" in page
    assert "<dt>Fee</dt><dd>0.1% per side</dd><dt>Slippage</dt><dd>5 bps (0.05%)</dd>" in page
    assert "<dt>Starting balance</dt><dd>0.50000000 BTC</dd>" in page
    assert "<dt>rsi_buy</dt><dd>30</dd>" in page and "extra" not in page
    assert "not kept" in run_facts(None, {}, {})
