"""The fill-model options on the command line: --exit-timeout, --reserve-fees, --roi-on-red-entry-candle.

Each reaches the kernel (the trades change on the real candles where the rule
matters) and a bad value is a usage error (exit 2) naming the option.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "freqtrade-testdata"
HEAD = """apiVersion: superbot/v1
kind: Strategy
metadata: {name: fill-options}
spec:
  timeframe: 1m
  sizing: {stake: 1}
"""
RED_CANDLE = HEAD + """  entry: {long: 'rsi_14 < 40'}
  exit: {long: 'rsi_14 > 60'}
  risk: {stoploss: -0.10, roi: {0m: 0.002}}
"""
CROSSING = HEAD + """  entry: {long: 'crosses_above(rsi_7, 45)'}
  exit: {long: 'crosses_above(rsi_7, 60)'}
  risk: {stoploss: -0.10}
"""


def _require_data() -> None:
    if not DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared market data missing at {DATA}; CI must provide ../shared/data")
        pytest.skip(f"shared market data not found at {DATA} (checkout without ../shared)")


def _trades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], strategy: str,
            *options: str) -> list[tuple[str, str, str]]:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    path = tmp_path / "s.yaml"
    path.write_text(strategy)
    code = main(["backtest", str(path), "--data", str(DATA / "UNITTEST_BTC-1m.feather"), "--balance", "1000000",
                 "--json", "--no-keep", *options])
    out = capsys.readouterr().out
    assert code == 0
    return [(t["entry_time"], t["exit_time"], t["exit_reason"]) for t in json.loads(out)["trades"]]


def test_kernel_cli_roi_on_red_entry_candle_reaches_the_kernel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _require_data()
    freqtrade = _trades(tmp_path, monkeypatch, capsys, RED_CANDLE)
    taken = _trades(tmp_path, monkeypatch, capsys, RED_CANDLE, "--roi-on-red-entry-candle")
    # trades that only the option makes: ROI exits on their entry candle (and what follows them)
    extra = set(taken) - set(freqtrade)
    assert any(reason == "roi" and entry == exit_ for entry, exit_, reason in extra)
    assert not any(reason == "roi" and entry == exit_ for entry, exit_, reason in set(freqtrade) - set(taken))


def test_kernel_cli_exit_timeout_none_keeps_orders_waiting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _require_data()
    default = _trades(tmp_path, monkeypatch, capsys, CROSSING)
    assert _trades(tmp_path, monkeypatch, capsys, CROSSING, "--exit-timeout", "10") == default
    assert _trades(tmp_path, monkeypatch, capsys, CROSSING, "--exit-timeout", "none") != default


def test_kernel_cli_reserve_fees_one_stake_balance_refuses_every_entry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _require_data()
    one_stake = ("--balance", "1")   # stake 1 BTC: fits without its fee, never with it
    assert len(_trades(tmp_path, monkeypatch, capsys, RED_CANDLE, *one_stake)) > 0
    assert _trades(tmp_path, monkeypatch, capsys, RED_CANDLE, *one_stake, "--reserve-fees") == []


@pytest.mark.parametrize(("value", "message"), [
    pytest.param("soon", "--exit-timeout 'soon': use minutes such as 10, or none", id="not-a-number"),
    pytest.param("-5", "--exit-timeout -5 must be minutes >= 0, or none", id="negative"),
])
def test_kernel_cli_exit_timeout_bad_value_is_a_usage_error(
        value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", str(ROOT / "strategies" / "rsi_mean_reversion.yaml"), "--exit-timeout", value])
    assert code == 2
    assert message in capsys.readouterr().err
