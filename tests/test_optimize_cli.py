"""What `superbot optimize` and `superbot params` show and how they refuse bad input."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from _market import START_MS, random_candles, write_candle_json
from _optimize import STAGED

from compiler.strategy import ParamDef
from compiler.validate import strategy_from_text
from engine.backtest.market import Market
from engine.backtest.session import BacktestSession
from engine.backtest.settings import BacktestSettings
from engine.cli.app import main
from engine.kernel.config import KernelConfig
from engine.kernel.simulate import simulate
from engine.kernel.trades import SimResult
from engine.optimize.objective import VALUE_CAP, ObjectiveError, make_objective, metric_names
from engine.optimize.report import apply_command, format_param, group_trials
from engine.optimize.run import OptimizeOptions, optimize
from engine.optimize.storage import journal_path


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """(strategy, candle file) for CLI runs."""
    strategy = tmp_path / "staged.yaml"
    strategy.write_text(STAGED)
    c = random_candles(2500, "5m", seed=41, symbol="TEST/USDT")
    return strategy, write_candle_json(tmp_path / "TEST_USDT-5m.json", c)


def _optimize(files: tuple[Path, Path], *extra: str) -> int:
    strategy, data = files
    return main(["optimize", str(strategy), "--data", str(data), *extra])


# --- the result as a person reads it ------------------------------------------------------

def test_format_param_uses_the_parameter_precision() -> None:
    assert format_param(ParamDef("sl", -0.05, "float", -0.1, -0.02, 0.01), -0.05000000000000002) == "-0.05"
    assert format_param(ParamDef("sl", 0.5, "float", 0.25, 1.0, 0.25), 0.75) == "0.75"
    assert format_param(ParamDef("n", 14, "int", 5, 20), 14.0) == "14"
    assert format_param(ParamDef("t", 0.01, "float", 0.001, 0.1, log=True), 0.012345678901234567) == "0.01235"
    assert format_param(ParamDef("ma", "ema", "choice", choices=("ema", "sma")), "ema") == "ema"


def test_group_trials_merges_identical_results_and_keeps_the_first_trial() -> None:
    trials = [{"number": k, "params": {"x": k}, "value": v, "n_trades": n}
              for k, (v, n) in enumerate([(1.0, 5), (2.0, 7), (1.0, 5), (2.0, 7), (2.0, 7), (0.5, 3), (None, 0)])]
    groups = group_trials(trials, top=10)
    assert [(g.value, g.n_trades, g.numbers) for g in groups] == [(2.0, 7, (1, 3, 4)), (1.0, 5, (0, 2)),
                                                                  (0.5, 3, (5,))]
    assert groups[0].params == {"x": 1} and groups[0].count == 3
    assert len(group_trials(trials, top=2)) == 2


def test_optimize_prints_the_best_as_name_value_lines_then_the_study_and_the_apply_command(
        files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = _optimize(files, "--stages", "risk", "--sampler", "grid", "--trials", "9", "--study", "run1",
                     "--min-trades", "0")
    out = capsys.readouterr().out
    assert code == 0
    assert "{" not in out  # no Python dict
    lines = out.splitlines()
    best = next(i for i, line in enumerate(lines) if line.startswith("best: sharpe "))
    assert lines[best + 1].split()[0] == "sl" and len(lines[best + 1].split()[1]) <= len("-0.10")
    assert "study: run1" in lines
    assert f"apply: superbot params apply run1.risk {files[0]}" in out


def test_optimize_json_names_the_study_to_apply_and_the_command(files: tuple[Path, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "exit", "--sampler", "grid", "--trials", "21", "--study", "run2",
                     "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["study"] == "run2" and out["best"]["study"] == "run2.exit"
    assert out["apply_command"] == f"superbot params apply run2.exit {files[0]}"


def test_walk_forward_result_is_the_last_fold_and_says_so() -> None:
    strategy = strategy_from_text(STAGED)
    c = random_candles(4000, "5m", seed=22)
    market = Market((c.symbol,), c.timeframe, {c.symbol: c}, {c.symbol: 0}, "test")
    session = BacktestSession(strategy, market, BacktestSettings(fee=0.001), 0)
    result = optimize(session, OptimizeOptions(objective=make_objective("profit"), trials=5, sampler="random",
                                               seed=2, walk_forward=3, study="wf"))
    last = result.folds[-1]
    assert result.best_params == last.params
    assert result.best_value == last.out_of_sample_value
    assert result.chosen_by.startswith("fold 2 (the most recent in-sample window")
    assert "out-of-sample" in result.chosen_by
    assert result.apply_study == "wf.fold2.all"


def test_min_trades_defaults_to_10(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "exit", "--sampler", "grid", "--trials", "21", "--json") == 0
    trials = json.loads(capsys.readouterr().out)["trials"]
    assert any(t["n_trades"] < 10 for t in trials) and any(t["n_trades"] >= 10 for t in trials)
    assert all(t["value"] is None for t in trials if t["n_trades"] < 10)


# --- stored studies --------------------------------------------------------------------------

def test_params_list_shows_each_run_with_its_stages(files: tuple[Path, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "risk,exit", "--sampler", "random", "--trials", "3", "--seed", "1",
                     "--study", "listed", "--min-trades", "0") == 0
    capsys.readouterr()
    assert main(["params", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(s["study"], s["run"], s["stage"], s["trials"]) for s in listed] == [
        ("listed.risk", "listed", "risk", 3), ("listed.exit", "listed", "exit", 3)]
    assert main(["params", "list"]) == 0
    table = capsys.readouterr().out
    assert "listed.exit" in table and "risk," in table  # the run, its stages, the name to apply


def test_params_apply_of_an_unknown_study_suggests_the_closest(files: tuple[Path, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "risk", "--sampler", "grid", "--study", "momentum",
                     "--min-trades", "0") == 0
    capsys.readouterr()
    assert main(["params", "apply", "momentum.rsk", str(files[0]), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "no study named 'momentum.rsk'" in err
    assert "did you mean 'momentum.risk'?" in err
    assert not journal_path("momentum.rsk").exists()  # looking a study up creates no file


def test_params_apply_without_a_terminal_needs_yes(files: tuple[Path, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "risk", "--sampler", "grid", "--study", "ttl", "--min-trades", "0") == 0
    before = files[0].read_text()
    assert main(["params", "apply", "ttl.risk", str(files[0])]) == 2  # pytest's stdin is not a terminal
    assert "pass --yes" in capsys.readouterr().err
    assert files[0].read_text() == before
    assert main(["params", "apply", "ttl.risk", str(files[0]), "--yes"]) == 0
    assert files[0].read_text() != before


def test_optimize_apply_without_a_terminal_needs_yes_before_running(files: tuple[Path, Path],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--stages", "risk", "--sampler", "grid", "--apply") == 2
    err = capsys.readouterr().err
    assert "pass --yes" in err
    assert main(["params", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing ran


def test_apply_command_masks_a_storage_password() -> None:
    command = apply_command("s1.all", "x.yaml", "postgresql+psycopg://bob:hunter2@db/studies")
    assert "hunter2" not in command and command.startswith("superbot params apply s1.all x.yaml --storage ")


# --- the objective -------------------------------------------------------------------------------

def test_objective_typo_suggests_the_closest_name() -> None:
    with pytest.raises(ObjectiveError) as caught:
        make_objective("sharp")
    assert caught.value.hint == "did you mean 'sharpe'?"
    with pytest.raises(ObjectiveError) as caught:
        make_objective("sharpe + profit_factr")
    assert caught.value.hint == "did you mean 'profit_factor'?"


def test_objective_metric_list_holds_only_performance_metrics() -> None:
    names = metric_names()
    assert {"sharpe", "calmar", "annualized_return", "max_drawdown", "n_trades"} <= set(names)
    assert not {"metrics_version", "periods_per_year", "starting_balance", "n_bars"} & set(names)


def test_objective_typo_on_the_command_line_is_a_usage_error(files: tuple[Path, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, "--objective", "sortin") == 2
    err = capsys.readouterr().err
    assert "--objective" in err and "did you mean 'sortino'?" in err


def _one_trade(final_price: float, dip: float = 0.0) -> SimResult:
    """200 one-minute bars: a long entered at bar 2 rides the price from 100 to `final_price`."""
    n = 200
    close = np.linspace(100.0, final_price, n)
    close[100] *= 1.0 - dip
    open_ = np.concatenate(([100.0], close[:-1]))
    high, low = np.maximum(open_, close), np.minimum(open_, close)
    entry = np.zeros(n, dtype=bool)
    entry[1] = True
    time = START_MS + np.arange(n, dtype=np.int64) * 60_000
    return simulate(time, open_, high, low, close, {"entry_long": entry}, KernelConfig(timeframe="1m"))


@pytest.mark.parametrize("name", ["calmar", "annualized_return"])
@pytest.mark.parametrize("dip", [0.0, 0.01], ids=["no-drawdown", "a-drawdown"])
def test_objective_of_an_overflowing_annual_return_ranks_a_huge_winner_first(name: str, dip: float) -> None:
    huge, modest = _one_trade(1000.0, dip), _one_trade(100.5, dip)
    for objective in (make_objective(name), make_objective(f"{name} * 1")):  # named, and through the metrics
        big, small = objective(huge), objective(modest)
        assert math.isfinite(big) and math.isfinite(small)
        assert big == VALUE_CAP > small


# --- bad option values --------------------------------------------------------------------------

@pytest.mark.parametrize("option", [
    pytest.param(["--trials", "0"], id="trials-0"),
    pytest.param(["--jobs", "0"], id="jobs-0"),
    pytest.param(["--min-trades", "-1"], id="min-trades-negative"),
    pytest.param(["--walk-forward", "1"], id="walk-forward-1"),
    pytest.param(["--stages", "entry"], id="unknown-stage"),
    pytest.param(["--timeout", "0"], id="timeout-0"),
])
def test_bad_option_values_are_usage_errors(files: tuple[Path, Path], option: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _optimize(files, *option) == 2
    err = capsys.readouterr().err
    assert option[0] in err and "Traceback" not in err

