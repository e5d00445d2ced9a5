"""Signals the kernel acts on: four boolean columns per bar and symbol.

A signal at row i is what the strategy concluded on the CLOSE of bar i. The
vector driver shifts them itself (row i acts on bar i+1's open), so callers
never shift, and cannot shift the wrong way.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["SIGNAL_NAMES", "Signals", "signal_arrays"]

SIGNAL_NAMES = ("entry_long", "exit_long", "entry_short", "exit_short")


@dataclass(frozen=True)
class Signals:
    """Boolean arrays shaped [n_bars] (one symbol) or [n_bars, n_symbols]; None = never."""

    entry_long: np.ndarray | None = None
    exit_long: np.ndarray | None = None
    entry_short: np.ndarray | None = None
    exit_short: np.ndarray | None = None


def _as_bool(name: str, value: object, n_bars: int, n_symbols: int) -> np.ndarray:
    given = a = np.asarray(value)
    if a.ndim == 1 and n_symbols == 1:
        a = a.reshape(-1, 1)
    if a.shape != (n_bars, n_symbols):
        one = f" (or ({n_bars},) for one symbol)" if n_symbols == 1 else ""
        raise ValueError(f"signal {name} has shape {given.shape}; make it ({n_bars}, {n_symbols}) "
                         f"like the prices{one}")
    if a.dtype != np.bool_:
        f = a.astype(np.float64)
        a = ~np.isnan(f) & (f != 0.0)   # NaN (indicator warm-up) is no signal
    return np.ascontiguousarray(a, dtype=np.bool_)


def signal_arrays(signals: Signals | Mapping[str, object] | None, n_bars: int,
                  n_symbols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(entry_long, exit_long, entry_short, exit_short) as C-contiguous bool [n_bars, n_symbols]."""
    if signals is None:
        given: Mapping[str, object] = {}
    elif isinstance(signals, Signals):
        given = {name: getattr(signals, name) for name in SIGNAL_NAMES}
    elif isinstance(signals, Mapping):
        unknown = sorted(set(signals) - set(SIGNAL_NAMES))
        if unknown:
            raise ValueError(f"unknown signal {unknown[0]!r}; use {', '.join(SIGNAL_NAMES)}")
        given = signals
    else:
        raise TypeError(f"signals was {type(signals).__name__}; use Signals or a mapping "
                        f"with keys {', '.join(SIGNAL_NAMES)}")
    never = None  # absent signals share one array of False (a long-only run: no short columns); the
    # kernel never writes signals. Not made read-only: numba would compile another signature for it.
    out = []
    for name in SIGNAL_NAMES:
        value = given.get(name)
        if value is None:
            if never is None:
                never = np.zeros((n_bars, n_symbols), dtype=np.bool_)
            out.append(never)
        else:
            out.append(_as_bool(name, value, n_bars, n_symbols))
    el, xl, es, xs = out
    return el, xl, es, xs
