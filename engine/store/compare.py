"""Two kept runs side by side: what changed in the inputs, how the figures moved.

The store compares every numeric top-level metric; which ones a person sees,
in which order and whether up is good, is the report's business
(engine/report/display.py). Input differences that make the comparison
apples-to-oranges (strategy content, data range, symbols, timeframe) are
spelled out as notes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from engine.store.records import Run

__all__ = ["MEASUREMENTS", "Comparison", "MetricDelta", "ParamChange", "compare"]

# Keys of a run's settings that record how it went, not what it was given.
MEASUREMENTS = frozenset({"timings", "timings_ms"})


@dataclass(frozen=True)
class MetricDelta:
    key: str
    a: Any
    b: Any
    delta: float | None      # b - a when both are numbers


@dataclass(frozen=True)
class ParamChange:
    op: str                  # "+" only in b, "-" only in a, "~" changed
    path: str                # dotted key
    old: Any
    new: Any


@dataclass(frozen=True)
class Comparison:
    a: Run
    b: Run
    metrics: tuple[MetricDelta, ...]
    params: tuple[ParamChange, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.id, "b": self.b.id,
            "metrics": {m.key: {"a": m.a, "b": m.b, "delta": m.delta} for m in self.metrics},
            "params": [{"op": p.op, "path": p.path, "old": p.old, "new": p.new}
                       for p in self.params],
            "notes": list(self.notes),
        }


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _param_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[ParamChange, ...]:
    fa, fb = _flatten(a), _flatten(b)
    changes = [ParamChange("-", k, fa[k], None) for k in fa if k not in fb]
    changes += [ParamChange("~", k, fa[k], fb[k]) for k in fa if k in fb and fa[k] != fb[k]]
    changes += [ParamChange("+", k, None, fb[k]) for k in fb if k not in fa]
    return tuple(sorted(changes, key=lambda c: c.path))


def _inputs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that are inputs of a run: measurements such as timings are not."""
    return {k: v for k, v in settings.items() if k not in MEASUREMENTS}


def _notes(a: Run, b: Run) -> tuple[str, ...]:
    notes = []
    if a.strategy_name != b.strategy_name:
        notes.append(f"different strategies: {a.strategy_name} vs {b.strategy_name}")
    if a.strategy_hash != b.strategy_hash:
        notes.append(f"strategy content differs: {a.strategy_hash} vs {b.strategy_hash}")
    if a.timeframe != b.timeframe:
        notes.append(f"different timeframes: {a.timeframe} vs {b.timeframe}")
    if a.symbols != b.symbols:
        notes.append(f"different symbols: {', '.join(a.symbols)} vs {', '.join(b.symbols)}")
    if (a.data_start, a.data_end) != (b.data_start, b.data_end):
        notes.append(f"different data ranges: {a.data_start} .. {a.data_end} vs "
                     f"{b.data_start} .. {b.data_end}")
    version_a, version_b = a.metrics.get("metrics_version"), b.metrics.get("metrics_version")
    if version_a != version_b:  # a key may mean something else (docs/metrics.md, metrics_version)
        notes.append(f"metrics computed by different versions: {version_a} vs {version_b} "
                     "(version 2 redefined expectancy_ratio as freqtrade's)")
    inputs_a, inputs_b = _inputs(a.settings), _inputs(b.settings)
    if inputs_a != inputs_b:
        changed = [c.path for c in _param_changes(inputs_a, inputs_b)]
        notes.append(f"different settings: {', '.join(changed)}")
    return tuple(notes)


def compare(a: Run, b: Run) -> Comparison:
    """Deltas (b - a) of every numeric top-level metric, param changes, input notes."""
    keys = [k for k in a.metrics if _number(a.metrics[k]) or _number(b.metrics.get(k))]
    keys += [k for k in b.metrics if k not in a.metrics and _number(b.metrics[k])]
    deltas = []
    for key in keys:
        va, vb = a.metrics.get(key), b.metrics.get(key)
        delta = float(vb - va) if _number(va) and _number(vb) else None
        deltas.append(MetricDelta(key, va, vb, delta))
    return Comparison(a, b, tuple(deltas), _param_changes(a.params, b.params), _notes(a, b))
