"""A deployment's dates are named as the YAML fields they came from, never as command-line flags."""
from __future__ import annotations

from pathlib import Path

import pytest
from _market import random_candles, write_candle_json

from engine.cli.app import main

STRATEGY = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: dates}
spec:
  timeframe: 5m
  entry: {long: 'rsi_14 < 35'}
  exit: {long: 'rsi_14 > 65'}
"""


def _deployment(folder: Path, data: str) -> Path:
    write_candle_json(folder / "TEST_USDT-5m.json", random_candles(600, "5m", seed=3, symbol="TEST/USDT"))
    (folder / "s.yaml").write_text(STRATEGY)
    dep = folder / "dep.yaml"
    dep.write_text(f"""
apiVersion: superbot/v1
kind: Deployment
metadata: {{name: dates}}
spec:
  mode: backtest
  strategies: [{{path: s.yaml}}]
  symbols: [TEST/USDT]
  data: {{path: TEST_USDT-5m.json, {data}}}
""")
    return dep


def test_apply_date_range_outside_the_data_names_the_deployment_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    dep = _deployment(tmp_path, "from: '2031-01-01'")
    assert main(["apply", str(dep)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "spec.data.from 2031-01-01" in err
    assert "--from" not in err
    assert "choose spec.data.from/spec.data.to inside that range" in err
