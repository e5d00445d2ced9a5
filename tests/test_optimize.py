"""Optimize: planted optimum, stages, walk-forward, Ctrl-C, apply round-trip (storage: test_optimize_storage)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from _market import START_MS, random_candles, write_candle_json
from _optimize import STAGED

from compiler.validate import strategy_from_text
from engine.backtest.market import Market
from engine.backtest.session import BacktestSession
from engine.backtest.settings import BacktestSettings
from engine.data.candles import Candles
from engine.optimize.objective import ObjectiveError, make_objective
from engine.optimize.run import OptimizeOptions, check_space, optimize
from engine.optimize.space import SpaceError, dimensions, grid_points, stage_plan
from engine.optimize.storage import local_storage
from engine.optimize.study import TrialRunner, run_stage
from engine.optimize.walkforward import collapse_warning, make_folds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))


def _session(strategy_text: str, candles: Candles) -> BacktestSession:
    strategy = strategy_from_text(strategy_text)
    market = Market((candles.symbol,), candles.timeframe, {candles.symbol: candles}, {candles.symbol: 0}, "test")
    return BacktestSession(strategy, market, BacktestSettings(fee=0.001), 0)


def _planted_market() -> Candles:
    """Flat at 100; dips to 95 recover to 105 (good), dips to 97 fall on to 88 (bad)."""
    close = np.full(2400, 100.0)
    for k, start in enumerate(range(50, 2350, 50)):
        if k % 2 == 0:
            close[start] = 95.0
            close[start + 1:start + 10] = 105.0
        else:
            close[start] = 97.0
            close[start + 1:start + 10] = 88.0
    open_ = np.concatenate(([100.0], close[:-1]))
    high, low = np.maximum(open_, close), np.minimum(open_, close)
    time = START_MS + np.arange(len(close), dtype=np.int64) * 300_000
    return Candles.from_arrays("PLANT/USDT", "5m", time, open_, high, low, close, np.ones(len(close)))


PLANTED = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: planted}
spec:
  timeframe: 5m
  params:
    level: {default: 100, int: [90, 100]}
  entry: {long: 'close < $level'}
  exit: {long: 'close > 101 or close < 90'}
"""


def test_optimizer_finds_the_planted_optimum_within_few_trials() -> None:
    session = _session(PLANTED, _planted_market())
    options = OptimizeOptions(objective=make_objective("profit"), trials=25, sampler="tpe", seed=3)
    result = optimize(session, options)
    assert result.best_params == {"level": 96}
    assert result.best_value is not None and result.best_value > 0


@pytest.mark.parametrize("sampler", ["tpe", "random", "grid"])
def test_same_seed_gives_the_same_study(sampler: str) -> None:
    session = _session(STAGED, random_candles(2000, "5m", seed=26))

    def run() -> list[tuple[dict[str, object], float | None]]:
        options = OptimizeOptions(objective=make_objective("profit"), trials=12, sampler=sampler, seed=5,
                                  stages="exit")
        return [(t["params"], t["value"]) for t in optimize(session, options).stages[0].trials]

    first, second = run(), run()
    assert first == second and len(first) == 12


def test_grid_sampler_visits_every_point_once() -> None:
    session = _session(PLANTED, _planted_market())
    result = optimize(session, OptimizeOptions(objective=make_objective("profit"), trials=100, sampler="grid"))
    seen = [t["params"]["level"] for t in result.stages[0].trials]
    assert sorted(seen) == list(range(90, 101))
    assert result.best_params == {"level": 96}




def test_stages_run_in_order_and_freeze_earlier_best_values() -> None:
    session = _session(STAGED, random_candles(3000, "5m", seed=21))
    options = OptimizeOptions(objective=make_objective("profit"), trials=8, sampler="random", seed=1,
                              stages="risk,exit,indicators")
    result = optimize(session, options)
    assert [s.stage for s in result.stages] == ["risk", "exit", "indicators"]
    assert set(result.stages[0].best_params) == {"sl"}
    assert set(result.stages[1].best_params) == {"sell"}
    assert set(result.best_params) == {"sl", "sell", "n", "buy"}
    assert result.best_params["sl"] == result.stages[0].best_params["sl"]


def test_stage_plan_rejects_an_unknown_stage_and_keeps_unlisted_stages_at_defaults() -> None:
    strategy = strategy_from_text(STAGED)
    with pytest.raises(SpaceError, match="unknown stage 'entry'"):
        stage_plan(strategy, "entry,exit")
    plan = stage_plan(strategy, "exit")
    assert [[p.name for p in dims] for dims in plan] == [["sell"]]


def test_space_rejects_a_ranged_param_no_condition_uses() -> None:
    text = STAGED.replace("  risk: {stoploss: $sl}\n", "")
    strategy = strategy_from_text(text)
    with pytest.raises(SpaceError, match="sl have a range but no condition"):
        check_space(strategy, set(strategy.used_params))


def test_grid_needs_a_step_on_float_ranges() -> None:
    strategy = strategy_from_text(STAGED.replace(", step: 0.01", ""))
    with pytest.raises(SpaceError, match="float range without a step"):
        list(grid_points(dimensions(strategy, ["risk"])))


def test_walk_forward_folds_are_consecutive_and_out_of_sample_follows_in_sample() -> None:
    folds = make_folds(100, 1100, 4)
    assert [f.in_sample for f in folds] == [(100, 300), (300, 500), (500, 700), (700, 900)]
    assert [f.out_of_sample for f in folds] == [(300, 500), (500, 700), (700, 900), (900, 1100)]
    anchored = make_folds(100, 1100, 4, anchored=True)
    assert [f.in_sample[0] for f in anchored] == [100] * 4


def test_walk_forward_reports_in_and_out_of_sample_per_fold() -> None:
    session = _session(STAGED, random_candles(4000, "5m", seed=22))
    options = OptimizeOptions(objective=make_objective("profit"), trials=6, sampler="random", seed=2,
                              walk_forward=3)
    result = optimize(session, options)
    assert len(result.folds) == 3
    for fold in result.folds:
        assert fold.in_sample["to"] < fold.out_of_sample["from"]
        assert set(fold.params) == {"n", "buy", "sell", "sl"}


def test_collapse_warning_flags_a_positive_in_sample_with_a_losing_out_of_sample() -> None:
    assert collapse_warning(1.2, -0.1) == "out-of-sample objective is not positive while in-sample was"
    assert collapse_warning(1.0, 0.9) is None


def test_ctrl_c_stops_cleanly_and_keeps_finished_trials() -> None:
    session = _session(PLANTED, _planted_market())
    runner = TrialRunner(session, make_objective("profit"), {})
    calls = {"n": 0}

    def interrupted(params):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return runner(params)

    dims = dimensions(session.strategy)
    result = run_stage(interrupted, dims, stage="all", study_name="ctrl-c", sampler="random", seed=1,  # type: ignore[arg-type]
                       trials=50)
    assert result.interrupted and result.n_trials == 4
    kept = optuna.load_study(study_name="ctrl-c", storage=local_storage("ctrl-c"))
    assert len(kept.trials) == 4


def test_objective_expression_over_metrics_uses_the_grammar() -> None:
    objective = make_objective("sharpe * 0.5 + profit_factor")
    assert objective.text == "sharpe * 0.5 + profit_factor"
    with pytest.raises(ObjectiveError, match="metric names, numbers"):
        make_objective("ema(close, 3)")
    with pytest.raises(ObjectiveError, match="neither one of"):
        make_objective("sharpe +")


def test_min_trades_rejects_trials_with_too_few_trades() -> None:
    session = _session(PLANTED, _planted_market())
    run = session.run({"level": 95}, metrics=False)
    assert len(run.result.trades) == 0
    assert make_objective("profit", min_trades=1)(run.result) == float("-inf")


def test_apply_changes_only_the_numbers(tmp_path: Path) -> None:
    target = tmp_path / "rsi.yaml"
    original = (ROOT / "strategies" / "rsi_mean_reversion.yaml").read_text()
    target.write_text(original)
    code = subprocess.run([sys.executable, "-c", "import superbot,sys; sys.exit(superbot.main(sys.argv[1:]))",
                           "params", "apply", "nope", str(target)], capture_output=True, text=True).returncode
    assert code == 2  # no such study
    from engine.cli.optimize_cmds import apply_params
    assert apply_params(target, {"rsi_len": 9, "rsi_buy": 27, "sl": -0.0731}, yes=True)
    new = target.read_text().splitlines()
    old = original.splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert len(new) == len(old)
    assert changed == [
        ("    rsi_len:  {default: 14, int: [7, 21], description: RSI period}",
         "    rsi_len:  {default: 9, int: [7, 21], description: RSI period}"),
        ("    rsi_buy:  {default: 30, int: [15, 40], description: enter below this RSI}",
         "    rsi_buy:  {default: 27, int: [15, 40], description: enter below this RSI}"),
        ("    sl:       {default: -0.05, float: [-0.15, -0.02], stage: risk}",
         "    sl:       {default: -0.0731, float: [-0.15, -0.02], stage: risk}"),
    ]


def test_apply_without_a_terminal_and_without_yes_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "rsi.yaml"
    target.write_text((ROOT / "strategies" / "rsi_mean_reversion.yaml").read_text())
    from engine.cli.optimize_cmds import apply_params
    from engine.errors import UsageError, exit_code
    before = target.read_text()
    with pytest.raises(UsageError, match="no terminal") as caught:  # pytest's stdin is not a terminal
        apply_params(target, {"rsi_len": 9}, yes=False)
    assert exit_code(caught.value) == 2 and "--yes" in (caught.value.hint or "")
    assert target.read_text() == before


@pytest.mark.parametrize("name", ["sharpe", "sortino", "calmar", "profit", "annualized_return", "profit_factor",
                                  "expectancy"])
def test_named_objectives_equal_the_full_metrics(name: str) -> None:
    from engine.metrics import compute_metrics
    session = _session(STAGED, random_candles(3000, "5m", seed=23))
    result = session.run(metrics=False).result
    full = compute_metrics(result)
    key = {"profit": "total_return"}.get(name, name)
    assert make_objective(name)(result) == pytest.approx(full[key], rel=1e-9)


def test_jobs_run_worker_processes_on_the_shared_local_journal() -> None:
    session = _session(PLANTED, _planted_market())
    options = OptimizeOptions(objective=make_objective("profit"), trials=11, sampler="grid", jobs=2,
                              study="jobs-test")
    result = optimize(session, options)
    kept = optuna.load_study(study_name="jobs-test.all", storage=local_storage("jobs-test.all"))
    done = [t for t in kept.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.params["level"] for t in done) == list(range(90, 101))
    assert result.best_params == {"level": 96}


def test_apply_runs_an_optimize_deployment(tmp_path: Path) -> None:
    from engine.cli.app import main
    (tmp_path / "s.yaml").write_text(PLANTED)
    data = write_candle_json(tmp_path / "PLANT_USDT-5m.json", _planted_market())
    (tmp_path / "opt.yaml").write_text(f"""
apiVersion: superbot/v1
kind: Deployment
metadata: {{name: opt}}
spec:
  mode: optimize
  strategies: [{{path: s.yaml}}]
  symbols: [PLANT/USDT]
  data: {{path: {data.name}}}
  optimize: {{trials: 11, sampler: grid, objective: profit}}
""")
    assert main(["apply", str(tmp_path / "opt.yaml"), "--json"]) == 0


def test_params_apply_writes_every_stage_best_values(tmp_path: Path) -> None:
    from compiler.validate import load_strategy
    from engine.cli.app import main
    target = tmp_path / "staged.yaml"
    target.write_text(STAGED)
    session = _session(STAGED, random_candles(3000, "5m", seed=24))
    result = optimize(session, OptimizeOptions(objective=make_objective("profit"), trials=6, sampler="random",
                                               seed=4, stages="risk,exit,indicators", study="st1"))
    assert main(["params", "apply", "st1.indicators", str(target), "--yes"]) == 0
    written = load_strategy(target).defaults()
    assert written == pytest.approx(result.best_params)


def test_params_apply_to_a_strategy_without_the_parameter_is_a_user_error(tmp_path: Path) -> None:
    from engine.cli.app import main
    session = _session(STAGED, random_candles(2000, "5m", seed=25))
    optimize(session, OptimizeOptions(objective=make_objective("profit"), trials=4, sampler="random", seed=1,
                                      study="st2"))
    other = tmp_path / "planted.yaml"
    other.write_text(PLANTED)
    assert main(["params", "apply", "st2.all", str(other), "--yes"]) == 1


def test_profit_factor_of_a_run_without_losses_ranks_first() -> None:
    session = _session(PLANTED, _planted_market())
    result = session.run({"level": 96}, metrics=False).result
    assert len(result.trades) > 0 and (result.trades.profit_abs > 0).all()
    assert make_objective("profit_factor")(result) == 1e6
