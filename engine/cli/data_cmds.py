"""`superbot data list | gaps | import | download | synth`: the candle store from the shell.

Every command works on one store: `--store DIR`, by default the user's
(`$SUPERBOT_HOME/market`, else `$XDG_DATA_HOME/superbot/market`, else
`~/.local/share/superbot/market`). Data problems (bad rows, unknown symbol,
exchange failures) are `DataError`s, printed by `engine/errors.py` as one message
with exit 1; wrong usage (including a bad option value) exits 2.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from compiler.timeframes import TIMEFRAMES, timeframe_ms
from engine.cli.console import console, err_console
from engine.data.errors import DataError, RowProblem
from engine.data.gaps import missing_ranges
from engine.data.names import check_symbol
from engine.data.store import CandleStore, StoreEntry, read_store_file
from engine.data.timeparse import format_ms, parse_date
from engine.data.validation import BAD_ROWS
from engine.data.wording import count
from engine.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])
_LISTED = 50   # skipped rows printed per file; --json has all of them


def _store_option(fn: F) -> F:
    return click.option("--store", "store", type=click.Path(path_type=Path), default=None,
                        help="Store directory (default: the user's market data store).")(fn)


def _symbols(values: tuple[str, ...]) -> list[str]:
    out = [s for v in values for s in v.replace(",", " ").split()]
    try:
        return [check_symbol(s) for s in out]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _date(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _entry_json(e: StoreEntry) -> dict[str, Any]:
    return {"exchange": e.exchange, "symbol": e.symbol, "timeframe": e.timeframe,
            "first": format_ms(e.first) if e.first is not None else None,
            "last": format_ms(e.last) if e.last is not None else None,
            "rows": e.rows, "gaps": e.gaps, "path": str(e.path)}


def _problems_json(problems: list[RowProblem] | tuple[RowProblem, ...]) -> list[dict[str, Any]]:
    return [{"row": p.row, "line": p.line, "time": format_ms(p.time) if p.time is not None else None,
             "reason": p.reason} for p in problems]


def _print_skipped(problems: list[RowProblem] | tuple[RowProblem, ...]) -> None:
    if not problems:
        return
    console.print(f"  skipped {count(len(problems), 'bad row')}:",
                  highlight=False)
    for p in problems[:_LISTED]:
        console.print(f"    {p.describe()}", highlight=False, markup=False)
    if len(problems) > _LISTED:
        console.print(f"    ... and {len(problems) - _LISTED} more (--json lists all)",
                      highlight=False)


def _select(entries: list[StoreEntry], exchange: str | None, symbols: list[str],
            timeframe: str | None) -> list[StoreEntry]:
    return [e for e in entries if (exchange is None or e.exchange == exchange)
            and (not symbols or e.symbol in symbols) and (timeframe is None or e.timeframe == timeframe)]


@click.group()
def data() -> None:
    """Market data: the candle store (download, import, list, gaps, synth)."""


@data.command("list", short_help="What the store holds: series, range, rows, gaps.")
@_store_option
@click.option("--exchange", default=None, help="Only this exchange.")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def list_cmd(store: Path | None, exchange: str | None, json_out: bool) -> None:
    """What the store holds: symbol, timeframe, first and last candle, rows, gaps.

    Without --store, the sample market (its own store, what `superbot backtest`
    uses without --data) is listed too, under its own title.
    """
    from engine.data.home import sample_store_root
    st = CandleStore(store)
    entries = _select(st.entries(), exchange, [], None)
    sample = None if store is not None else CandleStore(sample_store_root())
    sample_entries = _select(sample.entries(), exchange, [], None) if sample is not None else []
    if json_out:
        out: dict[str, Any] = {"store": str(st.root), "data": [_entry_json(e) for e in entries]}
        if sample is not None:
            out["sample_market"] = {"store": str(sample.root),
                                    "data": [_entry_json(e) for e in sample_entries]}
        click.echo(json.dumps(out, indent=2))
        return
    if entries:
        console.print(_entry_table(f"store {st.root}", entries))
    else:
        console.print(f"the store {st.root} is empty; fill it with `superbot data download`, "
                      "`superbot data import` or `superbot data synth`", highlight=False)
    if sample is None:
        return
    if sample_entries:
        console.print(_entry_table(f"sample market {sample.root} (generated; what `superbot "
                                   "backtest` uses without --data)", sample_entries))
    else:
        console.print(f"sample market: not generated yet; the first `superbot backtest` without "
                      f"--data writes it to {sample.root}", highlight=False)


def _entry_table(title: str, entries: list[StoreEntry]) -> Table:
    table = Table(title=title)
    for col, just in (("exchange", "left"), ("symbol", "left"), ("timeframe", "left"),
                      ("first", "left"), ("last", "left"), ("rows", "right"), ("gaps", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for e in entries:
        table.add_row(e.exchange, e.symbol, e.timeframe, format_ms(e.first), format_ms(e.last),
                      f"{e.rows:,}", f"{e.gaps:,}")
    return table


@data.command(short_help="The missing candles of each series, as ranges.")
@_store_option
@click.option("--exchange", default=None, help="Only this exchange.")
@click.option("--symbol", "symbols", multiple=True, help="Only these symbols (repeat or comma-separate).")
@click.option("--timeframe", type=click.Choice(TIMEFRAMES), default=None, help="Only this timeframe.")
@click.option("--all", "show_all", is_flag=True, help=f"Every range (default: the first {_LISTED} per series).")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output (every range).")
def gaps(store: Path | None, exchange: str | None, symbols: tuple[str, ...], timeframe: str | None,
         show_all: bool, json_out: bool) -> None:
    """The missing candles of each stored series, as ranges of open times."""
    st = CandleStore(store)
    rows: list[dict[str, Any]] = []
    hidden = 0
    for e in _select(st.entries(), exchange, _symbols(symbols), timeframe):
        step = timeframe_ms(e.timeframe)
        ranges = missing_ranges(read_store_file(e.path))
        for k, (start, n_missing) in enumerate(ranges):
            if k >= _LISTED and not (show_all or json_out):
                hidden += 1
                continue
            rows.append({"exchange": e.exchange, "symbol": e.symbol, "timeframe": e.timeframe,
                         "from": format_ms(start), "to": format_ms(start + (n_missing - 1) * step),
                         "missing": n_missing})
    if json_out:
        click.echo(json.dumps({"store": str(st.root), "gaps": rows}, indent=2))
        return
    if not rows:
        console.print("no gaps", highlight=False)
        return
    table = Table(title="missing candles (open times, inclusive)")
    for col in ("exchange", "symbol", "timeframe", "from", "to", "missing"):
        table.add_column(col, justify="right" if col == "missing" else "left")
    for r in rows:
        table.add_row(*(str(r[k]) for k in ("exchange", "symbol", "timeframe", "from", "to")),
                      f"{r['missing']:,}")
    console.print(table)
    if hidden:
        console.print(f"... and {count(hidden, 'more range')} (--all or --json shows them)",
                      highlight=False)
    else:
        missing = sum(int(r["missing"]) for r in rows)
        console.print(f"{count(missing, 'candle')} missing in {count(len(rows), 'range')}",
                      highlight=False)


@data.command("import", short_help="Import csv / parquet / freqtrade files into the store.")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--symbol", default=None, help="Symbol, e.g. BTC/USDT (default: from the file name).")
@click.option("--timeframe", type=click.Choice(TIMEFRAMES), default=None,
              help="Timeframe (default: from the file name).")
@click.option("--exchange", default=None, help="Exchange to file the candles under (default: imported).")
@click.option("--bad-rows", type=click.Choice(BAD_ROWS), default="error", show_default=True,
              help="error: import nothing from a file with bad rows; skip: import the other rows "
                   "and list the skipped ones.")
@_store_option
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def import_cmd(path: Path, symbol: str | None, timeframe: str | None, exchange: str | None,
               bad_rows: str, store: Path | None, json_out: bool) -> None:
    """Import candle files (csv with a header, parquet, freqtrade feather / json / json.gz).

    PATH is a file or a directory (searched recursively). Symbol and timeframe
    come from freqtrade's file names (BTC_USDT-5m.feather) unless given.
    Exit 1 when a file could not be imported.
    """
    from engine.data.importer import import_path
    if symbol is not None:
        symbol = _symbols((symbol,))[0]
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    st = CandleStore(store)
    outcomes = import_path(path, st, exchange, symbol, timeframe, bad_rows)
    failed = [o for o in outcomes if o.error is not None]
    if json_out:
        click.echo(json.dumps({"store": str(st.root), "files": [{
            "path": str(o.path),
            "status": "failed" if o.error else "skipped" if o.skipped_file else "imported",
            "reason": str(o.error) if o.error else o.skipped_file,
            "data": _entry_json(o.merged.entry) if o.merged else None,
            "added": o.merged.added if o.merged else 0,
            "replaced": o.merged.replaced if o.merged else 0,
            "skipped_rows": _problems_json(o.loaded.skipped) if o.loaded else []}
            for o in outcomes]}, indent=2))
    else:
        for o in outcomes:
            if o.error is not None:
                err_console.print(f"[red]error:[/red] {o.error}", highlight=False)
            elif o.skipped_file is not None:
                console.print(f"skipped {o.path}: {o.skipped_file}", highlight=False)
            elif o.merged is not None:
                e = o.merged.entry
                console.print(f"imported {o.path} -> {e.exchange} {e.symbol} {e.timeframe}: "
                              f"{o.merged.added:,} new, {o.merged.replaced:,} replaced; store holds "
                              f"{count(e.rows, 'candle')} {format_ms(e.first)} .. {format_ms(e.last)}, "
                              f"{e.gaps:,} missing", highlight=False)
            for note in o.notes:
                console.print(f"{o.path}: {note}", highlight=False)
            if o.loaded is not None:
                _print_skipped(o.loaded.skipped)
        if not outcomes:
            console.print(f"no candle files found in {path}", highlight=False)
    if failed:
        raise click.exceptions.Exit(1)


@data.command(short_help="Download candles through ccxt (resumable).")
@click.option("--exchange", "exchange_id", required=True, help="ccxt exchange id, e.g. binance.")
@click.option("--symbols", "symbols", multiple=True, required=True,
              help="Symbols, e.g. BTC/USDT,ETH/USDT (repeat or comma-separate).")
@click.option("--timeframes", "timeframes", multiple=True, default=("1m",), show_default=True,
              help="Timeframes, e.g. 1m,1h (repeat or comma-separate).")
@click.option("--since", required=True, help="First open time, ISO-8601 (UTC), e.g. 2024-01-01.")
@click.option("--until", default=None, help="End (exclusive), ISO-8601 (UTC); default: now.")
@click.option("--bad-rows", type=click.Choice(BAD_ROWS), default="error", show_default=True,
              help="What to do with candles the exchange sends that break the candle rules.")
@click.option("--exchange-config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="JSON file of extra ccxt settings (proxy, timeout, urls).")
@_store_option
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def download(exchange_id: str, symbols: tuple[str, ...], timeframes: tuple[str, ...], since: str,
             until: str | None, bad_rows: str, exchange_config: Path | None, store: Path | None,
             json_out: bool) -> None:
    """Download closed candles through ccxt into the store; a second run resumes.

    Only what the store lacks is fetched: before its first candle (when --since
    is earlier) and after its last one. The still-open candle is never stored.
    """
    from engine.data.download import download as run_download
    from engine.data.download import make_exchange
    tfs = [t for v in timeframes for t in v.replace(",", " ").split()]
    for tf in tfs:
        if tf not in TIMEFRAMES:
            raise UsageError(f"'{tf}' is not a timeframe; use one of {' '.join(TIMEFRAMES)}")
    syms = _symbols(symbols)
    since_ms, until_ms = _date(since, "--since"), _date(until, "--until")
    assert since_ms is not None
    if until_ms is not None and until_ms <= since_ms:
        raise UsageError("--until must be after --since")
    config = None
    if exchange_config is not None:
        try:
            config = json.loads(exchange_config.read_text())
        except ValueError as exc:
            raise UsageError(f"--exchange-config {exchange_config}: not JSON ({exc})") from None
    try:
        exchange = make_exchange(exchange_id, config)
    except DataError as exc:  # an unknown exchange id is the option's value: a usage error
        raise UsageError(str(exc), location="--exchange") from None
    st = CandleStore(store)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err_console, disable=json_out) as bar:
        tasks: dict[str, Any] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=max(total, 1))
            bar.update(tasks[label], completed=done if total else 1, total=max(total, 1))

        results = run_download(exchange, st, syms, tfs, since_ms, until_ms, bad_rows=bad_rows,
                               progress=progress)
    if json_out:
        click.echo(json.dumps({"store": str(st.root), "downloads": [{
            "symbol": r.symbol, "timeframe": r.timeframe, "added": r.added, "requests": r.requests,
            "data": _entry_json(r.entry) if r.entry else None,
            "skipped_rows": _problems_json(r.skipped)} for r in results]}, indent=2))
        return
    for r in results:
        held = (f"store holds {count(r.entry.rows, 'candle')} {format_ms(r.entry.first)} .. "
                f"{format_ms(r.entry.last)}, {r.entry.gaps:,} missing" if r.entry else "nothing stored")
        console.print(f"{exchange.id} {r.symbol} {r.timeframe}: {count(r.added, 'new candle')} in "
                      f"{count(r.requests, 'request')}; {held}", highlight=False)
        _print_skipped(r.skipped)


@data.command(short_help="Write a deterministic synthetic market into the store.")
@click.option("--symbol", default="BTC/USDT", show_default=True)
@click.option("--timeframe", type=click.Choice(TIMEFRAMES), default="1m", show_default=True)
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=365, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", default="2024-01-01", show_default=True, help="First open time (UTC).")
@click.option("--out", "--store", "store", type=click.Path(path_type=Path), default=None,
              help="Store directory to write into (default: the user's market data store).")
def synth(symbol: str, timeframe: str, days: float, seed: int, start: str,
          store: Path | None) -> None:
    """Generate a deterministic synthetic market into the store (exchange `synthetic`).

    Volatility clustering, fat tails, trends and ranges, consistent OHLC,
    volume that follows volatility. The same options give the same candles.
    """
    from engine.data.sample import write_synthetic
    from engine.data.synth import MAX_ROWS, SynthSpec, max_days
    sym = _symbols((symbol,))[0]
    _date(start, "--start")
    if days > max_days(timeframe):
        rows = int(days * 86_400_000 // timeframe_ms(timeframe))
        raise UsageError(f"--days {days:g} of {timeframe} candles would be {rows:,} candles; at most "
                         f"{MAX_ROWS:,} are generated at once", location="--days",
                         hint=f"use --days {max_days(timeframe):g} or less, or a larger --timeframe")
    st = CandleStore(store)
    path = write_synthetic(st, SynthSpec(sym, timeframe, days, seed, start))
    e = st.entry("synthetic", sym, timeframe)
    assert e is not None
    console.print(f"wrote {count(e.rows, f'synthetic {sym} {timeframe} candle')} "
                  f"{format_ms(e.first)} .. {format_ms(e.last)} to {path}", highlight=False)
