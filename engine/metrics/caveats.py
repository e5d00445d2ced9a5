"""Caveats attached to a metrics dict: figures that are correct but easy to misread.

An annualized figure extrapolates: a one-day run that made 2.4 % "returns"
+240,387 % a year. The number is right by its definition, so it is not
dropped; the metrics carry a `warnings` list that names the figures
concerned, and the reports flag them next to the value.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ANNUALIZED_KEYS", "SHORT_RUN_DAYS", "flagged_keys", "short_run_warning"]

SHORT_RUN_DAYS = 30  # below this, annualized figures are extrapolations of a few weeks at most

# Figures scaled to a year: by compounding (the return) or by sqrt(periods per year).
ANNUALIZED_KEYS = ("annualized_return", "volatility", "sharpe", "sortino", "calmar",
                   "sharpe_ft", "sortino_ft", "calmar_ft")


def short_run_warning(span_ms: int) -> dict[str, Any] | None:
    """A `short_run` warning when the backtest spans less than SHORT_RUN_DAYS days, else None."""
    days = span_ms / 86_400_000
    if span_ms <= 0 or days >= SHORT_RUN_DAYS:
        return None
    return {
        "code": "short_run",
        "keys": list(ANNUALIZED_KEYS),
        "message": (f"the run spans {days:.3g} day{'' if days == 1 else 's'} (under "
                    f"{SHORT_RUN_DAYS}): annualized figures (annualized return, volatility, "
                    "Sharpe, Sortino, Calmar) extrapolate it to a year and can be far off; "
                    "judge the total return instead"),
    }


def flagged_keys(metrics: Mapping[str, Any]) -> frozenset[str]:
    """The metric keys some warning of `metrics` names (for a mark next to their value)."""
    out: set[str] = set()
    for warning in metrics.get("warnings") or ():
        if isinstance(warning, dict):
            out.update(str(k) for k in warning.get("keys") or ())
    return frozenset(out)
