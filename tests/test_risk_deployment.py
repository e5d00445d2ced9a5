"""A deployment's risk block changes what `superbot apply` runs: rules, the position cap, reports."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _market import random_candles, write_candle_json
from click.testing import CliRunner

from compiler.risk import RiskPolicy
from compiler.validate import strategy_from_text
from engine.backtest.market import Market
from engine.backtest.session import BacktestSession, kernel_config
from engine.backtest.settings import BacktestSettings
from engine.cli.app import app

STRATEGY = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: risk-rsi}
spec:
  timeframe: 5m
  entry: {long: 'rsi_14 < 35'}
  exit: {long: 'rsi_14 > 65'}
  risk: {stoploss: -0.03}
  sizing: {stake: 50%}
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    c = random_candles(6000, "5m", seed=41, symbol="TEST/USDT")
    write_candle_json(tmp_path / "TEST_USDT-5m.json", c)
    (tmp_path / "s.yaml").write_text(STRATEGY)
    return tmp_path


def _apply(folder: Path, risk: str = "", *args: str) -> dict[str, Any]:
    dep = folder / "dep.yaml"
    dep.write_text(f"""
apiVersion: superbot/v1
kind: Deployment
metadata: {{name: bt}}
spec:
  mode: backtest
  strategies: [{{path: s.yaml}}]
  symbols: [TEST/USDT]
  data: {{path: TEST_USDT-5m.json}}
  account: {{balance: 10000, fee: 0.001}}
{risk}""")
    result = CliRunner().invoke(app, ["apply", str(dep), "--json", *args], catch_exceptions=False,
                                standalone_mode=False)
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_apply_deployment_halt_rule_cuts_the_backtest_short(files: Path) -> None:
    free = _apply(files)
    halted = _apply(files, "  risk:\n    rules:\n      - {when: 'consecutive_losses >= 2', then: halt}\n")

    assert free["risk_events"] == []
    assert len(halted["trades"]) < len(free["trades"])
    event = halted["risk_events"][0]
    assert (event["action"], event["rule"], event["values"]) == ("halt", "consecutive_losses >= 2",
                                                                  {"consecutive_losses": 2.0})
    assert halted["trades"][-1]["exit_time"] <= event["time"] or \
        halted["trades"][-1]["exit_reason"] == "risk_halt"
    assert all(t["entry_time"] < event["time"] for t in halted["trades"])


def test_apply_deployment_close_all_marks_the_trades_it_closed(files: Path) -> None:
    out = _apply(files, "  risk:\n    rules:\n      - {when: 'exposure > 0.4', then: close_all}\n")

    closed = [t for t in out["trades"] if t["exit_reason"] == "risk_close_all"]
    assert closed and len(closed) == len(out["risk_events"])
    assert out["metrics"]["per_exit_reason"]["risk_close_all"]["n_trades"] == len(closed)


def test_apply_deployment_terminal_output_lists_fired_rules(files: Path) -> None:
    dep = files / "dep.yaml"
    _apply(files, "  risk:\n    rules:\n      - {when: 'consecutive_losses >= 2', then: halt}\n")

    result = CliRunner().invoke(app, ["apply", str(dep)], catch_exceptions=False, standalone_mode=False)

    assert "Risk rules fired: 1" in result.output
    assert "consecutive_losses >= 2" in result.output


def test_kernel_config_takes_the_deployment_cap_over_the_strategy() -> None:
    bound = strategy_from_text(STRATEGY).bind({})
    settings = BacktestSettings(risk=RiskPolicy(max_open_positions=3))

    assert kernel_config(bound, BacktestSettings(), "5m").max_open_positions == 1
    assert kernel_config(bound, settings, "5m").max_open_positions == 3


def test_session_result_enforces_rules_for_optimizer_trials() -> None:
    """Optimize trials call `BacktestSession.result`: the same rules apply there."""
    c = random_candles(4000, "5m", seed=43)
    market = Market((c.symbol,), "5m", {c.symbol: c}, {c.symbol: 0}, "t")
    policy = RiskPolicy.from_dict({"rules": [{"when": "open_positions >= 1", "then": "close_all"}]})
    strategy = strategy_from_text(STRATEGY)

    free = BacktestSession(strategy, market, BacktestSettings(), 0).result()
    ruled = BacktestSession(strategy, market, BacktestSettings(risk=policy), 0).result()

    assert len(ruled.risk_events) > 0
    assert ruled.trades.exit_reason.tolist() != free.trades.exit_reason.tolist()


def test_html_report_shows_risk_events(files: Path) -> None:
    _apply(files, "  risk:\n    rules:\n      - {when: 'consecutive_losses >= 2', then: halt}\n")
    from compiler.validate import load_strategy
    from engine.backtest.session import open_session
    from engine.report.html import write_html_report

    policy = RiskPolicy.from_dict({"rules": [{"when": "consecutive_losses >= 2", "then": "halt"}]})
    settings = BacktestSettings(data=str(files / "TEST_USDT-5m.json"), risk=policy)
    session, _ = open_session(load_strategy(files / "s.yaml"), settings)
    run = session.run()
    page = write_html_report(files / "r.html", run.result, run.market.candles, {}, run.metrics, "t").read_text()

    assert 'id="risk-rules"' in page and "consecutive_losses &gt;= 2" in page
