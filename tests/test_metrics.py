"""Metrics against hand-computed values (docs/metrics.md gives each definition)."""
from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine.kernel.trades import EXIT_REASONS, SimResult, Trades
from engine.metrics import compute_metrics
from engine.metrics.benchmark import buy_and_hold_curve
from engine.metrics.returns import max_drawdown, periods_per_year
from engine.metrics.trade_stats import exposure

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY = 86_400_000
MINUTE = 60_000


def make_trades(rows: list[tuple[int, int, int, float, float, str]], bar_ms: int = DAY) -> Trades:
    """rows of (symbol, entry_index, exit_index, profit_ratio, profit_abs, exit_reason)."""
    a = np.array([r[:5] for r in rows], dtype=np.float64).reshape(-1, 5)
    entry, exit_ = a[:, 1].astype(np.int64), a[:, 2].astype(np.int64)
    n = len(rows)
    return Trades(
        symbol=a[:, 0].astype(np.int32), side=np.ones(n, np.int8),
        entry_index=entry, exit_index=exit_,
        entry_time=T0 + entry * bar_ms, exit_time=T0 + exit_ * bar_ms,
        entry_price=np.full(n, 100.0), exit_price=100.0 * (1 + a[:, 3]),
        amount=np.ones(n), stake=np.full(n, 100.0), profit_ratio=a[:, 3], profit_abs=a[:, 4],
        fees=np.full(n, 0.2),
        exit_reason=np.array([EXIT_REASONS.index(r[5]) for r in rows], dtype=np.int8))


def make_result(equity: list[float], trades: Trades | None = None, *, timeframe: str = "1d",
                symbols: tuple[str, ...] = ("BTC/USDT",), start: float = 100.0) -> SimResult:
    bar_ms = {"1d": DAY, "1m": MINUTE}[timeframe]
    return SimResult(symbols, timeframe, T0 + np.arange(len(equity), dtype=np.int64) * bar_ms,
                     trades if trades is not None else make_trades([]),
                     np.asarray(equity, dtype=np.float64), start)


FOUR_BARS = [110.0, 99.0, 108.9, 119.79]  # returns +10 %, -10 %, +10 %, +10 % from 100


def test_compute_metrics_four_bar_curve_returns_and_ratios():
    m = compute_metrics(make_result(FOUR_BARS))
    assert m["total_return"] == pytest.approx(0.1979)
    assert m["final_balance"] == pytest.approx(119.79)
    # mean 0.05, sample std 0.1, downside deviation sqrt(0.01 / 4) = 0.05
    assert m["sharpe"] == pytest.approx(0.5 * math.sqrt(365))
    assert m["sortino"] == pytest.approx(1.0 * math.sqrt(365))
    assert m["volatility"] == pytest.approx(0.1 * math.sqrt(365))
    assert m["annualized_return"] == pytest.approx(1.1979 ** (365 / 4) - 1)
    assert m["calmar"] == pytest.approx((1.1979 ** (365 / 4) - 1) / 0.1)


def test_compute_metrics_four_bar_curve_drawdown_and_duration():
    m = compute_metrics(make_result(FOUR_BARS))
    assert m["max_drawdown"] == pytest.approx(0.1)
    assert m["max_drawdown_abs"] == pytest.approx(11.0)
    # peak at the close of bar 0, trough at the close of bar 1, back above 110 at bar 3
    assert m["max_drawdown_start"] == "2024-01-02T00:00:00Z"
    assert m["max_drawdown_trough"] == "2024-01-03T00:00:00Z"
    assert m["max_drawdown_end"] == "2024-01-05T00:00:00Z"
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_s"] == 3 * 86_400
    assert m["longest_drawdown_bars"] == 3


def test_max_drawdown_not_recovered_lasts_until_the_end():
    dd = max_drawdown(np.array([100.0, 120.0, 90.0, 100.0]))
    assert (dd.depth, dd.peak, dd.trough, dd.recovery, dd.duration_bars) == (0.25, 1, 2, None, 2)


def test_max_drawdown_longest_period_differs_from_deepest():
    dd = max_drawdown(np.array([100.0, 90.0, 95.0, 99.0, 100.0, 110.0, 80.0, 110.0]))
    assert dd.depth == pytest.approx(30 / 110)
    assert (dd.peak, dd.trough, dd.recovery, dd.duration_bars) == (5, 6, 7, 2)
    assert (dd.longest_peak, dd.longest_bars) == (0, 4)


def test_max_drawdown_of_a_rising_curve_is_zero():
    dd = max_drawdown(np.array([100.0, 101.0, 101.0, 102.0]))
    assert (dd.depth, dd.peak, dd.duration_bars, dd.longest_bars) == (0.0, None, 0, 0)


@pytest.mark.parametrize(("timeframe", "expected"), [
    pytest.param("1m", 525_600, id="1m"), pytest.param("5m", 105_120, id="5m"),
    pytest.param("1h", 8_760, id="1h"), pytest.param("1d", 365, id="1d"),
    pytest.param("1w", 365 / 7, id="1w"),
])
def test_periods_per_year_counts_every_day(timeframe, expected):
    assert periods_per_year(timeframe) == pytest.approx(expected)


THREE_TRADES = [
    (0, 0, 2, 0.10, 10.0, "roi"),
    (0, 3, 4, -0.05, -5.0, "stop_loss"),
    (1, 3, 7, 0.20, 20.0, "stop_loss"),
]


def test_compute_metrics_trade_figures():
    result = make_result([100.0] * 8, make_trades(THREE_TRADES),
                         symbols=("BTC/USDT", "ETH/USDT"))
    m = compute_metrics(result)
    assert (m["n_trades"], m["wins"], m["losses"], m["draws"]) == (3, 2, 1, 0)
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["profit_factor"] == pytest.approx(30 / 5)
    assert m["expectancy"] == pytest.approx(25 / 3)
    assert m["avg_profit_ratio"] == pytest.approx(0.25 / 3)
    # freqtrade's expectancy ratio: (1 + avg win / avg loss) * win rate - 1
    assert m["expectancy_ratio"] == pytest.approx((1 + 15 / 5) * 2 / 3 - 1)
    assert (m["best_trade"], m["worst_trade"]) == (0.20, -0.05)
    # durations 2, 1 and 4 days
    assert m["avg_trade_duration_s"] == pytest.approx(7 / 3 * 86_400)
    assert m["median_trade_duration_s"] == 2 * 86_400
    assert m["fees"] == pytest.approx(0.6)


def test_compute_metrics_per_exit_reason_and_symbol():
    result = make_result([100.0] * 8, make_trades(THREE_TRADES),
                         symbols=("BTC/USDT", "ETH/USDT"))
    m = compute_metrics(result)
    stop = m["per_exit_reason"]["stop_loss"]
    assert (stop["n_trades"], stop["wins"]) == (2, 1)
    assert stop["avg_profit_ratio"] == pytest.approx(0.075)
    assert stop["total_profit_abs"] == pytest.approx(15.0)
    assert stop["total_profit_ratio"] == pytest.approx(0.15)  # of the 100 starting balance
    assert list(m["per_exit_reason"]) == ["stop_loss", "roi"]  # EXIT_REASONS order, no empties
    btc = m["per_symbol"]["BTC/USDT"]
    assert (btc["n_trades"], btc["total_profit_abs"]) == (2, pytest.approx(5.0))
    assert btc["avg_trade_duration_s"] == pytest.approx(1.5 * 86_400)


def test_exposure_counts_bars_whose_close_finds_a_position():
    trades = make_trades([(0, 0, 3, 0.0, 0.0, "roi"), (0, 5, 6, 0.0, 0.0, "roi"),
                          (1, 5, 8, 0.0, 0.0, "roi"), (0, 9, 9, 0.0, 0.0, "stop_loss")])
    assert exposure(trades, 10) == pytest.approx(0.6)  # bars 0 1 2 5 6 7


def test_compute_metrics_profit_factor_without_losses_is_null():
    trades = make_trades([(0, 0, 1, 0.1, 10.0, "roi"), (0, 1, 2, 0.1, 11.0, "roi")])
    m = compute_metrics(make_result([110.0, 121.0, 121.0], trades))
    assert m["profit_factor"] is None
    assert (m["gross_profit"], m["gross_loss"]) == (21.0, 0.0)
    assert math.copysign(1.0, m["gross_loss"]) == 1.0  # 0.0, never -0.0
    assert '"gross_loss": 0.0' in json.dumps(m)
    assert m["win_rate"] == 1.0
    assert m["expectancy_ratio"] is None  # freqtrade shows 100: no losing trade


def test_compute_metrics_without_trades():
    m = compute_metrics(make_result([100.0] * 5))
    assert m["n_trades"] == 0
    for key in ("win_rate", "profit_factor", "expectancy", "best_trade",
                "avg_trade_duration_s", "median_trade_duration_s", "sharpe", "sortino",
                "calmar"):
        assert m[key] is None, key
    assert (m["exposure"], m["total_return"], m["max_drawdown"]) == (0.0, 0.0, 0.0)
    assert m["per_exit_reason"] == {}
    assert m["per_symbol"]["BTC/USDT"]["n_trades"] == 0


def test_compute_metrics_constant_growth_has_no_sharpe():
    m = compute_metrics(make_result(list(100.0 * 1.01 ** np.arange(1, 30))))
    assert m["sharpe"] is None  # zero variance
    assert m["sortino"] is None  # no losing bar: infinite
    assert m["max_drawdown"] == 0.0


def test_compute_metrics_one_bar():
    m = compute_metrics(make_result([105.0]))
    assert m["total_return"] == pytest.approx(0.05)
    assert m["annualized_return"] == pytest.approx(1.05 ** 365 - 1)
    assert m["sharpe"] is None
    assert m["n_bars"] == 1


def test_compute_metrics_annualized_return_overflow_is_null():
    m = compute_metrics(make_result([105.0], timeframe="1m"))
    assert m["annualized_return"] is None  # 1.05 ** 525600


def test_compute_metrics_without_bars():
    m = compute_metrics(make_result([]))
    assert (m["n_bars"], m["total_return"], m["start"], m["exposure"]) == (0, 0.0, None, None)


def test_compute_metrics_buy_and_hold_is_equal_weight():
    closes = {"A/USDT": np.array([10.0, 11.0, 12.0]), "B/USDT": np.array([np.nan, 20.0, 10.0])}
    m = compute_metrics(make_result([100.0] * 3, symbols=("A/USDT", "B/USDT")), closes)
    assert m["buy_and_hold_return"] == pytest.approx((0.2 - 0.5) / 2)
    assert m["per_symbol"]["A/USDT"]["buy_and_hold_return"] == pytest.approx(0.2)
    assert m["per_symbol"]["B/USDT"]["buy_and_hold_return"] == pytest.approx(-0.5)


def test_buy_and_hold_curve_holds_cash_before_the_first_price():
    closes = {"A": np.array([10.0, 11.0, 12.0]), "B": np.array([np.nan, 20.0, 10.0])}
    curve = buy_and_hold_curve(closes, 100.0)
    assert curve == pytest.approx([100.0, 105.0, 85.0])


def test_compute_metrics_without_closes_has_no_buy_and_hold():
    assert compute_metrics(make_result(FOUR_BARS))["buy_and_hold_return"] is None


def test_compute_metrics_is_strict_json():
    trades = make_trades([(0, 0, 1, 0.1, 10.0, "roi")])
    m = compute_metrics(make_result([110.0, 110.0], trades), {"BTC/USDT": np.ones(2)})
    assert json.loads(json.dumps(m, allow_nan=False)) == m


def test_compute_metrics_year_of_minute_bars():
    n = 525_600
    rng = np.random.default_rng(1)
    equity = 1000.0 * np.cumprod(1 + rng.normal(0, 1e-4, n))
    rows = [(0, i, i + 30, 0.01, 1.0, "exit_signal") for i in range(0, n - 60, 200)]
    result = make_result(list(equity), make_trades(rows, MINUTE), timeframe="1m",
                         start=1000.0)
    m = compute_metrics(result, {"BTC/USDT": equity})  # its speed: benchmarks/README.md
    assert m["n_trades"] == len(rows)
    assert m["exposure"] == pytest.approx(len(rows) * 30 / n)


@pytest.mark.parametrize("module", ["engine.metrics", "engine.metrics.metrics",
                                    "engine.metrics.returns", "engine.metrics.trade_stats",
                                    "engine.metrics.benchmark", "engine.metrics.freqtrade",
                                    "engine.metrics.caveats", "engine.metrics.periods"])
def test_metrics_modules_export_what_they_define(module):
    mod = importlib.import_module(module)
    assert all(hasattr(mod, name) for name in mod.__all__)
    public = {n for n, v in vars(mod).items() if not n.startswith("_")
              and getattr(v, "__module__", None) == mod.__name__}
    assert public <= set(mod.__all__)


# freqtrade's definitions (engine/metrics/freqtrade.py), on a hand-computed trade list:
# balance 1000, bars 1d from T0 to T0 + 10 days (10 whole days), profits in exit order
# +50 -30 +20 -40 +10 -> returns .05 -.03 .02 -.04 .01, sum .01, daily mean .001
FT_TRADES = [  # (symbol, entry, exit, ratio, abs, reason), listed out of exit order
    (0, 5, 6, -0.04, -40.0, "stop_loss"), (0, 0, 1, 0.05, 50.0, "roi"),
    (0, 1, 2, -0.03, -30.0, "stop_loss"), (0, 7, 9, 0.01, 10.0, "roi"),
    (0, 2, 4, 0.02, 20.0, "roi"),
]


def ft_result(trades: list[tuple[int, int, int, float, float, str]]) -> SimResult:
    return make_result([1000.0] * 11, make_trades(trades), start=1000.0)


def test_freqtrade_sharpe_is_per_trade_over_whole_days():
    m = compute_metrics(ft_result(FT_TRADES))
    # population deviation of the 5 returns: sqrt(0.00548 / 5)
    assert m["sharpe_ft"] == pytest.approx(0.001 / math.sqrt(0.001096) * math.sqrt(365))


def test_freqtrade_sortino_uses_the_losing_trades_deviation():
    m = compute_metrics(ft_result(FT_TRADES))
    assert m["sortino_ft"] == pytest.approx(0.001 / 0.005 * math.sqrt(365))  # std(-.03, -.04)


def test_freqtrade_max_drawdown_is_relative_to_the_closed_trade_peak_balance():
    m = compute_metrics(ft_result(FT_TRADES))
    # cumulative 50 20 40 0 10: deepest 50 below the 1050 peak balance
    assert m["max_drawdown_ft"] == pytest.approx(50 / 1050)


def test_freqtrade_calmar_is_daily_percent_over_drawdown():
    m = compute_metrics(ft_result(FT_TRADES))
    assert m["calmar_ft"] == pytest.approx(0.01 / 10 * 100 / (50 / 1050) * math.sqrt(365))


def test_freqtrade_expectancy_ratio_from_average_win_and_loss():
    m = compute_metrics(ft_result(FT_TRADES))
    assert m["expectancy_ratio"] == pytest.approx((1 + (80 / 3) / 35) * 3 / 5 - 1)
    assert m["avg_profit_ratio"] == pytest.approx(0.002)


def test_freqtrade_drawdown_ignores_a_losing_first_trade():
    trades = [(0, 0, 1, -0.01, -10.0, "stop_loss"), (0, 1, 2, -0.005, -5.0, "stop_loss")]
    m = compute_metrics(ft_result(trades))
    assert m["max_drawdown_ft"] == pytest.approx(5 / 990)  # the peak is after trade 1
    assert m["max_drawdown"] == pytest.approx(0.0)  # our curve is flat in this stub


def test_freqtrade_figures_without_losses_or_trades_are_null():
    wins = compute_metrics(ft_result([(0, 0, 1, 0.01, 10.0, "roi"), (0, 1, 3, 0.02, 20.0, "roi")]))
    assert (wins["sortino_ft"], wins["calmar_ft"], wins["max_drawdown_ft"]) == (None, None, 0.0)
    assert wins["sharpe_ft"] == pytest.approx(0.003 / 0.005 * math.sqrt(365))
    none = compute_metrics(ft_result([]))
    assert (none["sharpe_ft"], none["sortino_ft"], none["calmar_ft"]) == (None, None, None)
    one_loss = compute_metrics(ft_result([(0, 0, 1, -0.01, -10.0, "stop_loss")]))
    assert one_loss["sortino_ft"] is None  # one losing trade: zero deviation (freqtrade: -100)


@pytest.mark.parametrize(("last_open_ms", "days"), [
    pytest.param(DAY * 19 // 10, 1, id="1.9-days-floor"),
    pytest.param(DAY // 2, 1, id="half-a-day-is-1"),
    pytest.param(DAY * 10, 10, id="exact"),
])
def test_freqtrade_backtest_days_are_whole_days_of_open_times(last_open_ms, days):
    from engine.metrics.freqtrade import backtest_days
    assert backtest_days(T0, T0 + last_open_ms) == days


def test_freqtrade_market_change_counts_from_the_first_loaded_candle():
    # warm-up 100 -> 130, then the backtest 130 -> 110: the sign flips
    loaded = {"A/USDT": np.array([100.0, 130.0, 120.0, 110.0])}
    traded = {"A/USDT": loaded["A/USDT"][1:]}
    m = compute_metrics(make_result([100.0] * 3, symbols=("A/USDT",)), traded,
                        loaded_closes=loaded)
    assert m["buy_and_hold_return"] == pytest.approx(110 / 130 - 1)
    assert m["market_change_ft"] == pytest.approx(0.1)
    assert compute_metrics(make_result([100.0] * 3))["market_change_ft"] is None


def test_compute_metrics_flags_annualized_figures_of_a_short_run():
    m = compute_metrics(make_result([100.0 + i for i in range(1, 1441)], timeframe="1m"))
    assert [w["code"] for w in m["warnings"]] == ["short_run"]
    assert {"annualized_return", "sharpe", "calmar_ft"} <= set(m["warnings"][0]["keys"])
    assert m["warnings"][0]["message"].startswith("the run spans 1 day (under 30)")


@pytest.mark.parametrize(("days", "flagged"), [
    pytest.param(29, True, id="29-days"), pytest.param(30, False, id="30-days"),
])
def test_compute_metrics_short_run_threshold_is_30_days(days, flagged):
    m = compute_metrics(make_result([100.0] * days))
    assert bool(m["warnings"]) is flagged


def test_monthly_returns_compound_to_the_total_return():
    # 1d bars from 2024-01-30: Jan 30, Jan 31, Feb 1, Feb 2, Mar 1 is 31 days later
    time_ = np.array([T0 + 29 * DAY, T0 + 30 * DAY, T0 + 31 * DAY, T0 + 32 * DAY, T0 + 60 * DAY])
    m = compute_metrics(SimResult(("BTC/USDT",), "1d", time_, make_trades([]),
                                  np.array([105.0, 110.0, 99.0, 121.0, 121.0]), 100.0))
    assert list(m["monthly_returns"]) == ["2024-01", "2024-02", "2024-03"]
    assert m["monthly_returns"]["2024-01"] == pytest.approx(0.10)
    assert m["monthly_returns"]["2024-02"] == pytest.approx(0.10)
    assert m["monthly_returns"]["2024-03"] == pytest.approx(0.0)
    growth = np.prod([1 + r for r in m["monthly_returns"].values()])
    assert growth - 1 == pytest.approx(m["total_return"])


def _freqtrade_cases() -> list:
    path = Path(__file__).parent / "fixtures" / "freqtrade_metrics" / "metrics.json"
    return json.loads(path.read_text())["cases"]


@pytest.mark.parametrize("case", _freqtrade_cases(),
                         ids=lambda c: f"{c['fixture']}-{c['run']}-{c['balance']:g}")
def test_freqtrade_figures_equal_freqtrade_functions_on_fixture_trades(case):
    from engine.metrics.freqtrade import expectancy_ratio, freqtrade_figures
    runs = json.loads((Path(__file__).parent / "fixtures" / "freqtrade" / case["fixture"])
                      .read_text())["runs"]
    trades = runs[case["run"]]["trades"]
    profit = np.array([t["profit_ratio"] * case["stake"] for t in trades])
    exits = np.array([_ms(t["close_date"]) for t in trades])
    ours = freqtrade_figures(profit, exits, case["balance"], _ms(case["min_date"]),
                             _ms(case["max_date"]))
    ours["expectancy_ratio"] = expectancy_ratio(profit)
    names = {"sharpe_ft": "sharpe", "sortino_ft": "sortino", "calmar_ft": "calmar",
             "max_drawdown_ft": "max_drawdown_account", "expectancy_ratio": "expectancy_ratio"}
    for key, ft_key in names.items():
        if math.isnan(ours[key]):  # freqtrade's sentinel for an undefined figure
            assert case[ft_key] in (-100, 0, 100), key
        else:
            assert ours[key] == pytest.approx(case[ft_key], rel=1e-9), key


def _ms(iso: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
