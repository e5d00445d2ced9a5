"""Terminal summary, run views, downsampling and the HTML report's content and size."""
from __future__ import annotations

import importlib
import io
import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from _market import write_candle_json
from rich.console import Console

from engine.data.candles import Candles
from engine.kernel.trades import SimResult, Trades
from engine.metrics import compute_metrics
from engine.report import (
    render_comparison,
    render_run,
    render_run_list,
    render_summary,
    write_html_report,
)
from engine.report.charts import is_overlay
from engine.report.display import format_duration, format_value, quote_currency
from engine.report.downsample import buckets, display_timeframe, resample_ohlc
from engine.store.compare import compare
from engine.store.records import Run

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE = 60_000


def market(symbol: str, n: int, bar_ms: int, seed: int, price: float) -> Candles:
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 2e-3, n)))
    open_ = np.concatenate(([price], close[:-1]))
    spread = np.abs(rng.normal(0, 1e-3, n))
    return Candles.from_arrays(symbol, "", T0 + np.arange(n, dtype=np.int64) * bar_ms, open_,
                               np.maximum(open_, close) * (1 + spread),
                               np.minimum(open_, close) * (1 - spread), close,
                               rng.uniform(1, 5, n))


def backtest(n: int, timeframe: str, bar_ms: int, every: int = 40,
             symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")):
    """A SimResult with a trade every `every` bars per symbol, its candles and indicators."""
    candles = {s: market(s, n, bar_ms, i, 40_000.0 / (1 + 15 * i)) for i, s in enumerate(symbols)}
    rows = []
    for i, s in enumerate(symbols):
        c = candles[s]
        for k, e in enumerate(range(5 + i, n - every, every)):
            x = e + every // 2
            ratio = c.open[x] * 0.999 / (c.open[e] * 1.001) - 1
            rows.append((i, e, x, float(c.open[e]), float(c.open[x]), ratio, k % 3))
    rows.sort(key=lambda r: r[1])
    a = np.array(rows, dtype=np.float64)
    sym, entry, exit_ = a[:, 0].astype(np.int32), a[:, 1].astype(np.int64), a[:, 2].astype(np.int64)
    m = len(rows)
    stake = np.full(m, 100.0)
    clock = candles[symbols[0]].time
    trades = Trades(symbol=sym, side=np.where(np.arange(m) % 4 == 3, -1, 1).astype(np.int8),
                    entry_index=entry, exit_index=exit_, entry_time=clock[entry],
                    exit_time=clock[exit_], entry_price=a[:, 3], exit_price=a[:, 4],
                    amount=stake / a[:, 3], stake=stake, profit_ratio=a[:, 5],
                    profit_abs=a[:, 5] * 100, fees=stake * 0.002,
                    exit_reason=np.array([0, 1, 3], np.int8)[a[:, 6].astype(int)])
    growth = np.bincount(exit_, weights=np.log1p(a[:, 5] * 0.1), minlength=n)
    result = SimResult(symbols, timeframe, clock, trades, 1000.0 * np.exp(np.cumsum(growth)),
                       1000.0)
    indicators = {}
    for s, c in candles.items():
        ema = np.full(n, np.nan)
        ema[20:] = np.convolve(c.close, np.ones(21) / 21, "valid")
        indicators[s] = {"ema_21": ema, "rsi_14": 50 + 20 * np.sin(np.arange(n) / 9.0)}
    return result, candles, indicators


@pytest.fixture(scope="module")
def small():
    result, candles, indicators = backtest(600, "5m", 5 * MINUTE)
    metrics = compute_metrics(result, {s: c.close for s, c in candles.items()})
    return result, candles, indicators, metrics


def console() -> Console:
    return Console(file=io.StringIO(), width=200, record=True, color_system=None)


def test_render_summary_shows_headline_and_breakdowns(small):
    *_, metrics = small
    out = console()
    render_summary(metrics, out)
    text = out.export_text()
    for label in ("Total return", "Sharpe", "Sortino", "Calmar", "Max drawdown", "Win rate",
                  "Profit factor", "Expectancy", "Exposure", "Buy & hold", "Per symbol",
                  "Per exit reason", "BTC/USDT", "stop_loss", "roi"):
        assert label in text, label
    assert format_value(metrics["total_return"], "spct") in text


def test_render_summary_without_trades_says_so():
    result = SimResult(("BTC/USDT",), "1h", T0 + np.arange(3, dtype=np.int64) * 3_600_000,
                       Trades(*(np.zeros(0) for _ in range(14))), np.full(3, 100.0), 100.0)
    out = console()
    render_summary(compute_metrics(result), out)
    assert "No trades" in out.export_text()


def test_profit_factor_without_losses_reads_infinite():
    from engine.report.display import HEADLINE, metric_text
    field = next(f for f in HEADLINE["Trades"] if f.key == "profit_factor")
    assert metric_text({"profit_factor": None, "n_trades": 2, "gross_loss": 0.0}, field) == "∞"
    assert metric_text({"profit_factor": None, "n_trades": 0, "gross_loss": 0.0}, field) == "—"


@pytest.mark.parametrize(("seconds", "text"), [
    pytest.param(0, "0m", id="zero"), pytest.param(5950, "1h 39m", id="hours"),
    pytest.param(8_503_260, "98d 10h", id="days"), pytest.param(86_400, "1d 0h", id="a-day"),
])
def test_format_duration_two_largest_units(seconds, text):
    assert format_duration(seconds) == text


def test_quote_currency_only_when_shared():
    assert quote_currency(["BTC/USDT", "ETH/USDT:USDT"]) == "USDT"
    assert quote_currency(["BTC/USDT", "ETH/BTC"]) == ""


def test_display_timeframe_for_a_year_of_minutes_is_2h():
    assert display_timeframe(525_600, "1m", 5000) == "2h"
    assert display_timeframe(600, "5m", 5000) == "5m"


def test_resample_ohlc_is_exact():
    time_ = T0 + np.arange(6, dtype=np.int64) * MINUTE
    b = buckets(time_, 3 * MINUTE)
    o, h, low, c = resample_ohlc(b, np.arange(6.0), np.array([5, 9, 6, 1, 2, 8.0]),
                                 np.array([0, -1, 3, 0.5, 0.2, 0.7]), np.arange(6.0) + 0.5)
    assert list(b.time) == [T0, T0 + 3 * MINUTE]
    assert (list(o), list(h), list(low), list(c)) == ([0, 3], [9, 8], [-1, 0.2], [2.5, 5.5])


@pytest.mark.parametrize(("name", "values", "overlay"), [
    pytest.param("ema_200", np.full(4, 1.0), True, id="moving-average"),
    pytest.param("bbands_20_2.upper", np.full(4, 1.0), True, id="bands"),
    pytest.param("rsi_14@1h", np.full(4, 100.0), False, id="oscillator"),
    pytest.param("vwap", np.full(4, 100.5), True, id="near-price"),
    pytest.param("obv", np.full(4, 1e6), False, id="far-from-price"),
])
def test_is_overlay_by_group_then_by_scale(name, values, overlay):
    assert is_overlay(name, values, np.full(4, 100.0)) is overlay


def test_write_html_report_is_self_contained(small, tmp_path):
    result, candles, indicators, metrics = small
    path = write_html_report(tmp_path / "r.html", result, candles, indicators, metrics,
                             "RSI <dip>")
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    plotly_js_end = page.index("</script>")  # plotly.js itself, embedded in the head
    assert "http" not in page[plotly_js_end:].replace("http://www.w3.org", "")
    assert page.count('class="lazy-plot"') == 4  # equity, trade returns, a chart per symbol
    assert "RSI &lt;dip&gt;" in page and "Downsampled" not in page
    assert page.count("<tr data-k=") == len(result.trades)
    assert not (tmp_path / "r.html.tmp").exists()


def test_write_html_report_charts_the_backtest_range_of_warm_up_candles(small, tmp_path):
    result, candles, indicators, _ = small
    cut = 100  # the backtest starts after 100 warm-up candles; indicators on its bars only
    traded = SimResult(result.symbols, result.timeframe, result.time[cut:],
                       Trades(*(np.asarray(getattr(result.trades, f))[:0]
                                for f in result.trades.__dataclass_fields__)),
                       result.equity[cut:], result.starting_balance)
    trimmed = {s: {k: v[cut:] for k, v in ind.items()} for s, ind in indicators.items()}
    page = write_html_report(tmp_path / "w.html", traded, candles, trimmed,
                             compute_metrics(traded), "warm-up").read_text(encoding="utf-8")
    assert page.count('"name":"ema_21"') == 2 and page.count('"name":"rsi_14"') == 2
    assert '"x":["2024-01-01T08:22:30.000"' in page  # first candle: bar 100, centred


def test_render_summary_narrow_terminal_stacks_sections(small):
    *_, metrics = small
    out = Console(file=io.StringIO(), width=80, record=True, color_system=None)
    render_summary(metrics, out)
    lines = out.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any(line.startswith("Risk") for line in lines)


def test_write_html_report_year_of_minutes_is_downsampled_and_small(tmp_path):
    result, candles, indicators = backtest(525_600, "1m", MINUTE, every=600,
                                           symbols=("BTC/USDT",))
    metrics = compute_metrics(result, {s: c.close for s, c in candles.items()})
    path = write_html_report(tmp_path / "year.html", result, candles, indicators, metrics, "year")
    page = path.read_text(encoding="utf-8")  # its speed: benchmarks/bench_report.py
    assert path.stat().st_size < 15_000_000
    assert "Downsampled for display: charts show 4h candles" in page
    assert "down to 5m" in page  # the embedded detail: a year of 1m as 5m candles
    assert "USDT \\u00b7 4h" in page  # the chart title, in the figure's (ASCII) JSON


def make_run(run_id: str, metrics: dict, params: dict) -> Run:
    return Run(id=run_id, created_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
               strategy_name="rsi_dip", strategy_hash="a1b2c3d4", timeframe="5m",
               symbols=("BTC/USDT", "ETH/USDT"), data_start=metrics["start"],
               data_end=metrics["end"], n_trades=metrics["n_trades"],
               total_return=metrics["total_return"], sharpe=metrics["sharpe"],
               max_drawdown=metrics["max_drawdown"], starting_balance=1000.0, params=params,
               settings={"fee": 0.001}, metrics=json.loads(json.dumps(metrics)),
               trades=[])


def test_render_run_list_and_run(small):
    result, *_, metrics = small
    run = make_run("0123456789abcdef0123456789abcdef", metrics, {"rsi_buy": 30})
    run = Run(**{**run.__dict__, "trades": result.trades.to_records(result.symbols)})
    out = console()
    render_run_list([run], out)
    render_run(run, out, trades=5)
    text = out.export_text()
    assert "01234567" in text and "rsi_dip" in text and "2024-01-01 → 2024-01-03" in text
    assert "rsi_buy=30" in text and f"last 5 of {len(result.trades)}" in text


def test_render_run_list_empty_says_how_to_fill_it():
    out = console()
    render_run_list([], out)
    assert "No backtest runs kept yet" in out.export_text()


def test_render_comparison_shows_deltas_and_params(small):
    *_, metrics = small
    better = {**metrics, "total_return": metrics["total_return"] + 0.1}
    a = make_run("a" * 32, metrics, {"rsi_buy": 30})
    b = make_run("b" * 32, better, {"rsi_buy": 25})
    out = console()
    render_comparison(compare(a, b), out)
    text = out.export_text()
    assert "+10.00%" in text and "rsi_buy" in text and "Sharpe" in text


@pytest.mark.parametrize("module", ["engine.report", "engine.report.display",
                                    "engine.report.terminal", "engine.report.runs_view",
                                    "engine.report.downsample", "engine.report.charts",
                                    "engine.report.html", "engine.report.money",
                                    "engine.report.detail", "engine.report.sections"])
def test_report_modules_export_what_they_define(module):
    mod = importlib.import_module(module)
    assert all(hasattr(mod, name) for name in mod.__all__)
    public = {n for n, v in vars(mod).items() if not n.startswith("_")
              and getattr(v, "__module__", None) == mod.__name__}
    assert public <= set(mod.__all__)


def test_compare_notes_runs_measured_by_different_metrics_versions(small):
    *_, metrics = small
    a = make_run("a" * 32, {**metrics, "metrics_version": 1}, {})
    b = make_run("b" * 32, metrics, {})
    assert any(n.startswith("metrics computed by different versions: 1 vs 2")
               for n in compare(a, b).notes)
    assert not any("versions" in n for n in compare(b, b).notes)


def test_backtest_report_shows_run_id_parameters_fee_and_slippage(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from engine.cli.app import app
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    c = market("TEST/USDT", 3000, 5 * MINUTE, 3, 100.0)
    data = write_candle_json(tmp_path / "TEST_USDT-5m.json", c)
    strategy = tmp_path / "s.yaml"
    strategy.write_text("apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: rsi}\n"
                        "spec:\n  timeframe: 5m\n  params:\n    buy: {default: 35, int: [20, 40]}\n"
                        "  entry: {long: 'rsi_14 < $buy'}\n  exit: {long: 'rsi_14 > 65'}\n"
                        "  sizing: {stake: 50%}\n")
    report = tmp_path / "r.html"
    out = CliRunner().invoke(app, ["backtest", str(strategy), "--data", str(data), "--fee", "0.002",
                                   "--slippage", "7", "--report", str(report), "--json"],
                             catch_exceptions=False, standalone_mode=False)
    run_id = json.loads(out.stdout)["run_id"]
    page = report.read_text(encoding="utf-8")
    assert f"<dt>Run id</dt><dd>{run_id}</dd>" in page
    assert "<dt>Fee</dt><dd>0.2% per side</dd>" in page
    assert "<dt>Slippage</dt><dd>7 bps (0.07%)</dd>" in page
    assert "<dt>buy</dt><dd>35</dd>" in page
