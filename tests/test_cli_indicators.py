"""`superbot indicators [NAME]`: the registry, and one indicator's inputs, parameters, outputs and look-back."""
from __future__ import annotations

import json

import pytest

from engine.cli.app import main


def test_indicators_name_shows_inputs_parameters_with_ranges_outputs_and_lookback(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "bbands"]) == 0
    out = capsys.readouterr().out
    assert "bbands — Bollinger Bands (Overlap Studies)" in out
    assert "inputs:   close" in out
    assert "│ timeperiod │ int   │      20 │      2 │ 100000 │" in out
    assert "│ matype     │ int   │       0 │      0 │      8 │" in out
    assert "outputs:  upperband, middleband, lowerband, upper, middle, lower" in out
    assert "look-back: 19 bars at the defaults" in out


def test_indicators_name_json_has_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "RSI", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row == {"name": "rsi", "group": "Momentum Indicators", "description": "Relative Strength Index",
                   "inputs": ["close"],
                   "params": [{"name": "timeperiod", "default": 14, "type": "int", "min": 2, "max": 100000}],
                   "outputs": ["real"], "unstable": True, "lookback": 14}


def test_indicators_name_of_our_own_indicator_shows_its_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "zscore", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["params"] == [{"name": "timeperiod", "default": 20, "type": "int", "min": 2, "max": 100000}]
    assert row["lookback"] == 19 and row["group"] == "SuperBot"


def test_indicators_list_json_has_the_whole_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert names == sorted(names) and {"rsi", "bbands", "rvwap", "zscore"} <= set(names) and len(rows) > 200
