"""`superbot backtest` end to end: JSON output, CSV trades, kept runs, deployments, user errors."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from _market import random_candles, write_candle_json
from click.testing import CliRunner

from engine.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: cli-rsi}
spec:
  timeframe: 5m
  params:
    buy: {default: 35, int: [20, 40]}
  entry: {long: 'rsi_14 < $buy and close > ema_20@1h'}
  exit: {long: 'rsi_14 > 65'}
  risk: {stoploss: -0.03, roi: {0m: 0.05, 120m: 0.01}}
  sizing: {stake: 50%}
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Path, Path]:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    c = random_candles(6000, "5m", seed=41, symbol="TEST/USDT")
    data = write_candle_json(tmp_path / "TEST_USDT-5m.json", c)
    strategy = tmp_path / "s.yaml"
    strategy.write_text(STRATEGY)
    return CliRunner(), strategy, data


def _invoke(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False, standalone_mode=False)


def test_backtest_json_has_metrics_trades_and_timings(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner, strategy, data = env
    result = _invoke(runner, "backtest", str(strategy), "--data", str(data), "--json", "--trades",
                     str(tmp_path / "t.csv"))
    out = json.loads(result.stdout)
    assert set(out["timings"]) == {"load", "compile", "evaluate", "simulate", "metrics"}
    assert out["metrics"]["n_trades"] == len(out["trades"]) > 0
    first = out["trades"][0]
    assert set(first) >= {"symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price", "amount",
                          "profit_ratio", "profit_abs", "exit_reason"}
    assert first["entry_time"].endswith("Z") and first["symbol"] == "TEST/USDT"
    rows = list(csv.DictReader((tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == len(out["trades"])


def test_backtest_from_to_limits_the_traded_range_but_keeps_warm_up(env) -> None:  # type: ignore[no-untyped-def]
    runner, strategy, data = env
    out = json.loads(_invoke(runner, "backtest", str(strategy), "--data", str(data), "--from", "2024-01-05",
                             "--to", "2024-01-15", "--json", "--no-keep").output)
    assert out["metrics"]["start"] == "2024-01-05T00:00:00Z"
    assert out["metrics"]["end"] == "2024-01-15T00:00:00Z"
    assert all("2024-01-05" <= t["entry_time"] < "2024-01-15T00:05" for t in out["trades"])


def test_backtest_runs_are_kept_listed_shown_and_compared(env) -> None:  # type: ignore[no-untyped-def]
    runner, strategy, data = env
    a = json.loads(_invoke(runner, "backtest", str(strategy), "--data", str(data), "--json").stdout)["run_id"]
    b = json.loads(_invoke(runner, "backtest", str(strategy), "--data", str(data), "--fee", "0.002",
                           "--json").output)["run_id"]
    listing = json.loads(_invoke(runner, "backtest", "list", "--json").stdout)
    assert {r["id"] for r in listing} == {a, b}
    shown = json.loads(_invoke(runner, "backtest", "show", a[:8], "--json").stdout)
    assert shown["strategy_name"] == "cli-rsi" and shown["id"] == a
    assert _invoke(runner, "backtest", "compare", a[:8], b[:8]).exit_code == 0
    assert _invoke(runner, "backtest", "list").exit_code == 0


def test_backtest_of_a_missing_symbol_is_a_clear_error(env) -> None:  # type: ignore[no-untyped-def]
    from superbot import main
    _, strategy, data = env
    assert main(["backtest", str(strategy), "--data", str(data), "--symbols", "NOPE/USDT"]) == 1


def test_backtest_with_bad_fee_is_a_usage_error_not_a_traceback(env, capsys) -> None:  # type: ignore[no-untyped-def]
    from superbot import main
    _, strategy, data = env
    assert main(["backtest", str(strategy), "--data", str(data), "--fee", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--fee 0.5 is a fraction per side" in err and "Traceback" not in err


def test_apply_backtest_deployment_runs_the_described_backtest(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner, _, data = env
    dep = tmp_path / "dep.yaml"
    dep.write_text(f"""
apiVersion: superbot/v1
kind: Deployment
metadata: {{name: bt}}
spec:
  mode: backtest
  strategies: [{{path: s.yaml, params: {{buy: 30}}}}]
  symbols: [TEST/USDT]
  data: {{path: {data.name}, from: '2024-01-03'}}
  account: {{balance: 5000, fee: 0.001}}
""")
    out = json.loads(_invoke(runner, "apply", "-f", str(dep), "--json").stdout)
    assert out["metrics"]["starting_balance"] == 5000
    assert out["metrics"]["start"] == "2024-01-03T00:00:00Z"


def test_signals_before_the_fill_bar_decide_every_entry(env) -> None:  # type: ignore[no-untyped-def]
    """No trade's entry uses information from after its signal bar: changing the future leaves it."""
    from compiler.validate import strategy_from_text
    from engine.backtest.market import Market
    from engine.backtest.session import BacktestSession
    from engine.backtest.settings import BacktestSettings
    c = random_candles(4000, "5m", seed=42)
    strategy = strategy_from_text(STRATEGY)
    run = BacktestSession(strategy, Market((c.symbol,), "5m", {c.symbol: c}, {c.symbol: 0}, "t"),
                          BacktestSettings(), 0).run(metrics=False)
    entry = int(run.result.trades.entry_index[3])
    cut = c.take(0, entry + 2)  # everything after the bar following the fill removed
    again = BacktestSession(strategy, Market((c.symbol,), "5m", {c.symbol: cut}, {c.symbol: 0}, "t"),
                            BacktestSettings(), 0).run(metrics=False)
    assert int(again.result.trades.entry_index[3]) == entry
    assert np.isclose(again.result.trades.entry_price[3], run.result.trades.entry_price[3])


def test_warm_up_covers_the_longest_period_a_parameter_may_take(tmp_path: Path) -> None:
    from compiler.validate import strategy_from_text
    from engine.backtest.session import open_session
    from engine.backtest.settings import BacktestSettings
    data = write_candle_json(tmp_path / "TEST_USDT-1h.json", random_candles(2000, "1h", seed=43))
    strategy = strategy_from_text("""
apiVersion: superbot/v1
kind: Strategy
metadata: {name: long-period}
spec:
  timeframe: 1h
  params: {n: {default: 10, int: [10, 480]}}
  entry: {long: 'close > sma(close, $n)'}
  exit: {long: 'close < sma(close, $n)'}
""")
    session, _ = open_session(strategy, BacktestSettings(data=str(data), start="2024-02-01"))
    assert session.start >= 479  # sma(close, 480) is defined from the first traded bar
    first_entry = session.run({"n": 480}, metrics=False).result.trades.entry_index
    assert len(first_entry) > 0


def test_without_from_trading_starts_after_the_warm_up(env) -> None:  # type: ignore[no-untyped-def]
    runner, strategy, data = env
    out = json.loads(_invoke(runner, "backtest", str(strategy), "--data", str(data), "--json", "--no-keep").stdout)
    # ema_20@1h needs 20 closed hours: 240 5m bars of warm-up (the first is 2024-01-01T19:55)
    assert out["metrics"]["start"] >= "2024-01-01T19:55:00Z"


def test_a_later_listed_symbol_does_not_cut_the_others_history(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from compiler.validate import strategy_from_text
    from engine.backtest.session import open_session
    from engine.backtest.settings import BacktestSettings
    from engine.data.importer import import_path
    from engine.data.store import CandleStore
    store = CandleStore(tmp_path / "store")
    btc = random_candles(3000, "1h", seed=44, symbol="BTC/USDT")
    eth = random_candles(3000, "1h", seed=45, symbol="ETH/USDT").take(1000, 3000)  # listed 1000 h later
    import_path(write_candle_json(tmp_path / "BTC_USDT-1h.json", btc), store, exchange="test")
    import_path(write_candle_json(tmp_path / "ETH_USDT-1h.json", eth), store, exchange="test")
    text = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: both}
spec:
  timeframe: 1h
  entry: {long: 'rsi_14 < 35'}
  exit: {long: 'rsi_14 > 60'}
  sizing: {stake: 40%, max_open_positions: 2}
"""
    strategy = strategy_from_text(text)
    alone, _ = open_session(strategy, BacktestSettings(data=str(store.root), symbols=("BTC/USDT",)))
    both, _ = open_session(strategy, BacktestSettings(data=str(store.root), symbols=("BTC/USDT", "ETH/USDT")))
    assert len(both.market.time) == len(alone.market.time) == 3000
    result = both.run(metrics=False).result
    eth_trades = result.trades.entry_index[result.trades.symbol == 1]
    btc_trades = result.trades.entry_index[result.trades.symbol == 0]
    assert (eth_trades >= 1000).all() and (btc_trades < 1000).any()
