"""The static indicator table never drifts from TA-Lib, and reading it does not import TA-Lib."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import indicators as reg
from compiler._talib_table import TABLE_FILE, build_table

ROOT = Path(__file__).resolve().parents[1]


def test_indicator_table_matches_the_live_talib() -> None:
    assert json.loads(TABLE_FILE.read_text(encoding="utf-8")) == build_table(), (
        "compiler/_indicator_table.json is stale: run `python -m compiler._talib_table`")


def test_indicator_table_bounds_are_the_edges_of_talib_lookback() -> None:
    """Just inside a bound TA-Lib computes a look-back, just outside it refuses (checked independently)."""
    spec = reg.get("mama")
    assert spec is not None
    fast = spec.param("fastlimit")
    assert fast is not None and (fast.low, fast.high) == (0.01, 0.99)
    assert spec.lookback({**spec.defaults(), "fastlimit": 0.99}) >= 0
    assert spec.lookback({**spec.defaults(), "fastlimit": 0.9900001}) == -1
    rsi = reg.get("rsi")
    assert rsi is not None
    assert rsi.lookback({"timeperiod": 2}) >= 0 and rsi.lookback({"timeperiod": 1}) == -1


def test_indicator_value_error_names_the_range_from_the_table() -> None:
    t3 = reg.get("t3")
    assert t3 is not None
    vfactor = t3.param("vfactor")
    assert vfactor is not None
    assert t3.value_error(vfactor, 1.5) == "vfactor must be between 0 and 1, was 1.5"
    assert t3.value_error(vfactor, 0.5) is None


def test_indicator_registry_is_read_without_importing_talib() -> None:
    code = ("import sys; from compiler import indicators as reg; assert not reg.REGISTRY.loaded; "
            "spec = reg.get('bbands'); assert reg.REGISTRY.loaded and spec.output('upper') == 'upperband'; "
            "print(sorted(m for m in ('talib', 'pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_custom_indicators_are_in_the_registry() -> None:
    assert {"rvwap", "zscore"} <= set(reg.names())
    assert len(reg.names()) == len(json.loads(TABLE_FILE.read_text())["functions"]) + 2


def test_indicator_table_of_another_talib_version_warns_once_talib_is_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reg, "_table", lambda: {"talib_version": "0.0.1", "functions": []})
    reg._abstract.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match=r"describes TA-Lib 0\.0\.1 but .*`python -m compiler\._talib_table"):
            reg._abstract()
    finally:
        reg._abstract.cache_clear()
