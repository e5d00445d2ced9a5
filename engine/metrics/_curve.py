"""One compiled pass over an equity curve: return moments and drawdowns together.

A year of 1m bars is half a million points; the numpy forms of these figures
each make several curve-sized temporaries (running max, returns, squared
deviations), which cost more than the simulation itself. This pass computes
all of them from the per-bar equity and the starting balance, without
building the curve. Definitions are those of `returns.py`, and the tests
check both agree.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["curve_pass", "return_moments", "union_length"]


@njit(cache=True)
def return_moments(equity: np.ndarray, start: float):  # type: ignore[no-untyped-def]
    """(mean, sample std, downside deviation, n_returns) of the returns of [start, equity...].

    The part of `curve_pass` a Sharpe or Sortino needs: an optimizer trial
    scoring one of them skips the drawdown scan, which costs as much again.
    """
    n = equity.shape[0]
    # returns: mean and downside deviation (over all bars), then the sample deviation
    total = 0.0
    down = 0.0
    if n > 0:
        x = (equity[0] - start) / start if start > 0.0 else 0.0
        total, down = x, min(x, 0.0) ** 2
    for k in range(1, n):  # no loop-carried value: LLVM vectorizes this loop
        prev = equity[k - 1]
        x = equity[k] / prev - 1.0 if prev > 0.0 else 0.0
        total += x
        down += min(x, 0.0) ** 2
    mean = total / n if n > 0 else math.nan
    # deviations in a second pass: the sum-of-squares shortcut cancels to noise when returns
    # are (nearly) constant, and would give a huge Sharpe instead of none
    sq = 0.0
    if n > 0:
        x = (equity[0] - start) / start if start > 0.0 else 0.0
        sq = (x - mean) ** 2
    for k in range(1, n):
        prev = equity[k - 1]
        x = equity[k] / prev - 1.0 if prev > 0.0 else 0.0
        sq += (x - mean) ** 2
    std = math.sqrt(sq / (n - 1)) if n > 1 else math.nan
    downside = math.sqrt(down / n) if n > 0 else math.nan
    return mean, std, downside, n


@njit(cache=True)
def curve_pass(equity: np.ndarray, start: float):  # type: ignore[no-untyped-def]
    """Stats of the curve [start, equity...] (point 0 = start, point i = close of bar i-1).

    Returns (mean, sample std, downside deviation, n_returns,
             depth, depth_abs, peak, trough, recovery, duration, longest_peak, longest_bars);
    indices are curve positions, -1 for none.
    """
    n = equity.shape[0]
    m = n + 1
    mean, std, downside, n = return_moments(equity, start)

    # drawdowns: underwater runs [run_start, run_end), the peak is run_start - 1
    peak_v = start
    min_dd = 0.0
    depth_abs = 0.0
    peak_i = -1
    trough = -1
    recovery = -1
    duration = 0
    longest_peak = -1
    longest_bars = 0
    run_start = -1
    trough_run = -1
    floor = peak_v  # a value below this would deepen the deepest drawdown: peak * (1 - depth)
    for i in range(m):
        v = start if i == 0 else equity[i - 1]
        if v > peak_v:
            peak_v = v
            floor = peak_v * (1.0 + min_dd)
        under = v < peak_v
        if under:
            if run_start < 0:
                run_start = i
            if v >= floor or peak_v <= 0.0:  # cheap test first: most bars cannot be a new trough
                continue
            dd = v / peak_v - 1.0
            if dd < min_dd:
                floor = v
                min_dd = dd
                trough = i
                trough_run = run_start
                peak_i = run_start - 1
                depth_abs = (start if peak_i == 0 else equity[peak_i - 1]) - v
                recovery = -1
                duration = -1
        elif run_start >= 0:  # a run ends: recovered at i
            length = i - run_start + 1
            if length > longest_bars:
                longest_bars = length
                longest_peak = run_start - 1
            if run_start == trough_run and duration < 0:
                recovery = i
                duration = length
            run_start = -1
    if run_start >= 0:  # still underwater at the end
        length = m - run_start
        if length > longest_bars:
            longest_bars = length
            longest_peak = run_start - 1
        if run_start == trough_run and duration < 0:
            duration = length
    if trough < 0:
        duration = 0
    return (mean, std, downside, n, -min_dd, depth_abs, peak_i, trough, recovery, duration,
            longest_peak, longest_bars)


@njit(cache=True)
def union_length(entry: np.ndarray, exit_: np.ndarray, n_bars: int) -> int:
    """Bars covered by at least one [entry, exit) interval (intervals sorted by entry)."""
    covered = 0
    end = -1
    for k in range(entry.shape[0]):
        a = min(max(entry[k], 0), n_bars)
        b = min(max(exit_[k], 0), n_bars)
        if b <= a:
            continue
        if a > end:
            covered += b - a
            end = b
        elif b > end:
            covered += b - end
            end = b
    return covered
