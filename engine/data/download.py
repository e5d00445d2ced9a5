"""Downloading candles from an exchange through ccxt into the store.

Steps of `download` for each (symbol, timeframe):
1. what is missing (`_missing_ranges`): [since, first stored) and
   [after the last stored candle, until or now); a second run therefore asks
   only for what it does not have;
2. paginated `fetch_ohlcv` from a cursor (`_fetch_range`): each page starts
   after the last candle received; an empty page skips one page-width
   forward (exchanges with holes in their history), a page of older candles
   only ends the range, candles before the cursor are ones already asked
   for and are left out; network errors and rate
   limit answers are retried with backoff (`_fetch_page`); ccxt's own rate
   limiter (`enableRateLimit`) spaces every request;
3. each page is checked by the candle rules (`engine.data.validation`,
   row positions counted from the page's first candle); the still-open last
   candle (open time + timeframe > now) is never kept;
4. candles are merged into the store every `flush_every` candles and at the
   end, also when the download stops on an error, so an interrupted run
   resumes where it stopped.
"""
from __future__ import annotations

import difflib
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.timeframes import timeframe_ms
from engine.data.candles import FIELDS, Candles
from engine.data.errors import BadRowsError, DataError, DownloadError, RowProblem
from engine.data.store import CandleStore, StoreEntry
from engine.data.timeparse import format_ms, now_ms
from engine.data.validation import RawCandles, apply_policy

__all__ = ["DownloadResult", "ProgressFn", "download", "make_exchange"]

ProgressFn = Callable[[str, int, int], None]   # (label, candles done, candles expected)
_RETRIES = 5


def make_exchange(exchange_id: str, config: dict[str, Any] | None = None) -> Any:
    """A ccxt exchange with its rate limiter on; `config` adds constructor settings
    (proxy, timeout, urls ...)."""
    import ccxt
    if exchange_id not in ccxt.exchanges:
        close = difflib.get_close_matches(exchange_id, ccxt.exchanges, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise DataError(f"unknown exchange '{exchange_id}'{hint} (ccxt ids such as binance, "
                        "kucoin, okx, bybit, bitget)")
    return getattr(ccxt, exchange_id)({**(config or {}), "enableRateLimit": True})


@dataclass(frozen=True)
class DownloadResult:
    """One (symbol, timeframe): what was added, and what the store now holds."""

    symbol: str
    timeframe: str
    added: int
    requests: int
    skipped: tuple[RowProblem, ...]
    entry: StoreEntry | None

    @property
    def gaps(self) -> int:
        return 0 if self.entry is None else self.entry.gaps


def _missing_ranges(entry: StoreEntry | None, since: int, end: int, step: int) -> list[tuple[int, int]]:
    if entry is None or entry.first is None or entry.last is None:
        return [(since, end)] if since < end else []
    ranges = []
    if since < entry.first:
        ranges.append((since, min(entry.first, end)))
    tail = max(since, entry.last + step)
    if tail < end:
        ranges.append((tail, end))
    return ranges


def _fetch_page(exchange: Any, symbol: str, timeframe: str, since: int, limit: int | None,
                retry_delay: float) -> list[list[Any]]:
    import ccxt
    for attempt in range(_RETRIES + 1):
        try:
            return list(exchange.fetch_ohlcv(symbol, timeframe, since=since, limit=limit))
        except ccxt.NetworkError as exc:          # timeouts, 5xx, rate-limit answers
            if attempt == _RETRIES:
                raise DownloadError(f"{exchange.id} {symbol} {timeframe}: still failing after "
                                    f"{_RETRIES} retries ({type(exc).__name__}: {exc}); "
                                    "run the same command again later to resume",
                                    retry=True) from exc
            _time.sleep(retry_delay * 2**attempt)
        except ccxt.ExchangeError as exc:
            raise DownloadError(f"{exchange.id} {symbol} {timeframe}: the exchange refused the "
                                f"request ({type(exc).__name__}: {exc})") from exc
    raise AssertionError("unreachable")


def _page_candles(rows: list[list[Any]], symbol: str, timeframe: str, label: str,
                  bad_rows: str) -> tuple[Candles, list[RowProblem]]:
    n = len(rows)
    arr = np.full((n, 6), np.nan)
    unreadable = np.zeros((n, 6), dtype=bool)
    for i, r in enumerate(rows):
        for k in range(6):
            value = r[k] if k < len(r) else None
            try:
                arr[i, k] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                unreadable[i, k] = True
    time = np.nan_to_num(arr[:, 0]).astype(np.int64)
    raw = RawCandles(time, {f: arr[:, k + 1] for k, f in enumerate(FIELDS)},
                     bad_time=~np.isfinite(arr[:, 0]) | unreadable[:, 0],
                     unreadable={f: unreadable[:, k + 1] for k, f in enumerate(FIELDS)})
    return apply_policy(raw, symbol, timeframe, label, bad_rows)


def _fetch_range(exchange: Any, symbol: str, timeframe: str, start: int, end: int, now: int,
                 limit: int | None, bad_rows: str, retry_delay: float,
                 emit: Callable[[Candles], None], tick: Callable[[int], None]) -> tuple[int, list[RowProblem]]:
    """Fetch open times [start, end), passing each page's closed candles to `emit`."""
    step = timeframe_ms(timeframe)
    cursor, requests, skipped = start, 0, []
    page_width = (limit or 500) * step
    while cursor < end:
        rows = _fetch_page(exchange, symbol, timeframe, cursor, limit, retry_delay)
        requests += 1
        label = (f"{exchange.id} {symbol} {timeframe} page from {format_ms(cursor)} "
                 "(rows counted from the page's first candle)")
        try:
            page, bad = _page_candles(rows, symbol, timeframe, label, bad_rows)
        except BadRowsError as exc:
            raise BadRowsError(exc.source, exc.problems,
                               hint="nothing of this page was stored; pass --bad-rows skip to "
                                    "store the other candles and list the skipped ones") from None
        skipped += bad
        if len(page) and page.time[-1] < cursor:
            break                                   # only older candles: nothing newer exists
        closed = (page.time >= cursor) & (page.time < end) & (page.time + step <= now)
        kept = page if closed.all() else _select(page, closed)
        if len(kept):
            emit(kept)
            tick(int(kept.time[-1]) + step - cursor)
            cursor = int(kept.time[-1]) + step
        elif len(page):
            break                                   # only candles at or past the end: done
        else:
            tick(min(page_width, end - cursor))
            cursor += page_width                    # an empty page: skip over a hole
    return requests, skipped


def _select(c: Candles, mask: np.ndarray) -> Candles:
    return Candles.from_arrays(c.symbol, c.timeframe, c.time[mask],
                               *(c.column(f)[mask] for f in FIELDS))


def _concat(parts: list[Candles]) -> Candles:
    first = parts[0]
    return Candles.from_arrays(first.symbol, first.timeframe,
                               np.concatenate([p.time for p in parts]),
                               *(np.concatenate([p.column(f) for p in parts]) for f in FIELDS))


def _check(exchange: Any, symbols: Sequence[str], timeframes: Sequence[str]) -> None:
    markets = exchange.load_markets()
    for symbol in symbols:
        if symbol not in markets:
            close = difflib.get_close_matches(symbol, list(markets), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise DataError(f"{exchange.id} has no market '{symbol}'{hint}")
    for tf in timeframes:
        timeframe_ms(tf)
        if getattr(exchange, "timeframes", None) and tf not in exchange.timeframes:
            raise DataError(f"{exchange.id} has no {tf} candles; it has "
                            f"{', '.join(exchange.timeframes)}")


def _page_limit(exchange: Any, symbol: str) -> int | None:
    market = exchange.market(symbol)
    kind = "spot" if market.get("spot") else "swap" if market.get("swap") else market.get("type")
    features = (getattr(exchange, "features", None) or {}).get(kind) or {}
    if kind in ("swap", "future") and isinstance(features, dict):
        features = features.get("linear" if market.get("linear") else "inverse") or {}
    ohlcv = features.get("fetchOHLCV") if isinstance(features, dict) else None
    limit = ohlcv.get("limit") if isinstance(ohlcv, dict) else None
    return int(limit) if limit else None


def download(exchange: Any, store: CandleStore, symbols: Sequence[str], timeframes: Sequence[str],
             since: int, until: int | None = None, *, limit: int | None = None,
             now: int | None = None, bad_rows: str = "error", progress: ProgressFn | None = None,
             flush_every: int = 50_000, retry_delay: float = 1.0) -> list[DownloadResult]:
    """Fetch closed candles with open time in [since, until) that the store lacks.

    `limit` is the page size (default: the exchange's maximum); `now` the clock
    that decides which candle is still open (default: the wall clock).
    """
    _check(exchange, symbols, timeframes)
    results = []
    for symbol in symbols:
        page_limit = limit or _page_limit(exchange, symbol)
        for tf in timeframes:
            results.append(_download_one(exchange, store, symbol, tf, since, until, page_limit,
                                         now, bad_rows, progress, flush_every, retry_delay))
    return results


def _download_one(exchange: Any, store: CandleStore, symbol: str, tf: str, since: int,
                  until: int | None, limit: int | None, now: int | None, bad_rows: str,
                  progress: ProgressFn | None, flush_every: int,
                  retry_delay: float) -> DownloadResult:
    step = timeframe_ms(tf)
    clock = now if now is not None else now_ms()
    end = min(until if until is not None else clock, clock - step + 1)
    ranges = _missing_ranges(store.entry(exchange.id, symbol, tf), since, end, step)
    label = f"{symbol} {tf}"
    total = sum(b - a for a, b in ranges) // step
    done = 0
    pending: list[Candles] = []
    added = requests = 0
    skipped: list[RowProblem] = []

    def flush() -> None:
        nonlocal added
        if pending:
            added += store.merge(exchange.id, _concat(pending)).added
            pending.clear()

    def emit(c: Candles) -> None:
        pending.append(c)
        if sum(len(p) for p in pending) >= flush_every:
            flush()

    def tick(span_ms: int) -> None:
        nonlocal done
        done = min(total, done + span_ms // step)
        if progress is not None:
            progress(label, done, total)

    if progress is not None:
        progress(label, 0, total)
    try:
        for start, stop in ranges:
            n, bad = _fetch_range(exchange, symbol, tf, start, stop, clock, limit, bad_rows,
                                  retry_delay, emit, tick)
            requests += n
            skipped += bad
    finally:
        flush()
    if progress is not None:
        progress(label, total, total)
    return DownloadResult(symbol, tf, added, requests, tuple(skipped),
                          store.entry(exchange.id, symbol, tf))


