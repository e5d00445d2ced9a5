"""What an optimization shows a person: values at their parameter's precision, ranked trials grouped.

The terminal output of `superbot optimize` is read by someone choosing
parameters, so:
- a value is printed with the precision of its parameter (an int as an
  int, a stepped float with the step's decimals, other floats with 4
  significant digits), never as a 17-digit float or a Python dict;
- trials with the same result (same objective value and trade count: the
  parameters that differ did not change a single trade) form ONE ranked
  row with a count, so a top 10 shows 10 different outcomes;
- the end names the study and the exact `superbot params apply` command.
"""
from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from compiler.strategy import ParamDef

__all__ = ["TrialGroup", "apply_command", "format_objective", "format_param", "group_trials"]


def _decimals(step: float) -> int:
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def format_param(p: ParamDef | None, value: Any) -> str:
    """`value` as its parameter declares it: `14`, `0.05` (step 0.01), `0.01234` (no step)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if p is not None and p.kind == "int":
        return str(round(value))
    if p is not None and p.kind == "float" and p.step and not p.log:
        return f"{value:.{_decimals(p.step)}f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def format_objective(value: float | None) -> str:
    """An objective value: 4 significant digits; `-` when undefined; the cap of 'infinitely good' as such."""
    if value is None or math.isnan(value):
        return "-"
    if value >= 1e300:
        return "max"  # engine.optimize.objective.VALUE_CAP: no losing trade / no drawdown / overflow
    return f"{value:.4g}"


@dataclass(frozen=True)
class TrialGroup:
    value: float
    n_trades: int | None
    params: dict[str, Any]     # of the first trial (lowest number) with this result
    numbers: tuple[int, ...]   # every trial with this result

    @property
    def count(self) -> int:
        return len(self.numbers)


def group_trials(trials: Iterable[Mapping[str, Any]], top: int = 10) -> list[TrialGroup]:
    """The `top` best distinct results (value and trade count), each with the trials that share it."""
    groups: dict[tuple[float, int | None], list[Mapping[str, Any]]] = {}
    for t in sorted((t for t in trials if t["value"] is not None), key=lambda t: t["number"]):
        key = (float(f"{t['value']:.12g}"), t.get("n_trades"))
        groups.setdefault(key, []).append(t)
    ranked = sorted(groups.items(), key=lambda kv: -kv[0][0])[:top]
    return [TrialGroup(value, n_trades, dict(members[0]["params"]), tuple(m["number"] for m in members))
            for (value, n_trades), members in ranked]


def apply_command(study: str, strategy: str | Path, storage: str | None = None) -> str:
    """The shell command that writes a study's best values into the strategy (password masked)."""
    words = ["superbot", "params", "apply", study, str(strategy)]
    if storage:
        from engine.store.errors import mask_url
        words += ["--storage", mask_url(storage)]  # a password is never printed
    return shlex.join(words)
