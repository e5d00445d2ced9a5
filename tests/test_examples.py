"""The example manifests in strategies/ and deployments/ are valid, published and compile."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compiler.validate import validate_file
from superbot import main

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = sorted((ROOT / "strategies").glob("*.yaml"))
DEPLOYMENTS = sorted((ROOT / "deployments").glob("*.yaml"))
EXAMPLES = STRATEGIES + DEPLOYMENTS
_SCHEMA_LINE = re.compile(r"\A# yaml-language-server: \$schema=(\S+)\n")

# Warm-up = index of the first execution bar at which every signal is defined.
# A look-back of L candles on timeframe T seen from execution timeframe E (T = k*E):
# the candle L of T closes at (L+1)*k execution bars, so the first valid bar is (L+1)*k - 1.
# A cross needs the previous bar too: +1 over its operands.
WARMUP = {
    # 1h: close crosses_above bbands(20).upper -> look-back 19, +1 for the cross
    "bollinger_breakout.yaml": (20, {"1h": 19}),
    # 1h: ema 24/72 cross -> 71 + 1; ema_20 on 1d -> 20 closed daily candles = (19+1)*24 - 1 = 479
    "ema_cross_trend.yaml": (479, {"1h": 71, "1d": 19}),
    # 4h: macd(12,26,9) hist look-back 33, +1 cross = 34; ema_50 on 1d -> (49+1)*6 - 1 = 299
    "macd_volume.yaml": (299, {"4h": 33, "1d": 49}),
    # 15m: stoch(5,3,0,3,0) 4+2+2 = 8, +1 cross = 9; rvwap_30 -> 29; close[1] -> 1
    "roi_scalper.yaml": (29, {"15m": 29}),
    # 1h: rsi(14) look-back 14; rsi_14 on 4h -> (14+1)*4 - 1 = 59
    "rsi_mean_reversion.yaml": (59, {"1h": 14, "4h": 14}),
}


def _compile_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main(["compile", "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in EXAMPLES])
def test_example_validates_without_diagnostics(path: Path) -> None:
    report = validate_file(path)

    assert report.diagnostics == []
    assert len(report.strategies) + len(report.deployments) == 1


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in EXAMPLES])
def test_example_starts_with_the_schema_of_its_kind(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    match = _SCHEMA_LINE.match(text)
    assert match, "the first line must be '# yaml-language-server: $schema=...'"
    schema = (path.parent / match.group(1)).resolve()
    kind = "strategy" if path.parent.name == "strategies" else "deployment"

    assert schema == ROOT / "schemas" / f"{kind}.schema.json"
    assert schema.is_file()


def test_examples_cover_five_strategies_and_every_mode() -> None:
    modes = {report.deployments[0].mode for report in map(validate_file, DEPLOYMENTS)}

    assert len(STRATEGIES) >= 5
    assert modes == {"backtest", "optimize", "paper", "demo", "live", "replay"}


def test_every_example_strategy_has_a_pinned_warmup() -> None:
    assert sorted(WARMUP) == [p.name for p in STRATEGIES]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in STRATEGIES])
def test_compile_of_example_reports_its_warmup(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    info = _compile_json(path, capsys)

    assert (info["warmup_bars"], info["warmup_by_timeframe"]) == WARMUP[path.name]


def test_compile_of_ema_cross_dedups_and_orders_timeframes(capsys: pytest.CaptureFixture[str]) -> None:
    info = _compile_json(ROOT / "strategies" / "ema_cross_trend.yaml", capsys)
    indicators = sorted((i["name"], i["timeframe"], i["params"]["timeperiod"], i["lookback"])  # type: ignore[index]
                        for i in info["indicators"])  # type: ignore[attr-defined]

    # ema($fast) and ema($slow) appear in entry and exit but are computed once each
    assert indicators == [("ema", "1d", 20, 19), ("ema", "1h", 24, 23), ("ema", "1h", 72, 71)]
    assert info["timeframes"] == ["1h", "1d"]
    assert info["strategy"] == "ema-cross-trend"


def test_compile_text_output_states_the_warmup(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compile", str(ROOT / "strategies" / "rsi_mean_reversion.yaml")])
    out = capsys.readouterr().out

    assert code == 0
    assert "warm-up: 59 bars of 1h (per timeframe: 1h: 14, 4h: 14)" in out


def test_quick_start_trend_follower_makes_money_on_the_sample_market(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The README's first command: a trend follower on a market with trends must not look broken.
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    code = main(["backtest", str(ROOT / "strategies" / "ema_cross_trend.yaml"), "--json", "--no-keep"])
    metrics = json.loads(capsys.readouterr().out)["metrics"]

    assert code == 0
    assert metrics["total_return"] > 0.05 and 10 <= metrics["n_trades"] <= 60
    assert metrics["max_drawdown"] < 0.15
