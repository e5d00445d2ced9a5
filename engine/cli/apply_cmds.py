"""`superbot apply -f FILE`: run what a deployment manifest describes.

Historical modes (backtest, optimize) run here and now, with the
deployment's data, account and optimizer settings. The long-running modes
(paper, demo, live, replay) are reconciled by the daemon (`superbot serve`),
which is not part of this release: apply says so instead of pretending.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler.validate import load_deployment
from engine.backtest.settings import BacktestSettings, SettingsError
from engine.cli.console import err_console
from engine.errors import UsageError, UserError
from engine.kernel.config import DEFAULT_BALANCE, DEFAULT_FEE

if TYPE_CHECKING:
    from compiler.deployment import Deployment

__all__ = ["apply_cmd"]


def _settings(dep: Deployment, symbols: tuple[str, ...]) -> BacktestSettings:
    data = dep.spec.get("data") or {}
    account = dep.spec.get("account") or {}
    path = data.get("path")
    if path and not Path(path).is_absolute():
        path = str(Path(dep.file).parent / path)
    try:
        return BacktestSettings(data=path, symbols=symbols, start=data.get("from"), end=data.get("to"),
                                fee=float(account.get("fee", DEFAULT_FEE)),
                                slippage_bps=float(account.get("slippage_bps", 0)),
                                balance=float(account.get("balance", DEFAULT_BALANCE)), gaps=data.get("gaps", "fill"),
                                risk=dep.risk, date_names=("spec.data.from", "spec.data.to"))
    except SettingsError as exc:  # the file's content, not the command line: exit 1
        raise UserError(str(exc), location=str(dep.file), hint="fix spec.account or spec.data") from None


@click.command("apply")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("-f", "--file", "file", type=click.Path(path_type=Path), help="Deployment manifest.")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
@click.option("--yes", is_flag=True, help="Do not ask before writing optimized defaults.")
def apply_cmd(path: Path | None, file: Path | None, json_out: bool, yes: bool) -> int:
    """Run the deployment in PATH (or -f FILE): backtest and optimize modes."""
    if (path is None) == (file is None):
        raise UsageError("give the deployment file once: `superbot apply FILE` or `superbot apply -f FILE`")
    file = path or file
    assert file is not None
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    dep = load_deployment(file)
    if dep.mode not in ("backtest", "optimize"):
        err_console.print(f"[red]error:[/red] mode '{dep.mode}' runs under the daemon (`superbot serve`), "
                          "which this release does not include yet; backtest and optimize run now",
                          highlight=False)
        return 1
    code = 0
    for ref in dep.strategies:
        settings = _settings(dep, ref.symbols)
        if dep.mode == "backtest":
            from engine.cli.backtest_cmds import run_backtest
            code |= run_backtest(ref.path, settings, json_out=json_out, overrides=ref.params)
        else:
            from engine.cli.optimize_cmds import DEFAULT_MIN_TRADES, run_optimize
            from engine.optimize.objective import make_objective
            from engine.optimize.run import OptimizeOptions
            opt = dep.spec.get("optimize") or {}
            options = OptimizeOptions(
                objective=make_objective(opt.get("objective", "sharpe"),
                                         int(opt.get("min_trades", DEFAULT_MIN_TRADES))),
                trials=int(opt.get("trials", 100)), sampler=opt.get("sampler", "tpe"), seed=opt.get("seed"),
                stages=opt.get("stages", "all"), storage=opt.get("storage"), study=opt.get("study"),
                walk_forward=opt.get("walk_forward"))
            code |= run_optimize(ref.path, settings, options, json_out=json_out, apply=False, yes=yes)
    return code
