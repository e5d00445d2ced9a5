"""Strategy manifests: semantic checks and the typed model the engine runs.

Steps (each reports every problem it finds, then the next step runs on what
is sound):
1. parameters: ranges, defaults inside them           (`_read_params`)
2. conditions: grammar, then name resolution          (`_read_conditions`)
3. parameter ranges that break an indicator argument   (`_check_param_bounds`)
4. risk and sizing values, `$param` references         (`_read_risk`)
5. unused parameters (warning)                         (`check_strategy`)
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from compiler.resolve import Scope, resolve_condition
from compiler.terms import Predicate
from compiler.timeframes import MINUTE_MS, duration_ms
from dsl import ast
from dsl.diagnostics import Collector, Diagnostic, ManifestError, Severity
from dsl.loader import Document, YamlPath, path_text
from dsl.parse import parse_condition
from dsl.suggest import closest, did_you_mean

__all__ = ["BoundStrategy", "ParamDef", "RiskSpec", "SizingSpec", "Strategy", "check_strategy"]

SIDES = ("long", "short")


@dataclass(frozen=True)
class ParamDef:
    name: str
    default: Any
    kind: str                          # int | float | choice | fixed
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    stage: str = "indicators"

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices
        if self.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            if self.kind == "int" and float(value) != int(value):
                return False
            return self.low <= value <= self.high  # type: ignore[operator]
        return True


Value = float | str  # a number or a `$param` reference


@dataclass(frozen=True)
class RiskSpec:
    stoploss: Value | None = None
    trailing_trigger: Value | None = None
    trailing_distance: Value | None = None
    roi: tuple[tuple[int, Value], ...] = ()      # (minutes since entry, profit ratio)
    max_hold_minutes: int | None = None


@dataclass(frozen=True)
class SizingSpec:
    stake_percent: Value | None = None           # percent of equity
    stake_amount: Value | None = None            # quote currency
    risk_per_trade: Value | None = None
    max_open_positions: int = 1


@dataclass(frozen=True)
class BoundStrategy:
    """A strategy with every `$param` replaced by a number: what the engine executes."""

    strategy: Strategy
    params: Mapping[str, Any]
    entry: Mapping[str, Predicate]
    exit: Mapping[str, Predicate]
    stoploss: float | None
    trailing: tuple[float, float] | None
    roi: tuple[tuple[int, float], ...]
    max_hold_minutes: int | None
    stake_percent: float | None
    stake_amount: float | None
    risk_per_trade: float | None


@dataclass(frozen=True)
class Strategy:
    name: str
    file: str
    timeframe: str
    params: Mapping[str, ParamDef]
    entry: Mapping[str, ast.Cond]
    exit: Mapping[str, ast.Cond]
    risk: RiskSpec
    sizing: SizingSpec
    digest: str
    source: Any = field(repr=False, compare=False, default=None)
    used_params: frozenset[str] = frozenset()   # referenced by a condition or a risk value

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.params.items()}

    def bind(self, overrides: Mapping[str, Any] | None = None) -> BoundStrategy:
        """Resolve conditions and risk values with parameter `overrides` over the defaults."""
        values = {**self.defaults(), **(overrides or {})}
        out = Collector(self.file)
        scope = Scope(self.timeframe, values, out)
        entry = {side: resolve_condition(c, scope) for side, c in self.entry.items()}
        exit_ = {side: resolve_condition(c, scope) for side, c in self.exit.items()}

        def num(v: Value | None) -> float | None:
            if v is None:
                return None
            return float(values[v[1:]]) if isinstance(v, str) else float(v)

        if out.has_errors:
            raise ManifestError(out.items)
        r, s = self.risk, self.sizing
        trailing = None
        if r.trailing_distance is not None:
            trailing = (num(r.trailing_trigger) or 0.0, num(r.trailing_distance) or 0.0)
        return BoundStrategy(
            self, values, entry, exit_,  # type: ignore[arg-type]
            num(r.stoploss), trailing, tuple((m, num(v) or 0.0) for m, v in r.roi),
            r.max_hold_minutes, num(s.stake_percent), num(s.stake_amount), num(s.risk_per_trade),
        )


def _read_params(doc: Document, out: Collector) -> dict[str, ParamDef]:
    raw = doc.data.get("spec", {}).get("params") or {}
    params: dict[str, ParamDef] = {}
    for name, body in raw.items():
        path: YamlPath = ("spec", "params", name)
        if not isinstance(body, dict) or "default" not in body:
            continue  # the schema reported it
        kinds = [k for k in ("int", "float", "choice") if k in body]
        # a parameter whose declaration is broken still exists: keep it as fixed, so that its
        # references do not add 'unknown parameter' errors to the one that matters
        fixed = ParamDef(name, body["default"], "fixed", stage=body.get("stage", "indicators"))
        if len(kinds) > 1:
            out.error(doc.source.key((*path, kinds[1])), "C011",
                      f"parameter '{name}' has both '{kinds[0]}' and '{kinds[1]}'",
                      "give one of int, float or choice", path_text(path))
            params[name] = fixed
            continue
        default = body["default"]
        if isinstance(default, float) and not math.isfinite(default):
            params[name] = fixed
            continue  # the schema check reported it
        kind = kinds[0] if kinds else "fixed"
        if kind in ("int", "float"):
            bounds = body[kind]
            if not (isinstance(bounds, list) and len(bounds) == 2
                    and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b)
                            for b in bounds)):
                params[name] = fixed
                continue  # the schema reported it
            lo, hi = bounds
            if lo > hi:
                out.error(doc.source.value((*path, kind)), "C011",
                          f"range of '{name}' is empty: low {lo} is above high {hi}",
                          f"write {kind}: [{hi}, {lo}]", path_text((*path, kind)))
                params[name] = fixed
                continue
            if body.get("log") and body.get("step") not in (None, 1) and kind == "int":
                out.error(doc.source.key((*path, "step")), "C011",
                          f"'{name}' has both log: true and a step; a log-scaled int range steps by 1",
                          "drop step or log", path_text(path))
            if body.get("log") and lo <= 0:
                out.error(doc.source.key((*path, "log")), "C011",
                          f"a log range must be positive; '{name}' starts at {lo}",
                          "use a low bound above 0 or drop log: true", path_text(path))
            p = ParamDef(name, default, kind, lo, hi, body.get("step"), bool(body.get("log")),
                         stage=body.get("stage", "indicators"))
        elif kind == "choice":
            if not isinstance(body["choice"], list):
                params[name] = fixed
                continue
            p = ParamDef(name, default, kind, choices=tuple(body["choice"]),
                         stage=body.get("stage", "indicators"))
        else:
            p = ParamDef(name, default, kind, stage=body.get("stage", "indicators"))
        if not p.contains(default):
            span = (f"[{p.low:g}, {p.high:g}]" if kind in ("int", "float") else str(list(p.choices)))
            out.error(doc.source.value((*path, "default")), "C010",
                      f"default {default!r} of '{name}' is outside its declared "
                      f"{'choices' if kind == 'choice' else kind + ' range'} {span}",
                      "move the default inside the range or widen the range",
                      path_text((*path, "default")))
        params[name] = p
    return params


def _read_conditions(doc: Document, out: Collector, what: str) -> dict[str, ast.Cond]:
    raw = doc.data.get("spec", {}).get(what) or {}
    conditions: dict[str, ast.Cond] = {}
    if not isinstance(raw, dict):
        return conditions
    for side in SIDES:
        if side in raw:
            cond = parse_condition(raw[side], ("spec", what, side), doc.source, out)
            if cond is not None:
                conditions[side] = cond
    return conditions


def _leaves_using(conditions: list[tuple[str, ast.Cond]]) -> dict[str, list[tuple[str, ast.Cond]]]:
    """For each `$param`, the comparisons (leaves below all/any/not) that mention it."""
    found: dict[str, list[tuple[str, ast.Cond]]] = {}
    for where, cond in conditions:
        stack: list[ast.Cond] = [cond]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.All, ast.AnyOf)):
                stack.extend(node.items)
            elif isinstance(node, ast.Not):
                stack.append(node.item)
            else:
                for name in {n.name for n in ast.walk(node) if isinstance(n, ast.ParamRef)}:
                    found.setdefault(name, []).append((where, node))
    return found


def _choice_probes(choices: tuple[Any, ...]) -> list[tuple[int, Any]]:
    """The choices worth trying, with their index: an indicator accepts an interval of numbers, so of the
    numbers the smallest, the largest and a fractional one; every distinct other value. Thousands of
    choices must not mean thousands of trial resolutions."""
    numbers = [(i, c) for i, c in enumerate(choices)
               if isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)]
    picked: set[tuple[int, Any]] = set()
    if numbers:
        picked |= {min(numbers, key=lambda ic: ic[1]), max(numbers, key=lambda ic: ic[1])}
        picked |= set([(i, c) for i, c in numbers if float(c) != int(c)][:1])
    numeric = {i for i, _ in numbers}
    others: dict[str, int] = {}  # first index of each distinct non-number (a string, a bool, NaN)
    for i, c in enumerate(choices):
        if i not in numeric:
            others.setdefault(repr(c), i)
    return sorted(picked | {(i, choices[i]) for i in others.values()}, key=lambda ic: ic[0])


def _check_param_bounds(strategy_tf: str, params: dict[str, ParamDef], conditions: list[tuple[str, ast.Cond]],
                        doc: Document, out: Collector) -> None:
    """A range whose ends an indicator rejects would crash optimization trials: catch it now."""
    defaults = {n: p.default for n, p in params.items()}
    baseline = Collector(doc.file)
    for where, cond in conditions:
        resolve_condition(cond, Scope(strategy_tf, defaults, baseline, where))
    known = {(d.pos, d.code) for d in baseline.items}
    users = _leaves_using(conditions)
    for name, p in params.items():
        if p.kind in ("int", "float"):
            probes: list[tuple[int, Any]] = [(0, p.low), (1, p.high)]
            what = "range of '${}' includes"
        elif p.kind == "choice":
            probes, what = _choice_probes(p.choices), "choices of '${}' include"
        else:
            continue
        if p.kind == "float":  # a float range must also suit an argument that takes whole numbers
            probes.append((-1, p.low + (p.high - p.low) * 0.37 + 1e-3))  # type: ignore[operator]
        for index, bound in probes:
            scratch = Collector(doc.file)
            for where, leaf in users.get(name, ()):  # only the comparisons that use it: linear, not quadratic
                resolve_condition(leaf, Scope(strategy_tf, {**defaults, name: bound}, scratch, where))
            # only what this value adds: the file's other errors are reported where they are
            problems = [d for d in scratch.items if d.code in ("C006", "C004") and (d.pos, d.code) not in known]
            if problems:
                path: YamlPath = ("spec", "params", name, p.kind, index)  # the offending bound or choice
                if index < 0:
                    path = path[:-1]
                shown = f"{bound:g}" if isinstance(bound, (int, float)) else repr(bound)
                hint = (f"use `int: [{p.low:g}, {p.high:g}]` for a whole-number argument"
                        if p.kind == "float" and "whole number" in problems[0].message
                        else f"narrow the {what.split()[0]} to values the indicator accepts")
                out.error(doc.source.key(path) if index < 0 else doc.source.value(path), "C012",
                          f"{what.format(name)} {shown}, which is invalid: {problems[0].message}", hint,
                          path_text(path))
                break


# What a risk or sizing value must be. The schema checks written numbers; a `$param` it sees only
# as a name, so the default and range of the parameter are checked against these.
_LIMITS: dict[YamlPath, tuple[Callable[[float], bool], str]] = {
    ("spec", "risk", "stoploss"): (lambda x: -1 < x < 0, "below 0 and above -1"),
    ("spec", "risk", "trailing_stop", "trigger"): (lambda x: x >= 0, "at least 0"),
    ("spec", "risk", "trailing_stop", "distance"): (lambda x: 0 < x < 1, "above 0 and below 1"),
    ("spec", "sizing", "stake"): (lambda x: x > 0, "above 0"),
    ("spec", "sizing", "risk_per_trade"): (lambda x: 0 < x < 1, "above 0 and below 1"),
}


def _check_limit(doc: Document, path: YamlPath, p: ParamDef, out: Collector) -> bool:
    """False (and an error at the parameter) when `p` can take a value the field at `path` rejects."""
    limit = _LIMITS.get(path)
    if limit is None:
        return True
    ok, rule = limit
    ppath: YamlPath = ("spec", "params", p.name)
    candidates: list[tuple[str, Any, YamlPath]] = [("default", p.default, (*ppath, "default"))]
    if p.kind in ("int", "float"):
        candidates += [("range low", p.low, (*ppath, p.kind, 0)), ("range high", p.high, (*ppath, p.kind, 1))]
    candidates += [("choice", c, (*ppath, "choice", i)) for i, c in enumerate(p.choices)]
    for what, x, where in candidates:
        if isinstance(x, (int, float)) and not isinstance(x, bool) and not ok(x):
            out.error(doc.source.value(where), "C014",
                      f"'${p.name}' is used as {path_text(path)}, which must be {rule}, but its {what} is {x:g}",
                      f"keep the default and the range of '{p.name}' {rule}", path_text(where))
            return False
    return True


def _value(doc: Document, path: YamlPath, params: dict[str, ParamDef], used: set[str], out: Collector,
           raw: Any) -> Value | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.startswith("$"):
        name = raw[1:]
        used.add(name)
        if name not in params:
            hint = did_you_mean(name, list(params))
            out.error(doc.source.text_start(path), "C004", f"unknown parameter '{raw}'",
                      hint.replace("'", "'$", 1) if hint else "declare it under spec.params",
                      path_text(path))
            return None
        default = params[name].default
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            out.error(doc.source.text_start(path), "C004", f"parameter '{raw}' is not numeric",
                      "risk values need numbers", path_text(path))
            return None
        return raw if _check_limit(doc, path, params[name], out) else None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        number = float(raw) if not isinstance(raw, int) or abs(raw) <= 2 ** 63 else math.nan
        return number if math.isfinite(number) else None  # a non-finite one: the schema check reported it
    return None


_LONG_DURATION = re.compile(r"[0-9]{13,}[mhdw]\Z")  # what the schema accepts but `duration_ms` refuses


def _too_long(doc: Document, path: YamlPath, text: str, out: Collector, at_key: bool = False) -> None:
    shown = text if len(text) <= 24 else f"{text[:20]}…{text[-1]}"
    out.error(doc.source.key(path) if at_key else doc.source.value(path), "C015",
              f"duration {shown} is longer than any history", "write at most 12 digits, e.g. 30d", path_text(path))


def _read_risk(doc: Document, params: dict[str, ParamDef], used: set[str],
               out: Collector) -> tuple[RiskSpec, SizingSpec]:
    spec = doc.data.get("spec", {})
    risk = spec.get("risk") or {}
    sizing = spec.get("sizing") or {}
    if not isinstance(risk, dict) or not isinstance(sizing, dict):
        return RiskSpec(), SizingSpec()

    def v(path: YamlPath, raw: Any) -> Value | None:
        return _value(doc, path, params, used, out, raw)

    trailing: dict[str, Any] = risk["trailing_stop"] if isinstance(risk.get("trailing_stop"), dict) else {}
    roi: list[tuple[int, Value]] = []
    roi_table: dict[Any, Any] = risk["roi"] if isinstance(risk.get("roi"), dict) else {}
    for key, raw in roi_table.items():
        if not isinstance(key, str):
            continue  # `30: 0.02`: the schema check reported it
        ms = duration_ms(key)
        if ms is None and _LONG_DURATION.match(key):  # the schema let it through: too many digits
            _too_long(doc, ("spec", "risk", "roi", key), key, out, at_key=True)
        value = v(("spec", "risk", "roi", key), raw)
        if ms is not None and value is not None:
            roi.append((ms // MINUTE_MS, value))
    max_hold = duration_ms(str(risk["max_hold"])) if risk.get("max_hold") is not None else None
    if max_hold is None and isinstance(risk.get("max_hold"), str) and _LONG_DURATION.match(risk["max_hold"]):
        _too_long(doc, ("spec", "risk", "max_hold"), risk["max_hold"], out)
    stake = sizing.get("stake")
    percent = amount = None
    if isinstance(stake, str) and stake.endswith("%"):
        percent = float(stake[:-1])
        if not 0 < percent <= 100:
            out.error(doc.source.value(("spec", "sizing", "stake")), "C013",
                      f"stake {stake} must be above 0% and at most 100%", "write e.g. 10%",
                      "spec.sizing.stake")
    elif stake is not None:
        amount = v(("spec", "sizing", "stake"), stake)
    if sizing.get("risk_per_trade") is not None and risk.get("stoploss") is None:
        out.error(doc.source.key(("spec", "sizing", "risk_per_trade")), "C013",
                  "risk_per_trade sizes positions by the stop distance, but there is no stoploss",
                  "add spec.risk.stoploss", "spec.sizing.risk_per_trade")
    return (
        RiskSpec(
            stoploss=v(("spec", "risk", "stoploss"), risk.get("stoploss")),
            trailing_trigger=v(("spec", "risk", "trailing_stop", "trigger"), trailing.get("trigger")),
            trailing_distance=v(("spec", "risk", "trailing_stop", "distance"), trailing.get("distance")),
            roi=tuple(sorted(roi, key=lambda row: row[0])),  # by time only: a value may be a $param
            max_hold_minutes=None if max_hold is None else max_hold // MINUTE_MS,
        ),
        SizingSpec(
            stake_percent=percent if percent is not None else (None if amount is not None else 100.0),
            stake_amount=amount,
            risk_per_trade=v(("spec", "sizing", "risk_per_trade"), sizing.get("risk_per_trade")),
            max_open_positions=sizing["max_open_positions"]
            if isinstance(sizing.get("max_open_positions"), int) else 1,
        ),
    )


_ItemIndex = dict[YamlPath, tuple[list[tuple[int, int, int]], list[YamlPath]]]


def _at_item(doc: Document, diag: Diagnostic, index: _ItemIndex) -> Diagnostic:
    """Narrow a diagnostic's path from the side (`spec.entry.long`) to the item that holds it.

    YAML nodes are contiguous, so the node under the side that starts last at or before the
    diagnostic's position is the innermost one containing it (`spec.entry.long.all[1][3]`); of
    nodes starting at the same place, the deepest (the last in document order). The nodes of a
    side are sorted once (`index`), so a file with thousands of errors is not quadratic.
    """
    side = tuple(diag.path.split("."))
    if side not in index:
        rows = sorted((pos.line, pos.column, order, path) for order, (path, pos)
                      in enumerate(doc.source.values.items()) if path[:len(side)] == side)
        index[side] = ([(line, column, order) for line, column, order, _ in rows], [r[3] for r in rows])
    starts, paths = index[side]
    at = bisect_right(starts, (diag.line, diag.column, len(doc.source.values)))
    return replace(diag, path=path_text(paths[at - 1] if at else side))


_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _hidden_uses(doc: Document, params: dict[str, ParamDef], used: set[str]) -> set[str]:
    """Parameters an error may have hidden from resolution: "never used" would be noise beside it.

    A `$name` written in a term that failed to resolve (a bad timeframe, an unknown indicator) was
    never seen as used; and `$rsi_bye` hides `rsi_buy`, the parameter it was meant to be.
    """
    written: set[str] = set()
    stack: list[Any] = [doc.data.get("spec")]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(v for k, v in value.items() if k != "params")
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            written.update(_PARAM_REF.findall(value))
    typos = {m for ref in written - set(params) for m in closest(ref, list(params))}
    return (written | typos) - used


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_strategy(doc: Document, out: Collector) -> Strategy | None:
    """Semantic checks of a schema-valid Strategy document; the model when it has no errors."""
    spec = doc.data["spec"]
    timeframe = spec["timeframe"]
    before = len([d for d in out.items if d.severity.value == "error"])
    before_all = len(out.items)
    params = _read_params(doc, out)
    entry = _read_conditions(doc, out, "entry")
    exit_ = _read_conditions(doc, out, "exit")
    used: set[str] = set()
    defaults = {n: p.default for n, p in params.items()}
    located = [(f"spec.entry.{s}", c) for s, c in entry.items()] + [(f"spec.exit.{s}", c) for s, c in exit_.items()]
    items: _ItemIndex = {}
    for where, cond in located:
        scope = Scope(timeframe, defaults, out, where)
        first = len(out.items)
        resolve_condition(cond, scope)
        out.items[first:] = [_at_item(doc, d, items) for d in out.items[first:]]
        used |= scope.used_params
    risk, sizing = _read_risk(doc, params, used, out)
    _check_param_bounds(timeframe, params, located, doc, out)
    hidden = _hidden_uses(doc, params, used) if any(d.severity is Severity.ERROR for d in out.items[before_all:]) \
        else set()
    for name in params:
        if name not in used and name not in hidden:
            out.warning(doc.source.key(("spec", "params", name)), "W001", f"parameter '{name}' is never used",
                        f"reference it as ${name} in a condition or risk value, or remove it",
                        path_text(("spec", "params", name)))
    if len([d for d in out.items if d.severity.value == "error"]) > before:
        return None
    return Strategy(
        name=doc.data["metadata"]["name"], file=doc.file, timeframe=timeframe, params=params,
        entry=entry, exit=exit_, risk=risk, sizing=sizing, digest=_digest(doc.data), source=doc,
        used_params=frozenset(used),
    )

