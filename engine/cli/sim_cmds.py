"""`superbot exchange-sim`: a Binance look-alike on 127.0.0.1 for paper, demo and chaos runs.

The server itself is `engine/sim` (docs/exchange-sim.md); this module turns
options into its settings: candles from `--data` or the sample market, the
clock's `--speed`, `--faults` and `--seed`. Bad values exit 2 naming the option.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from engine.errors import UsageError

__all__ = ["exchange_sim"]


def _speed(text: str) -> float | str | None:
    if text in ("max", "manual"):
        return None if text == "manual" else "max"
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise UsageError(f"--speed was {text!r}", location="--speed",
                         hint="candles per second (e.g. 1, 60, 0.5), max, or manual")
    return value


def _decimal(text: str, option: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not 0 <= value < 1:
        raise UsageError(f"{option} was {text!r}", location=option,
                         hint="a fraction between 0 and 1, e.g. 0.001 for 0.1%")
    return text


def _balances(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (p.strip() for p in text.split(",") if p.strip()):
        asset, _, amount = item.partition("=")
        try:
            ok = Decimal(amount).is_finite() and Decimal(amount) >= 0 and asset.isalnum()
        except InvalidOperation:
            ok = False
        if not ok:
            raise UsageError(f"--balance item {item!r} is not ASSET=AMOUNT", location="--balance",
                             hint="e.g. --balance USDT=10000,BTC=0.5")
        out[asset.upper()] = amount
    return out


@click.command("exchange-sim")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: a free one, printed).")
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Candle store or file (default: the sample market).")
@click.option("--symbols", default=None, help="Symbols to serve, comma-separated (default: all held).")
@click.option("--timeframe", default="1m", show_default=True, help="Timeframe of the candles played.")
@click.option("--start", default=None, help="Clock start (date); default: 1000 candles in.")
@click.option("--speed", default="1", show_default=True,
              help="Candles per second, `max`, or `manual` (only POST /sim/advance moves the clock).")
@click.option("--faults", default="", help="e.g. 429:0.05,5xx:every20,partial_fill (docs/exchange-sim.md).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault draws.")
@click.option("--hold", type=click.FloatRange(0, 3600), default=30.0, show_default=True,
              help="Seconds a timeout_after_accept answer is held back.")
@click.option("--weight-limit", type=click.IntRange(0), default=6000, show_default=True,
              help="Request weight per minute before a 429 (0: no limit).")
@click.option("--retry-after", type=click.IntRange(0, 86_400), default=1, show_default=True,
              help="Retry-After seconds of the 429 and 418 faults.")
@click.option("--balance", "balance", default=None, help="Start balances, e.g. USDT=10000,BTC=1.")
@click.option("--commission", default="0.001", show_default=True, help="Fee per fill (fraction).")
@click.option("--slippage", default="0", show_default=True, help="Market-order slippage (fraction).")
@click.option("--api-key", default="sim-key", show_default=True, envvar="SUPERBOT_SIM_KEY")
@click.option("--api-secret", default="sim-secret", show_default=True, envvar="SUPERBOT_SIM_SECRET")
def exchange_sim(port: int, data: Path | None, symbols: str | None, timeframe: str,
                 start: str | None, speed: str, faults: str, seed: int, hold: float, weight_limit: int,
                 retry_after: int, balance: str | None, commission: str, slippage: str, api_key: str,
                 api_secret: str) -> None:
    """Serve a Binance-compatible spot API on 127.0.0.1 that plays candles and matches orders."""
    from compiler.timeframes import TIMEFRAMES
    from engine.data.load import data_source, load_candles
    from engine.data.sample import ensure_sample_market
    from engine.data.timeparse import format_ms, parse_date
    from engine.sim import ExchangeSim, Market
    from engine.sim.faults import parse_faults

    if timeframe not in TIMEFRAMES:
        raise UsageError(f"--timeframe was {timeframe!r}", location="--timeframe",
                         hint="one of " + ", ".join(TIMEFRAMES))
    parse_faults(faults)                       # option errors before any data is read
    clock = _speed(speed)
    balances = _balances(balance) if balance else None
    start_ms = None
    if start is not None:
        try:
            start_ms = parse_date(start)
        except ValueError as exc:
            raise UsageError(f"--start: {exc}", location="--start") from None
    src = data_source(data if data is not None else ensure_sample_market())
    held = src.symbols(timeframe)
    wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else held
    unknown = [s for s in wanted if s not in held]
    if unknown:
        raise UsageError(f"--symbols: {', '.join(unknown)} not in {src.path}", location="--symbols",
                         hint="held at " + timeframe + ": " + (", ".join(held) or "nothing"))
    market = Market([load_candles(src, s, timeframe) for s in wanted], start=start_ms)
    sim = ExchangeSim(market, port=port, seed=seed, faults=faults, speed=clock,
                      keys={api_key: api_secret}, balances=balances,
                      commission=_decimal(commission, "--commission"),
                      slippage=_decimal(slippage, "--slippage"), hold=hold, retry_after=retry_after,
                      weight_limit=weight_limit)

    def ready() -> None:
        click.echo(f"exchange-sim: {', '.join(sorted(market.candles))} {market.timeframe} from "
                   f"{format_ms(market.now)} on {sim.url} (key {api_key})", err=True)

    try:
        asyncio.run(sim.serve_forever(ready))
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", location="--port",
                         hint="choose another port, or 0 for a free one") from None
    except KeyboardInterrupt:
        click.echo("exchange-sim: stopped", err=True)
