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
    """One row per kept run, newest first (the order `list_runs` returns)."""
    if not runs:
        console.print("No backtest runs kept yet; `superbot backtest STRATEGY.yaml` "
                      "keeps each run.")
        return
    table = Table(title=f"Backtest runs ({len(runs)})", title_justify="left")
    for label, justify in (("ID", "left"), ("Created (UTC)", "left"), ("Strategy", "left"),
                           ("TF", "left"), ("Symbols", "left"), ("Data", "left"),
                           ("Trades", "right"), ("Return", "right"), ("Sharpe", "right"),
                           ("Max DD", "right")):
        table.add_column(label, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        ret = run.total_return
        table.add_row(
            Text(run.id[:SHORT_ID], style="cyan"),
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
        )
    console.print(table)


def trades_table(run: Run, limit: int | None = 20) -> Table:
    """The run's trades (the last `limit` when there are more)."""
    trades = run.trades if limit is None else run.trades[-limit:]
    shown = f"last {len(trades)} of {len(run.trades)}" if len(trades) < len(run.trades) \
        else str(len(run.trades))
    table = Table(title=f"Trades ({shown})", title_justify="left")
    for label in ("Symbol", "Side", "Entry (UTC)", "Exit (UTC)", "Entry price", "Exit price",
                  "Profit", "Exit reason"):
        table.add_column(label, justify="right" if "price" in label or label == "Profit"
                         else "left")
    for t in trades:
        ratio = t["profit_ratio"]
        table.add_row(t["symbol"], t["side"], format_value(t["entry_time"], "time"),
                      format_value(t["exit_time"], "time"), f"{t['entry_price']:.8g}",
                      f"{t['exit_price']:.8g}",
                      Text(format_value(ratio, "spct"), style="green" if ratio > 0 else "red"),
                      t["exit_reason"])
    return table


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
        console.print(trades_table(run, trades))


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
    table = Table(title=f"Compare {a.id[:SHORT_ID]} (A) → {b.id[:SHORT_ID]} (B)",
                  title_justify="left")
    table.add_column("Metric", style="bold")
    table.add_column(f"A {a.id[:SHORT_ID]}", justify="right")
    table.add_column(f"B {b.id[:SHORT_ID]}", justify="right")
    table.add_column("B - A", justify="right")
    deltas = {m.key: m for m in comparison.metrics}
    for field in headline_fields():
        va, vb = a.metrics.get(field.key), b.metrics.get(field.key)
        delta = deltas[field.key].delta if field.key in deltas else None
        table.add_row(field.label, format_value(va, field.kind, currency),
                      format_value(vb, field.kind, currency), _delta_text(delta, field))
    console.print(f"[bold]A[/] {a.strategy_name} · {a.timeframe} · {_range(a)}   "
                  f"[bold]B[/] {b.strategy_name} · {b.timeframe} · {_range(b)}")
    for note in comparison.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(table)
    if comparison.params:
        params = Table(title="Parameter changes", title_justify="left")
        for label in ("", "Param", "A", "B"):
            params.add_column(label)
        for change in comparison.params:
            params.add_row(change.op, change.path,
                           "" if change.op == "+" else str(change.old),
                           "" if change.op == "-" else str(change.new))
        console.print(params)
    else:
        console.print("Same parameters.")
