"""Strategy -> bound parameters -> DAG -> plan: the compiler's front door."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.graph import Graph, build_graph
from compiler.plan import Plan, build_plan
from compiler.strategy import BoundStrategy, Strategy

__all__ = ["SIGNALS", "Compiled", "compile_strategy"]

SIGNALS = ("entry_long", "exit_long", "entry_short", "exit_short")


@dataclass(frozen=True)
class Compiled:
    bound: BoundStrategy
    graph: Graph
    plan: Plan


def compile_strategy(strategy: Strategy, overrides: Mapping[str, Any] | None = None) -> Compiled:
    """Bind `overrides` over the defaults and build the DAG and plan of every signal."""
    bound = strategy.bind(overrides)
    signals = {}
    for what, table in (("entry", bound.entry), ("exit", bound.exit)):
        for side, pred in table.items():
            signals[f"{what}_{side}"] = pred
    graph = build_graph(strategy.timeframe, signals)
    return Compiled(bound, graph, build_plan(graph))
