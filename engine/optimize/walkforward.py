"""Walk-forward folds: optimize in sample, judge out of sample, fold after fold.

The traded range is cut into K+1 consecutive, equal chunks. Fold i optimizes
on chunk i (or, anchored, on chunks 0..i) and evaluates the best parameters on
chunk i+1, which the optimizer never saw. An out-of-sample result far below
the in-sample one is the signature of overfitting, and the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Fold", "collapse_warning", "make_folds"]


@dataclass(frozen=True)
class Fold:
    index: int
    in_sample: tuple[int, int]       # bar span [a, b) of the loaded history
    out_of_sample: tuple[int, int]


def make_folds(start: int, stop: int, k: int, anchored: bool = False, min_bars: int = 50) -> list[Fold]:
    if k < 1:
        raise ValueError(f"--walk-forward {k}: use 2 or more folds")
    size = (stop - start) // (k + 1)
    if size < min_bars:
        raise ValueError(f"--walk-forward {k} leaves {size} bars per window; use fewer folds or more data")
    edges = [start + i * size for i in range(k + 1)] + [stop]
    return [Fold(i, (start if anchored else edges[i], edges[i + 1]), (edges[i + 1], edges[i + 2]))
            for i in range(k)]


def collapse_warning(in_sample: float | None, out_of_sample: float | None, ratio_floor: float = 0.5) -> str | None:
    """Why the out-of-sample result looks like overfitting, or None."""
    if in_sample is None or out_of_sample is None:
        return "no valid out-of-sample value (too few trades?)"
    if in_sample > 0 and out_of_sample <= 0:
        return "out-of-sample objective is not positive while in-sample was"
    if in_sample > 0 and out_of_sample / in_sample < ratio_floor:
        return f"out-of-sample is below {ratio_floor:.0%} of in-sample"
    return None
