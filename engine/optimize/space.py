"""The search space: every ranged `params` entry of a strategy is a dimension.

Ranges come from YAML (`int: [lo, hi]`, `float: [lo, hi]` with optional
`step` and `log`, or `choice: [...]`); each carries an optimizer `stage`.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import optuna

from compiler.strategy import ParamDef, Strategy
from dsl.errors import UserError

__all__ = ["STAGES", "SpaceError", "dimensions", "distribution", "grid_points", "grid_size", "stage_plan"]

STAGES = ("indicators", "exit", "risk")


class SpaceError(UserError, ValueError):
    """The search space cannot be searched as asked; the message says how to fix it."""


def dimensions(strategy: Strategy, stages: Iterable[str] | None = None) -> list[ParamDef]:
    """Tunable parameters (those with a range or choices), optionally of some stages only."""
    wanted = set(stages) if stages is not None else None
    dims = [p for p in strategy.params.values() if p.kind in ("int", "float", "choice")]
    return [p for p in dims if wanted is None or p.stage in wanted]


def distribution(p: ParamDef) -> optuna.distributions.BaseDistribution:
    if p.kind == "int":
        return optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log,  # type: ignore[arg-type]
                                                    step=int(p.step or 1))
    if p.kind == "float":
        return optuna.distributions.FloatDistribution(float(p.low), float(p.high), log=p.log,  # type: ignore[arg-type]
                                                      step=None if p.log else p.step)
    return optuna.distributions.CategoricalDistribution(list(p.choices))


def _values(p: ParamDef) -> list[Any]:
    if p.kind == "choice":
        return list(p.choices)
    if p.kind == "int":
        step = int(p.step or 1)
        return list(range(int(p.low), int(p.high) + 1, step))  # type: ignore[arg-type]
    if not p.step:
        raise SpaceError(f"parameter '{p.name}' is a float range without a step; the grid sampler "
                         f"needs one: add `step: ...` to it, or use --sampler tpe")
    count = int(np.floor((p.high - p.low) / p.step + 1e-9)) + 1  # type: ignore[operator]
    return [round(float(p.low) + i * p.step, 12) for i in range(count)]  # type: ignore[arg-type]


def grid_size(dims: list[ParamDef]) -> int:
    size = 1
    for p in dims:
        size *= len(_values(p))
    return size


def grid_points(dims: list[ParamDef]) -> Iterator[dict[str, Any]]:
    """Every combination, in a fixed order (the first dimension varies slowest)."""
    names = [p.name for p in dims]
    for combo in itertools.product(*(_values(p) for p in dims)):
        yield dict(zip(names, combo, strict=True))


def stage_plan(strategy: Strategy, stages: str) -> list[list[ParamDef]]:
    """`risk,exit,indicators` -> the dimensions of each stage in that order; `all` -> one stage.

    Parameters of stages not listed keep their defaults (e.g. `--stages exit` re-tunes exits only).
    """
    if stages.strip() == "all":
        dims = dimensions(strategy)
        return [dims] if dims else []
    order = [s.strip() for s in stages.split(",") if s.strip()]
    unknown = [s for s in order if s not in STAGES]
    if unknown:
        raise SpaceError(f"unknown stage '{unknown[0]}'; stages are {', '.join(STAGES)} (or all)")
    plan = [dimensions(strategy, [s]) for s in order]  # unlisted stages keep their defaults
    if not any(plan):
        raise SpaceError(f"no parameter belongs to stage(s) {stages}; stages used: "
                         + ", ".join(sorted({p.stage for p in dimensions(strategy)})))
    return [dims for dims in plan if dims]
