"""`superbot optimize STRATEGY`, `superbot params apply STUDY STRATEGY` and `superbot params list`."""
from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from compiler.strategy import ParamDef
from compiler.validate import load_strategy
from dsl.edit import set_param_defaults
from engine.backtest.session import open_session
from engine.cli.backtest_cmds import backtest_options, settings_from
from engine.cli.console import console, err_console
from engine.errors import UsageError
from engine.optimize.objective import ObjectiveError, make_objective
from engine.optimize.report import apply_command, format_objective, format_param, group_trials
from engine.optimize.run import OptimizeOptions, OptimizeResult, check_space, optimize
from engine.optimize.space import STAGES, SpaceError, stage_plan
from engine.optimize.study import SAMPLERS

__all__ = ["DEFAULT_MIN_TRADES", "apply_params", "run_optimize"]

# A trial with a handful of trades "wins" by luck; fewer than this scores -inf (docs/optimize.md).
DEFAULT_MIN_TRADES = 10


def _summary(result: OptimizeResult, strategy_path: Path, storage: str | None) -> dict[str, Any]:
    trials = [t for s in result.stages for t in s.trials]
    return {
        "strategy": result.strategy,
        "study": result.run,
        "n_trials": result.n_trials,
        "best": {"params": result.best_params, "value": result.best_value, "chosen_by": result.chosen_by,
                 "study": result.apply_study},
        "apply_command": (apply_command(result.apply_study, strategy_path, storage)
                          if result.apply_study else None),
        "elapsed_ms": round(sum(s.elapsed_ms for s in result.stages), 3),
        "interrupted": result.interrupted,
        "stages": [{"stage": s.stage, "study": s.study, "n_trials": s.n_trials, "best_params": s.best_params,
                    "best_value": s.best_value, "elapsed_ms": round(s.elapsed_ms, 3), "importance": s.importance}
                   for s in result.stages],
        "folds": [f.__dict__ for f in result.folds],
        "trials": trials,
    }


def _print(result: OptimizeResult, params: Mapping[str, ParamDef], objective: str, strategy_path: Path,
           storage: str | None, top: int = 10) -> None:
    for stage in result.stages:
        table = Table(title=f"stage {stage.stage}: {stage.n_trials} trials, top {top} distinct results")
        names = list(stage.best_params) or sorted({k for t in stage.trials for k in t["params"]})
        for col in ["rank", objective, "trades", *names, "trials"]:
            table.add_column(col, justify="right")
        for rank, g in enumerate(group_trials(stage.trials, top), 1):
            same = f"#{g.numbers[0]}" if g.count == 1 else f"{g.count} (#{g.numbers[0]}, ...)"
            table.add_row(str(rank), format_objective(g.value), str(g.n_trades),
                          *[format_param(params.get(n), g.params.get(n, "")) for n in names], same)
        console.print(table)
        if stage.importance:
            console.print("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in stage.importance.items()))
    if result.folds:
        table = Table(title="walk-forward: in-sample vs out-of-sample")
        for col in ("fold", "in-sample", "out-of-sample", "IS value", "OOS value", "OOS/IS", "warning"):
            table.add_column(col)
        for f in result.folds:
            ratio = (f"{f.out_of_sample_value / f.in_sample_value:.2f}"
                     if f.in_sample_value and f.out_of_sample_value is not None else "-")
            table.add_row(str(f.index), f"{f.in_sample['from'][:10]}..{f.in_sample['to'][:10]}",
                          f"{f.out_of_sample['from'][:10]}..{f.out_of_sample['to'][:10]}",
                          format_objective(f.in_sample_value), format_objective(f.out_of_sample_value), ratio,
                          f.warning or "")
        console.print(table)
        if any(f.warning for f in result.folds):
            err_console.print("[yellow]warning:[/yellow] out-of-sample results collapse in some folds: "
                              "the parameters may be overfitted", highlight=False)
    if not result.best_params:
        console.print("best: none (no trial has a defined objective value)")
        return
    console.print(f"best: {objective} {format_objective(result.best_value)} — {result.chosen_by}")
    width = max(len(n) for n in result.best_params)
    for name, value in result.best_params.items():
        console.print(f"  {name:<{width}}  {format_param(params.get(name), value)}", highlight=False)
    console.print(f"study: {result.run}")
    if result.apply_study:
        console.print(f"apply: {apply_command(result.apply_study, strategy_path, storage)}", highlight=False,
                      soft_wrap=True)


def _require_terminal_or_yes(yes: bool) -> None:
    """Writing defaults asks first; with no terminal to ask on, only --yes may write."""
    if not yes and not sys.stdin.isatty():
        raise UsageError("no terminal to confirm the change on", location="--yes",
                         hint="pass --yes to write the defaults without asking")


def apply_params(strategy_path: Path, values: dict[str, Any], yes: bool) -> bool:
    """Show the diff of writing `values` as defaults; write it when confirmed (or `yes`)."""
    text = strategy_path.read_text(encoding="utf-8")
    new = set_param_defaults(text, values, str(strategy_path))
    if new == text:
        console.print("the strategy already has these defaults")
        return False
    diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                        str(strategy_path), str(strategy_path)))
    click.echo(diff, err=not sys.stdout.isatty())
    _require_terminal_or_yes(yes)
    if not yes and not click.confirm(f"write these defaults into {strategy_path}?", default=False):
        return False
    tmp = strategy_path.with_suffix(strategy_path.suffix + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(strategy_path)
    console.print(f"defaults written to {strategy_path}")
    return True


def run_optimize(strategy_path: Path, settings: Any, options: OptimizeOptions, *, json_out: bool,
                 apply: bool, yes: bool) -> int:
    if apply:
        _require_terminal_or_yes(yes)  # before the work, not after it
    strategy = load_strategy(strategy_path)
    check_space(strategy, set(strategy.used_params))
    session, _ = open_session(strategy, settings)
    stages = len(stage_plan(strategy, options.stages))
    total = None if options.trials is None else options.trials * stages * (options.walk_forward or 1)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=json_out or not err_console.is_terminal) as bar:
        task = bar.add_task("optimizing", total=total)

        def progress(step: int, best: float | None) -> None:
            bar.update(task, advance=step, description=f"optimizing (best {best:.4g})" if best is not None
                       else "optimizing")

        result = optimize(session, options, progress)
    if json_out:
        click.echo(json.dumps(_summary(result, strategy_path, options.storage), indent=2, default=str))
    else:
        _print(result, strategy.params, options.objective.text, strategy_path, options.storage)
    for stage in result.stages:
        for note in stage.notes:
            err_console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if result.n_trials and not result.best_params and options.objective.min_trades:
        err_console.print(f"[yellow]note:[/yellow] no trial made {options.objective.min_trades} trades "
                          "(--min-trades): lower it, or widen the data range", highlight=False)
    if result.interrupted:
        err_console.print("interrupted: finished trials are kept", highlight=False)
    if apply and result.best_params:
        apply_params(strategy_path, result.best_params, yes)
    return 0


@click.command("optimize")
@click.argument("strategy", type=click.Path(path_type=Path))
@backtest_options
@click.option("--trials", type=click.IntRange(min=1), default=100, show_default=True,
              help="Trials per stage (per fold).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Stop a stage after this many seconds.")
@click.option("--objective", default="sharpe", show_default=True,
              help="sharpe, sortino, calmar, profit, annualized_return, profit_factor, expectancy, or an "
                   "expression over metrics.")
@click.option("--min-trades", type=click.IntRange(min=0), default=DEFAULT_MIN_TRADES, show_default=True,
              help="Trials with fewer trades score -inf (0 accepts any trial).")
@click.option("--sampler", type=click.Choice(SAMPLERS), default="tpe", show_default=True)
@click.option("--seed", type=int, help="Sampler seed (reproducible studies).")
@click.option("--stages", default="all", show_default=True, help="Stage order, e.g. risk,exit,indicators, or all.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine.")
@click.option("--storage", help="Optuna storage URL (e.g. postgresql://host/db) to share a study between machines.")
@click.option("--study", help="Study name (workers with the same name and storage join one study).")
@click.option("--walk-forward", type=int, help="Walk-forward folds (optimize in sample, test out of sample).")
@click.option("--anchored", is_flag=True, help="Walk-forward in-sample windows all start at the beginning.")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable result.")
@click.option("--apply", is_flag=True, help="Write the best values into the strategy as new defaults.")
@click.option("--yes", is_flag=True, help="Apply without asking.")
def optimize_cmd(strategy: Path, data: str | None, symbols: str | None, start: str | None, end: str | None,
                 fee: float, slippage: float, balance: float, gaps: str, price_tick: str, trials: int,
                 timeout: float | None,
                 objective: str, min_trades: int, sampler: str, seed: int | None, stages: str, jobs: int,
                 storage: str | None, study: str | None, walk_forward: int | None, anchored: bool,
                 json_out: bool, apply: bool, yes: bool) -> int:
    """Optimize STRATEGY's parameters with Optuna (staged, optionally walk-forward)."""
    if not strategy.is_file():
        raise UsageError(f"no such file: {strategy}")
    if storage and not study:
        raise UsageError("--storage needs --study NAME so that workers join the same study")
    if walk_forward is not None and walk_forward < 2:
        raise UsageError(f"--walk-forward {walk_forward}: use 2 or more folds")
    if stages.strip() != "all" and (unknown := [s for s in stages.split(",") if s.strip() not in STAGES]):
        raise UsageError(f"--stages: unknown stage '{unknown[0].strip()}'",
                         hint=f"use a comma-separated order of {', '.join(STAGES)}, or all")
    settings = settings_from(data, symbols, start, end, fee, slippage, balance, gaps, price_tick)
    try:
        objective_fn = make_objective(objective, min_trades)
    except ObjectiveError as exc:  # the option's value: a usage error
        raise UsageError(str(exc), location="--objective", hint=exc.hint) from None
    options = OptimizeOptions(objective=objective_fn, trials=trials, timeout=timeout,
                              sampler=sampler, seed=seed, stages=stages, storage=storage, study=study, jobs=jobs,
                              walk_forward=walk_forward, anchored=anchored)
    return run_optimize(strategy, settings, options, json_out=json_out, apply=apply, yes=yes)


@click.group("params")
def params_group() -> None:
    """Parameter values: list stored studies, apply the best of one to a strategy."""


@params_group.command("apply")
@click.argument("study")
@click.argument("strategy", type=click.Path(path_type=Path))
@click.option("--storage", help="Optuna storage URL (default: the local journals).")
@click.option("--yes", is_flag=True, help="Apply without asking (required without a terminal).")
def params_apply(study: str, strategy: Path, storage: str | None, yes: bool) -> int:
    """Write the best parameters of STUDY into STRATEGY as its new defaults."""
    import optuna

    from engine.optimize.catalog import find_study
    if not strategy.is_file():
        raise UsageError(f"no such file: {strategy}")
    loaded = find_study(study, storage)
    finite = [t for t in loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
              if t.value is not None and t.value != float("-inf")]
    if not finite:
        raise SpaceError(f"study '{study}' has no completed trial with a value")
    best = max(finite, key=lambda t: t.value)  # type: ignore[arg-type, return-value]
    load_strategy(strategy)  # the target must be valid before it is edited
    _require_terminal_or_yes(yes)
    # a stage's study holds its own parameters; the earlier stages' best values were frozen into it
    apply_params(strategy, {**loaded.user_attrs.get("frozen", {}), **best.params}, yes)
    return 0


@params_group.command("list")
@click.option("--storage", help="Optuna storage URL (default: the local journals).")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable list.")
def params_list(storage: str | None, json_out: bool) -> int:
    """List stored studies: run, stages, trials, best value, date, and the name `params apply` takes."""
    from engine.optimize.catalog import list_studies
    studies = list_studies(storage)
    if json_out:
        click.echo(json.dumps([{"study": s.name, "run": s.run, "stage": s.stage, "trials": s.trials,
                                "best_value": s.best_value,
                                "last_trial": s.last.isoformat(timespec="seconds") if s.last else None}
                               for s in studies], indent=2))
        return 0
    if not studies:
        console.print(f"no stored study in {storage or 'the local journals'}: run `superbot optimize` first")
        return 0
    runs: dict[str, list[Any]] = {}
    for s in studies:
        runs.setdefault(s.run, []).append(s)
    table = Table(title=f"stored studies ({storage or 'local journals'})")
    for col in ("run", "stages", "trials", "best value", "last trial", "params apply STUDY"):
        table.add_column(col, justify="right" if col in ("trials", "best value") else "left",
                         no_wrap=col in ("run", "params apply STUDY", "last trial"))
    for run, members in runs.items():
        last = members[-1]
        table.add_row(run, ", ".join(m.stage or "-" for m in members), str(sum(m.trials for m in members)),
                      format_objective(last.best_value),
                      last.last.strftime("%Y-%m-%d %H:%M") if last.last else "-", last.name)
    console.print(table)
    return 0
