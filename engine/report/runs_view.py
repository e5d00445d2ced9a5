"""Terminal views of kept runs: `superbot backtest list`, `show ID` and `compare A B`.

Rendering only; the CLI opens the store, looks the runs up and hands the
records (engine/store/records.py) here.
"""
from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.report.display import (
    Field,
    format_value,
    headline_fields,
    quote_currency,
    sign,
)
from engine.report.fit import Cell, Col, fitted_table
from engine.report.terminal import render_summary
from engine.store.compare import MEASUREMENTS, Comparison
from engine.store.records import Run, RunSummary

__all__ = ["render_comparison", "render_run", "render_run_list", "trades_table"]

SHORT_ID = 8


def _range(run: RunSummary) -> str:
    start = format_value(run.data_start, "time")[:10]
    end = format_value(run.data_end, "time")[:10]
    return f"{start} → {end}"


def render_run_list(runs: Sequence[RunSummary], console: Console) -> None:
    """One row per kept run, newest first (the order `list_runs` returns); ids and figures never cut."""
    if not runs:
        console.print("No backtest runs kept yet; `superbot backtest STRATEGY.yaml` "
                      "keeps each run.")
        return
    cols = [Col("ID", keep=True, style="cyan"), Col("Created (UTC)", keep=True, drop=2),
            Col("Strategy"), Col("TF", keep=True), Col("Symbols", drop=1), Col("Data", keep=True, drop=3),
            Col("Trades", "right", keep=True), Col("Return", "right", keep=True),
            Col("Sharpe", "right", keep=True), Col("Max DD", "right", keep=True)]
    rows: list[list[Cell]] = []
    for run in runs:
        ret = run.total_return
        rows.append([
            run.id[:SHORT_ID],
            run.created_at.strftime("%Y-%m-%d %H:%M"),
            run.strategy_name,
            run.timeframe,
            ", ".join(run.symbols),
            _range(run),
            format_value(run.n_trades, "int"),
            Text(format_value(ret, "spct"),
                 style="green" if ret and ret > 0 else "red" if ret and ret < 0 else ""),
            format_value(run.sharpe, "ratio"),
            format_value(run.max_drawdown, "pct"),
        ])
    table, _ = fitted_table(console, cols, rows, title=f"Backtest runs ({len(runs)})", title_justify="left")
    console.print(table)


def trades_table(run: Run, limit: int | None = 20, console: Console | None = None) -> Table:
    """The run's trades (the last `limit` when there are more); below 110 columns entry and exit share a cell."""
    trades = run.trades if limit is None else run.trades[-limit:]
    shown = f"last {len(trades)} of {len(run.trades)}" if len(trades) < len(run.trades) \
        else str(len(run.trades))
    stacked = console is not None and console.width < _TRADES_WIDE
    if stacked:  # entry over exit: the times and prices stay whole at 80 columns
        cols = [Col("Symbol", keep=True), Col("Side", drop=1), Col("Entry / exit (UTC)", keep=True),
                Col("Entry / exit price", "right", keep=True), Col("Profit", "right", keep=True),
                Col("Exit reason")]
    else:
        cols = [Col("Symbol", keep=True), Col("Side"), Col("Entry (UTC)", keep=True), Col("Exit (UTC)", keep=True),
                Col("Entry price", "right", keep=True), Col("Exit price", "right", keep=True),
                Col("Profit", "right", keep=True), Col("Exit reason")]
    rows: list[list[Cell]] = []
    for t in trades:
        ratio = t["profit_ratio"]
        profit = Text(format_value(ratio, "spct"), style="green" if ratio > 0 else "red")
        entry, exit_ = format_value(t["entry_time"], "time"), format_value(t["exit_time"], "time")
        p_in, p_out = f"{t['entry_price']:.8g}", f"{t['exit_price']:.8g}"
        if stacked:
            rows.append([t["symbol"], t["side"], f"{entry}\n{exit_}", f"{p_in}\n{p_out}", profit, t["exit_reason"]])
        else:
            rows.append([t["symbol"], t["side"], entry, exit_, p_in, p_out, profit, t["exit_reason"]])
    table, _ = fitted_table(console or Console(width=_TRADES_WIDE), cols, rows, title=f"Trades ({shown})",
                            title_justify="left")
    return table


_TRADES_WIDE = 110  # columns the one-line trade rows need


def render_run(run: Run, console: Console, *, trades: int | None = 20) -> None:
    """What was run (strategy, hash, data, params, settings), its metrics and trades."""
    console.print(f"[bold]Run[/] [cyan]{run.id}[/]  created "
                  f"{run.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
                  f"  superbot {run.superbot_version}")
    console.print(f"[bold]Strategy[/] {run.strategy_name}  [dim]content {run.strategy_hash}[/]")
    console.print(f"[bold]Data[/] {', '.join(run.symbols)} · {run.timeframe} · "
                  f"{format_value(run.data_start, 'time')} → {format_value(run.data_end, 'time')}")
    if run.params:
        console.print("[bold]Params[/] " + "  ".join(f"{k}={v}" for k, v in run.params.items()))
    inputs = {k: v for k, v in run.settings.items() if k not in MEASUREMENTS}
    if inputs:
        console.print("[bold]Settings[/] " + "  ".join(f"{k}={v}" for k, v in inputs.items()))
    for key in sorted(MEASUREMENTS & run.settings.keys()):
        value = run.settings[key]
        shown = ("  ".join(f"{k} {v:,.0f}" if isinstance(v, (int, float)) else f"{k} {v}"
                           for k, v in value.items()) if isinstance(value, dict) else str(value))
        console.print(f"[bold]{key}[/] {shown}")
    console.print()
    render_summary(run.metrics, console)
    if run.trades and trades != 0:
        console.print(trades_table(run, trades, console))


def _delta_text(delta: float | None, field: Field) -> Text:
    if delta is None:
        return Text("")
    if delta == 0:
        return Text("±0", style="dim")
    kind = {"spct": "spct", "pct": "spct"}.get(field.kind, field.kind)
    if kind == "duration":
        text = ("+" if delta >= 0 else "-") + format_value(abs(delta), "duration")
    elif kind in ("ratio", "money", "balance", "float"):
        text = f"{delta:+,.2f}"
    elif kind == "int":
        text = f"{int(delta):+,}"
    else:
        text = format_value(delta, kind)
    good = sign(delta, field.better)
    return Text(text, style="green" if good > 0 else "red" if good < 0 else "")


def render_comparison(comparison: Comparison, console: Console) -> None:
    """Headline metrics of A and B with B - A, input notes and parameter changes."""
    a, b = comparison.a, comparison.b
    currency = quote_currency(a.symbols) if a.symbols == b.symbols else ""
    deltas = {m.key: m for m in comparison.metrics}
    rows: list[list[Cell]] = []
    for field in headline_fields():
        va, vb = a.metrics.get(field.key), b.metrics.get(field.key)
        delta = deltas[field.key].delta if field.key in deltas else None
        rows.append([field.label, format_value(va, field.kind, currency),
                     format_value(vb, field.kind, currency), _delta_text(delta, field)])
    cols = [Col("Metric", style="bold"), Col(f"A {a.id[:SHORT_ID]}", "right", keep=True),
            Col(f"B {b.id[:SHORT_ID]}", "right", keep=True), Col("B - A", "right", keep=True)]
    table, _ = fitted_table(console, cols, rows, title=f"Compare {a.id[:SHORT_ID]} (A) → {b.id[:SHORT_ID]} (B)",
                            title_justify="left")
    console.print(f"[bold]A[/] {a.strategy_name} · {a.timeframe} · {_range(a)}   "
                  f"[bold]B[/] {b.strategy_name} · {b.timeframe} · {_range(b)}")
    for note in comparison.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(table)
    if comparison.params:
        changes: list[list[Cell]] = [[change.op, change.path, "" if change.op == "+" else str(change.old),
                                      "" if change.op == "-" else str(change.new)]
                                     for change in comparison.params]
        params, _ = fitted_table(console, [Col("", keep=True), Col("Param"), Col("A", keep=True),
                                           Col("B", keep=True)], changes,
                                 title="Parameter changes", title_justify="left")
        console.print(params)
    else:
        console.print("Same parameters.")
