"""At 80 columns (a normal terminal, and any pipe) no number or id in a table is cut."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from engine.report.fit import Col, fitted_table
from engine.report.runs_view import render_comparison, render_run, render_run_list
from engine.report.terminal import group_table, render_summary
from engine.store.compare import compare
from engine.store.records import Run

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"[-+]?\d[\d,]*\.\d+%?|[-+]?\d{1,3}(?:,\d{3})+")


def piped(width: int = 80) -> Console:
    """What `superbot ... | less` gets: no terminal, no colour, 80 columns."""
    return Console(file=io.StringIO(), width=width, record=True, color_system=None, force_terminal=False)


def _metrics() -> dict:
    group = {"n_trades": 1728, "win_rate": 0.1979, "avg_profit_ratio": -0.0024, "total_profit_abs": -4838.12,
             "total_profit_ratio": -0.4838, "avg_trade_duration_s": 6060.0, "buy_and_hold_return": 0.1335}
    return {"symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "5m", "start": "2024-01-09T07:55:00Z",
            "end": "2024-12-31T00:00:00Z", "n_bars": 102721, "n_trades": 1728, "total_return": -0.6449,
            "annualized_return": -0.6534, "profit_abs": -64_838.85, "final_balance": 35_161.15,
            "sharpe": -11.3, "max_drawdown": 0.6484, "max_drawdown_abs": 65_380.2, "fees": 54_845.55,
            "per_symbol": {"BTC/USDT": group, "ETH/USDT": {**group, "total_profit_abs": -12_603.56}},
            "per_exit_reason": {"exit_signal": group, "stop_loss": {**group, "total_profit_abs": -69.74}}}


def _run(run_id: str, metrics: dict) -> Run:
    trade = {"symbol": "ETH/USDT", "side": "long", "entry_time": "2024-12-24T04:25:00Z",
             "exit_time": "2024-12-24T08:20:00Z", "entry_price": 1895.4337, "exit_price": 1913.33712,
             "profit_ratio": 0.0074, "exit_reason": "exit_signal"}
    return Run(id=run_id, created_at=datetime(2024, 5, 1, 12, tzinfo=UTC), strategy_name="ema-cross-trend-long-name",
               strategy_hash="a1b2c3d4", timeframe="5m", symbols=("BTC/USDT", "ETH/USDT"),
               data_start=metrics["start"], data_end=metrics["end"], n_trades=metrics["n_trades"],
               total_return=metrics["total_return"], sharpe=metrics["sharpe"],
               max_drawdown=metrics["max_drawdown"], starting_balance=100_000.0, params={"rsi_buy": 30},
               settings={"fee": 0.001}, metrics=json.loads(json.dumps(metrics)), trades=[trade] * 3)


def _assert_whole(text: str, *values: str) -> None:
    assert "…" not in text, text
    for value in values:
        assert value in text, f"{value!r} cut or missing in:\n{text}"
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_group_table_at_80_columns_keeps_every_figure_whole() -> None:
    out = piped()
    out.print(group_table("Per symbol", "Symbol", _metrics()["per_symbol"], "USDT", buy_and_hold=True,
                          console=out))
    text = out.export_text()
    _assert_whole(text, "-4,838.12", "-12,603.56", "BTC/USDT", "1,728", "-48.38%", "+13.35%")
    assert "not shown at this width: Avg duration" in text


def test_group_table_on_a_wide_terminal_shows_every_column() -> None:
    out = piped(200)
    out.print(group_table("Per symbol", "Symbol", _metrics()["per_symbol"], "USDT", buy_and_hold=True,
                          console=out))
    text = out.export_text()
    assert "duration" in text and "1h 41m" in text and "not shown" not in text


def test_render_summary_at_80_columns_keeps_every_figure_whole() -> None:
    out = piped()
    render_summary(_metrics(), out)
    _assert_whole(out.export_text(), "-64,838.85", "35,161.15", "-69.74", "-12,603.56", "-64.49%")


def test_run_list_at_80_columns_shows_copyable_ids() -> None:
    out = piped()
    runs = [_run("8ecf06621234", _metrics()), _run("14cd1ad35678", _metrics())]
    render_run_list(runs, out)
    text = out.export_text()
    _assert_whole(text, "8ecf0662", "14cd1ad3", "-64.49%", "-11.30", "64.84%", "1,728")


def test_run_show_and_compare_at_80_columns_keep_prices_times_and_figures_whole() -> None:
    out = piped()
    a, b = _run("a" * 32, _metrics()), _run("b" * 32, {**_metrics(), "profit_abs": -4_838.12})
    render_run(a, out, trades=3)
    render_comparison(compare(a, b), out)
    _assert_whole(out.export_text(), "2024-12-24 04:25:00", "2024-12-24 08:20:00", "1895.4337", "1913.3371",
                  "-64,838.85", "-4,838.12", "+60,000.73", "aaaaaaaa", "bbbbbbbb")


def test_fitted_table_keeps_kept_columns_and_folds_text() -> None:
    out = piped(30)
    table, left_out = fitted_table(out, [Col("name"), Col("value", "right", keep=True), Col("note", drop=1)],
                                   [["a-very-long-strategy-name-indeed", "-1,234,567.89", Text("later")]])
    out.print(table)
    text = out.export_text()
    assert left_out == ["note"] and "-1,234,567.89" in text and "…" not in text
    assert all(len(line) <= 30 for line in text.splitlines())


@pytest.mark.parametrize("argv", [["indicators"], ["indicators", "bbands"], ["--help"], ["backtest", "--help"]])
def test_cli_output_piped_at_80_columns_cuts_nothing(argv: list[str], tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "superbot", *argv], cwd=ROOT, capture_output=True, text=True,
                         env={"COLUMNS": "80", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=True)
    assert "…" not in out.stdout
    assert all(len(line) <= 80 for line in out.stdout.splitlines())
