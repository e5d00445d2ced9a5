"""`superbot backtest STRATEGY` and `superbot backtest list | show ID | compare A B`.

`backtest` is one command whose help lists every backtest option; when its
first argument is `list`, `show` or `compare` it hands the rest of the command
line to that subcommand instead (a strategy file of that name is written
`./list`). The engine is imported when a backtest runs, not to show help.
"""
from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compiler.validate import load_strategy
from engine.backtest.settings import BacktestSettings, SettingsError
from engine.cli.console import console, err_console
from engine.data.gaps import GAP_POLICIES
from engine.errors import UsageError
from engine.kernel.config import DEFAULT_BALANCE, DEFAULT_FEE

if TYPE_CHECKING:
    from engine.backtest.session import BacktestRun, BacktestSession

__all__ = ["BacktestCommand", "backtest", "backtest_options", "run_backtest", "settings_from"]


class BacktestCommand(click.Command):
    """`backtest STRATEGY [OPTIONS]`, or `backtest list|show|compare ...` for kept runs."""

    def __init__(self, *args: Any, subcommands: dict[str, click.Command], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands = subcommands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.subcommands:
            ctx.meta["backtest.subcommand"] = (args[0], args[1:])
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        sub = ctx.meta.get("backtest.subcommand")
        if sub is None:
            return super().invoke(ctx)
        name, rest = sub
        command = self.subcommands[name]
        # a sibling of this context, so usage reads `superbot backtest show`, without STRATEGY
        with command.make_context(f"{ctx.info_name} {name}", rest, parent=ctx.parent) as sub_ctx:
            return command.invoke(sub_ctx)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["STRATEGY", "[OPTIONS]"]

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        with formatter.section("Kept runs"):
            formatter.write_dl([(f"{ctx.command_path} {name} {_SUB_ARGS[name]}".rstrip(),
                                 cmd.get_short_help_str(formatter.width or 80))
                                for name, cmd in self.subcommands.items()])


_F = TypeVar("_F", bound=Callable[..., Any])
_SUB_ARGS = {"list": "[--strategy NAME]", "show": "ID", "compare": "A B"}


def _fill_option(ctx: click.Context, param: click.Parameter, value: object) -> object:
    ctx.meta.setdefault("superbot.fill_options", {})[param.name] = value
    return value


def _fill_settings() -> dict[str, Any]:
    """The fill-model options of the current command as BacktestSettings fields (usage errors exit 2)."""
    ctx = click.get_current_context(silent=True)
    given: dict[str, Any] = ctx.meta.get("superbot.fill_options", {}) if ctx is not None else {}
    out: dict[str, Any] = {k: bool(given[k]) for k in ("reserve_fees", "roi_on_red_entry_candle") if k in given}
    if "exit_timeout" in given:
        text = str(given["exit_timeout"]).strip().lower()
        try:
            out["exit_timeout_minutes"] = None if text == "none" else float(text)
        except ValueError:
            raise UsageError(f"--exit-timeout {given['exit_timeout']!r}: use minutes such as 10, or none") from None
    return out


def backtest_options(func: _F) -> _F:
    """The options every historical mode shares (backtest, optimize)."""
    options = [
        click.option("--data", type=click.Path(), help="Store directory or candle file (default: sample market)."),
        click.option("--symbols", help="Comma-separated symbols, e.g. BTC/USDT,ETH/USDT."),
        click.option("--from", "start", help="Start, ISO-8601 date or datetime (UTC), inclusive."),
        click.option("--to", "end", help="End, ISO-8601 date or datetime (UTC), exclusive."),
        click.option("--fee", type=float, default=DEFAULT_FEE, show_default=True, help="Fee per side (fraction)."),
        click.option("--slippage", type=float, default=0.0, show_default=True, help="Slippage in basis points."),
        click.option("--balance", type=float, default=DEFAULT_BALANCE, show_default=True,
                     help="Starting balance (quote)."),
        click.option("--gaps", type=click.Choice(GAP_POLICIES), default="fill", show_default=True,
                     help="Missing candles: fill (flat, zero volume), drop, or error."),
        click.option("--price-tick", default="auto", show_default=True,
                     help="Price tick stops are rounded to: auto (from the candles' decimals), 0 (none) or a number."),
        # fill-model choices (docs/backtest.md "Options"): kept in ctx.meta, read by settings_from
        click.option("--exit-timeout", default="10", show_default=True, expose_value=False, callback=_fill_option,
                     help="Minutes an unfilled exit order waits before it is cancelled (freqtrade's "
                          "unfilledtimeout.exit), or none."),
        click.option("--reserve-fees", is_flag=True, expose_value=False, callback=_fill_option,
                     help="An entry needs its stake and its fee free (freqtrade reserves no fee)."),
        click.option("--roi-on-red-entry-candle", is_flag=True, expose_value=False, callback=_fill_option,
                     help="Take ROI on a falling entry candle (freqtrade does not)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_from(data: str | None, symbols: str | None, start: str | None, end: str | None, fee: float,
                  slippage: float, balance: float, gaps: str, price_tick: str = "auto") -> BacktestSettings:
    syms = tuple(s.strip().upper() for s in symbols.split(",") if s.strip()) if symbols else ()
    try:
        tick = None if price_tick == "auto" else float(price_tick)
    except ValueError:
        raise UsageError(f"--price-tick {price_tick!r}: use auto, 0 or a number such as 0.01") from None
    if tick is not None and tick < 0:
        raise UsageError(f"--price-tick {price_tick}: use auto, 0 or a positive number such as 0.01")
    for option, text in (("--from", start), ("--to", end)):
        if text:
            from engine.data.timeparse import parse_date
            try:
                parse_date(text)
            except ValueError:
                raise UsageError(f"{option} {text!r} is not an ISO-8601 date or datetime (UTC)",
                                 hint="e.g. 2024-03-01 or 2024-03-01T12:00") from None
    try:
        return BacktestSettings(data=data, symbols=syms, start=start, end=end, fee=fee, slippage_bps=slippage,
                                balance=balance, gaps=gaps, price_tick=tick, **_fill_settings())
    except SettingsError as exc:  # an option's value: a usage error (exit 2), not bad file content
        raise UsageError(str(exc)) from None


def _write_trades_csv(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    from engine.kernel.trades import RECORD_FIELDS
    fields = list(RECORD_FIELDS)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


def _save(run: BacktestRun, settings: BacktestSettings, timings: dict[str, float]) -> str | None:
    from engine.store.direct import keep_run  # SQLite at the current schema: no SQLAlchemy import
    try:
        return keep_run(run.result, strategy_name=run.strategy.name, strategy_hash=run.strategy.digest,
                        params=dict(run.compiled.bound.params), metrics=run.metrics,
                        settings={**settings.as_dict(), "timings_ms": timings})
    except Exception as exc:  # keeping results must never fail the backtest itself
        err_console.print(f"[yellow]warning:[/yellow] run not kept ({exc})", highlight=False)
        return None


def run_backtest(strategy_path: Path, settings: BacktestSettings, *, json_out: bool = False,
                 trades_csv: Path | None = None, report: Path | None = None, keep: bool = True,
                 overrides: dict[str, Any] | None = None) -> int:
    from engine.backtest.session import open_session
    t0 = time.perf_counter()
    strategy = load_strategy(strategy_path)
    t_parse = (time.perf_counter() - t0) * 1e3
    session, load_ms = open_session(strategy, settings, overrides)
    run = session.run(overrides)
    timings = {"load": round(load_ms + t_parse, 3), **{k: round(v, 3) for k, v in run.timings.items()}}
    records = run.result.trades.to_records(run.result.symbols)
    run_id = _save(run, settings, timings) if keep else None
    if trades_csv:
        try:
            _write_trades_csv(trades_csv, records)
        except OSError as exc:
            raise SettingsError(f"--trades {trades_csv}: cannot write ({exc.strerror})") from None
    report_path = _write_report(report, session, run, run_id, settings) if report else None
    if json_out:
        click.echo(json.dumps({"run_id": run_id, "strategy": strategy.name, "metrics": run.metrics,
                               "trades": records, "timings": timings,
                               "risk_events": [e.to_record() for e in run.result.risk_events],
                               "gaps_filled": session.market.gaps_filled,
                               "report": str(report_path) if report_path else None}, indent=2, default=str))
        return 0
    from engine.report.terminal import render_summary
    render_summary(run.metrics, console)
    from engine.report.risk_view import render_risk_events
    render_risk_events(run.result.risk_events, console)
    if len(run.result.trades) == 0:
        n_signals = sum(int(sig[k].sum()) for sig in run.signals.values() for k in ("entry_long", "entry_short"))
        console.print(f"{n_signals} entry signals on the traded bars, none filled: check the stake against "
                      "--balance and max_open_positions" if n_signals
                      else "no entry signal on the traded bars: the entry conditions never held")
    filled = {s: n for s, n in session.market.gaps_filled.items() if n}
    if filled:
        console.print("gaps filled with flat candles: " + ", ".join(f"{s}: {n}" for s, n in filled.items()))
    console.print("time (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    if run_id:
        console.print(f"run kept as [bold]{run_id[:8]}[/bold] (superbot backtest show {run_id[:8]})")
    if trades_csv:
        console.print(f"trades written to {trades_csv}")
    if report_path:
        console.print(f"report written to [bold]{report_path}[/bold]")
    return 0


def _write_report(path: Path, session: BacktestSession, run: BacktestRun, run_id: str | None,
                  settings: BacktestSettings) -> Path:
    from engine.report.html import write_html_report
    title = f"{run.strategy.name} — {', '.join(run.result.symbols)} {run.result.timeframe}"
    return write_html_report(path, run.result, run.market.candles, session.indicators(run.compiled),
                             run.metrics, title, run_id=run_id, params=dict(run.compiled.bound.params),
                             settings=settings.as_dict())


_json_flag = click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.command("list")
@click.option("--strategy", help="Only runs of this strategy name.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Runs to list.")
@_json_flag
def list_cmd(strategy: str | None, limit: int, json_out: bool) -> None:
    """List kept backtest runs, newest first."""
    from engine.report.runs_view import render_run_list
    from engine.store.runs import open_store
    with open_store() as store:
        runs = store.list_runs(strategy=strategy, limit=limit)
    if json_out:
        _echo_json([r.to_dict() for r in runs])
    else:
        render_run_list(runs, console)


@click.command("show")
@click.argument("run_id")
@click.option("--trades", "n_trades", type=click.IntRange(min=0), default=20, show_default=True,
              help="Trades to list (0: none).")
@_json_flag
def show_cmd(run_id: str, n_trades: int, json_out: bool) -> None:
    """Show a kept run (a unique id prefix is enough)."""
    from engine.report.runs_view import render_run
    from engine.store.runs import open_store
    with open_store() as store:
        run = store.get_run(run_id)
    if json_out:
        _echo_json(run.to_dict())
    else:
        render_run(run, console, trades=n_trades)


@click.command("compare")
@click.argument("a")
@click.argument("b")
@_json_flag
def compare_cmd(a: str, b: str, json_out: bool) -> None:
    """Compare two kept runs: parameters, settings and metrics side by side."""
    from engine.report.runs_view import render_comparison
    from engine.store.runs import open_store
    with open_store() as store:
        comparison = store.compare_runs(a, b)
    if json_out:
        _echo_json(comparison.to_dict())
    else:
        render_comparison(comparison, console)


@click.command("backtest", cls=BacktestCommand, subcommands={"list": list_cmd, "show": show_cmd,
                                                               "compare": compare_cmd})
@click.argument("strategy", type=click.Path(path_type=Path))
@backtest_options
@click.option("--json", "json_out", is_flag=True, help="Print metrics, trades and timings as JSON.")
@click.option("--trades", "trades_csv", type=click.Path(path_type=Path), help="Write the trades to a CSV file.")
@click.option("--report", type=click.Path(path_type=Path), help="Write a self-contained HTML report.")
@click.option("--no-keep", is_flag=True, help="Do not keep this run in the results store.")
def backtest(strategy: Path, data: str | None, symbols: str | None, start: str | None, end: str | None,
             fee: float, slippage: float, balance: float, gaps: str, price_tick: str, json_out: bool,
             trades_csv: Path | None, report: Path | None, no_keep: bool) -> int:
    """Backtest STRATEGY on history (the sample market when no --data is given).

    Each run is kept in the results store; `list`, `show ID` and `compare A B`
    look at kept runs.
    """
    if not strategy.is_file():
        raise UsageError(f"no such file: {strategy}")
    settings = settings_from(data, symbols, start, end, fee, slippage, balance, gaps, price_tick)
    return run_backtest(strategy, settings, json_out=json_out, trades_csv=trades_csv, report=report,
                        keep=not no_keep)
