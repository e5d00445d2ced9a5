"""The indicator DAG: every series a strategy needs, each computed once.

Terms are frozen dataclasses with structural equality, so interning them in a
dict gives hash-consing: `rsi_14` used in five conditions, or in entry and
exit, is one node (the same object). Nodes are sorted topologically with
`graphlib`, inputs first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from compiler.terms import Comparison, Const, Crossing, Logic, Predicate, Range, Term, series_children

__all__ = ["Graph", "build_graph"]


@dataclass
class Graph:
    """Interned series terms in dependency order, and the signal predicates over them."""

    timeframe: str
    nodes: dict[Term, Term] = field(default_factory=dict)
    signals: dict[str, Predicate] = field(default_factory=dict)
    order: list[Term] = field(default_factory=list)

    def intern(self, term: Term) -> Term:
        existing = self.nodes.get(term)
        if existing is not None:
            return existing
        for child in series_children(term):
            self.intern(child)
        self.nodes[term] = term
        return term

    def intern_predicate(self, pred: Predicate) -> Predicate:
        if isinstance(pred, Logic):
            return Logic(pred.op, tuple(self.intern_predicate(p) for p in pred.items))
        if isinstance(pred, Range):
            return Range(self.intern(pred.operand), self.intern(pred.low), self.intern(pred.high))
        if isinstance(pred, Crossing):
            return Crossing(pred.direction, self.intern(pred.left), self.intern(pred.right))
        assert isinstance(pred, Comparison)
        return Comparison(pred.op, self.intern(pred.left), self.intern(pred.right))

    def finish(self) -> None:
        sorter: TopologicalSorter[Term] = TopologicalSorter()
        for node in self.nodes:
            sorter.add(node, *series_children(node))
        self.order = [n for n in sorter.static_order() if not isinstance(n, Const)]

    @property
    def timeframes(self) -> list[str]:
        from compiler.timeframes import timeframe_ms
        return sorted({n.timeframe for n in self.order if not isinstance(n, Const)}, key=timeframe_ms)


def build_graph(timeframe: str, signals: dict[str, Predicate]) -> Graph:
    """Intern every term of the named signals (`entry_long`, `exit_short`, ...)."""
    graph = Graph(timeframe)
    for name, pred in signals.items():
        graph.signals[name] = graph.intern_predicate(pred)
    graph.finish()
    return graph
