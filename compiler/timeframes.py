"""Durations and timeframes: parsing, and the rules a timeframe must follow."""
from __future__ import annotations

import re

__all__ = ["MINUTE_MS", "TIMEFRAMES", "duration_ms", "timeframe_error", "timeframe_ms"]

TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
MINUTE_MS = 60_000      # milliseconds per minute: the one definition (engine and compiler import it)
_UNIT_MS = {"m": MINUTE_MS, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^([0-9]{1,12})([mhdw])\Z")  # 12 digits: beyond any history, and int() stays cheap


def duration_ms(text: str) -> int | None:
    """`'90m'` -> 5_400_000; None when the text is not a duration."""
    match = _DURATION.match(str(text).strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def timeframe_ms(tf: str) -> int:
    ms = duration_ms(tf)
    if ms is None or tf not in TIMEFRAMES:
        raise ValueError(f"not a timeframe: {tf!r}")
    return ms


def timeframe_hint(tf: str) -> str:
    """What to write instead of `tf`: for a well-formed duration, the supported timeframes nearest to it."""
    supported = f"supported timeframes: {' '.join(TIMEFRAMES)}"
    ms = duration_ms(tf)
    if ms is None:
        from dsl.suggest import did_you_mean
        found = did_you_mean(tf, TIMEFRAMES)
        return f"{found} ({supported})" if found else supported
    below = [t for t in TIMEFRAMES if timeframe_ms(t) < ms]
    above = [t for t in TIMEFRAMES if timeframe_ms(t) > ms]
    nearest = " or ".join(t for t in (below[-1:] + above[:1]))
    return f"use {nearest}; {supported}"


def timeframe_error(tf: str, base: str) -> tuple[str, str] | None:
    """(message, hint) when `tf` cannot be used in a strategy whose timeframe is `base`."""
    if tf not in TIMEFRAMES:
        well_formed = duration_ms(tf) is not None
        shown = tf if len(tf) <= 24 else f"{tf[:20]}…{tf[-1]}"
        return (f"'{shown}' is not a supported timeframe" if well_formed else f"'{shown}' is not a timeframe",
                timeframe_hint(tf))
    if base not in TIMEFRAMES:
        return None
    ms, base_ms = timeframe_ms(tf), timeframe_ms(base)
    if ms < base_ms:
        return (f"timeframe {tf} is smaller than the strategy's timeframe {base}",
                f"use {base} or a larger timeframe; a condition cannot look inside a {base} candle")
    if ms % base_ms:
        return (f"timeframe {tf} is not a whole multiple of the strategy's timeframe {base}",
                "pick a timeframe made of whole execution candles")
    return None
