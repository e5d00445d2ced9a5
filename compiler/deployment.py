"""Deployment manifests: semantic checks and the typed model.

A deployment names strategy files, an account, symbols and a mode. Checks
here are those the schema cannot express: referenced files exist and are
strategies, overrides name real parameters, live trading is confirmed, risk
rules are valid expressions over portfolio terms.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.risk import PORTFOLIO_TERMS, RiskPolicy, check_risk
from dsl.diagnostics import Collector
from dsl.loader import Document, load_file, path_text
from dsl.suggest import did_you_mean

if TYPE_CHECKING:
    from compiler.strategy import Strategy

__all__ = ["PORTFOLIO_TERMS", "Deployment", "StrategyLoader", "StrategyRef", "check_deployment", "parse_date"]

# How a deployment reads the strategy files it names. `compiler.validate` passes its own, so that a
# strategy is checked exactly as `superbot validate` checks it, without this module importing it.
StrategyLoader = Callable[[Path], "Strategy"]


@dataclass(frozen=True)
class StrategyRef:
    path: Path
    params: dict[str, Any]
    symbols: tuple[str, ...]


@dataclass(frozen=True)
class Deployment:
    name: str
    file: str
    mode: str
    strategies: tuple[StrategyRef, ...]
    symbols: tuple[str, ...]
    spec: dict[str, Any] = field(repr=False)
    risk: RiskPolicy = field(default_factory=RiskPolicy)   # compiler/risk.py


def _strategy_params(path: Path) -> set[str] | None:
    """Parameter names of the Strategy in `path`; None when it is not a readable strategy."""
    scratch = Collector(str(path))
    for doc in load_file(path, scratch):
        if doc.kind == "Strategy":
            params = doc.data.get("spec", {}).get("params") or {}
            return set(params) if isinstance(params, dict) else set()
    return None


def _check_overrides(target: Path, overrides: dict[str, Any], doc: Document, index: int, out: Collector,
                     load_strategy: StrategyLoader, binds: dict[Any, Any]) -> None:
    """Overrides must give the strategy values it can run with (a bad one fails at bind time)."""
    from dsl.diagnostics import ManifestError
    where = ("spec", "strategies", index, "params")
    try:
        strategy = load_strategy(target)
    except ManifestError:
        out.error(doc.source.value((*where[:-1], "path")), "D005", f"strategy '{target.name}' has errors",
                  f"run `superbot validate {target}`", path_text((*where[:-1], "path")))
        return
    for key, value in overrides.items():
        param = strategy.params[key]
        if param.kind != "fixed" and not param.contains(value):
            span = list(param.choices) if param.kind == "choice" else [param.low, param.high]
            out.warning(doc.source.value((*where, key)), "W003",
                        f"override {key}: {value!r} is outside the strategy's {param.kind} range {span}",
                        "the optimizer never tried this value", path_text((*where, key)))
    # bind each override alone first, to point at the one that breaks the strategy
    culprits = [(k, _bind_error(strategy, {k: v}, binds)) for k, v in overrides.items()]
    culprits = [(k, e) for k, e in culprits if e is not None]
    if not culprits:
        combined = _bind_error(strategy, overrides, binds)
        culprits = [(next(iter(overrides)), combined)] if combined is not None else []
    for key, error in culprits:
        out.error(doc.source.value((*where, key)), "D003",
                  f"with {key}: {overrides[key]!r} the strategy is invalid: {error.message}",
                  error.hint or f"see {error.file}:{error.line}", path_text((*where, key)))


def _bind_error(strategy: Any, overrides: dict[str, Any], memo: dict[Any, Any]) -> Any:
    """The first diagnostic of binding `overrides`, or None; `memo` (one per deployment) keeps the answers,
    since a file may list one strategy with the same overrides a thousand times."""
    from dsl.diagnostics import ManifestError
    key = (strategy.file, repr(sorted(overrides.items())))
    if key not in memo:
        try:
            strategy.bind(overrides)
            memo[key] = None
        except ManifestError as exc:
            memo[key] = exc.diagnostics[0]
    return memo[key]


def _once(load_strategy: StrategyLoader) -> StrategyLoader:
    """`load_strategy` that reads each file once per deployment, errors included."""
    from dsl.diagnostics import ManifestError
    seen: dict[Path, Any] = {}

    def load(path: Path) -> Strategy:
        key = path.resolve()
        if key not in seen:
            try:
                seen[key] = load_strategy(path)
            except ManifestError as exc:
                seen[key] = exc
        if isinstance(seen[key], ManifestError):
            raise seen[key]
        return seen[key]  # type: ignore[no-any-return]  # a Strategy: the other case raised above

    return load


def check_deployment(doc: Document, out: Collector, load_strategy: StrategyLoader) -> Deployment | None:
    """Semantic checks of a schema-valid Deployment document; `load_strategy` reads a named strategy."""
    load_strategy = _once(load_strategy)
    binds: dict[Any, Any] = {}
    params_of: dict[Path, set[str] | None] = {}
    spec = doc.data["spec"]
    errors_before = sum(1 for d in out.items if d.severity.value == "error")
    mode = spec["mode"]
    if mode == "live" and (spec.get("live") or {}).get("confirm") is not True:
        out.error(doc.source.value(("spec", "mode")), "D002", "mode: live trades real money but is not confirmed",
                  "add `live: {confirm: true}` to spec once you mean it", "spec.mode")
    exchange = spec.get("exchange")
    if mode in ("paper", "demo", "live") and not exchange:
        out.error(doc.source.value(("spec", "mode")), "D004", f"mode: {mode} needs an exchange for market data",
                  "add spec.exchange: {id: binance}", "spec.mode")
    if mode == "demo" and exchange and exchange.get("testnet") is not True:
        written = "testnet" in exchange  # point at `testnet: false` when it is written
        where = ("spec", "exchange", "testnet") if written else ("spec", "exchange")
        out.error(doc.source.value(where) if written else doc.source.key(where), "D004",
                  "mode: demo runs on the exchange's testnet, but exchange.testnet is not true",
                  "write testnet: true" if written else "add testnet: true under spec.exchange", path_text(where))
    if mode == "live" and exchange and exchange.get("testnet") is True:
        out.error(doc.source.key(("spec", "exchange", "testnet")), "D004",
                  "mode: live cannot run on a testnet", "use mode: demo for the testnet",
                  "spec.exchange.testnet")
    base = Path(doc.file).parent
    refs: list[StrategyRef] = []
    for i, ref in enumerate(spec["strategies"]):
        path = ("spec", "strategies", i, "path")
        target = base / ref["path"]
        try:
            exists, is_dir = target.is_file(), target.is_dir()
        except OSError:  # a name the file system rejects, e.g. too long
            exists = is_dir = False
        if is_dir:
            out.error(doc.source.text_start(path), "D001", f"strategy path '{ref['path']}' is a directory",
                      "name one strategy file in it, e.g. path: " + ref["path"].rstrip("/") + "/rsi.yaml",
                      path_text(path))
            continue
        if not exists:
            out.error(doc.source.text_start(path), "D001", f"strategy file '{ref['path']}' does not exist",
                      f"the path is relative to {base or '.'}/; looked for {target}", path_text(path))
            continue
        if target.resolve() not in params_of:
            params_of[target.resolve()] = _strategy_params(target)
        names = params_of[target.resolve()]
        if names is None:
            out.error(doc.source.text_start(path), "D001", f"'{ref['path']}' holds no Strategy manifest",
                      "point to a file with kind: Strategy", path_text(path))
            continue
        for key in ref.get("params") or {}:
            if key not in names:
                kpath = ("spec", "strategies", i, "params", key)
                out.error(doc.source.key(kpath), "D003", f"strategy '{ref['path']}' has no parameter '{key}'",
                          did_you_mean(key, names) or f"parameters: {', '.join(sorted(names)) or 'none'}",
                          path_text(kpath))
        overrides = ref.get("params") or {}
        if overrides and all(key in names for key in overrides):
            _check_overrides(target, overrides, doc, i, out, load_strategy, binds)
        refs.append(StrategyRef(target, dict(ref.get("params") or {}),
                                tuple(ref.get("symbols") or spec["symbols"])))
    risk = check_risk(doc, out)
    _check_dates(doc, out)
    errors_after = sum(1 for d in out.items if d.severity.value == "error")
    if errors_after > errors_before:
        return None
    return Deployment(doc.data["metadata"]["name"], doc.file, mode, tuple(refs), tuple(spec["symbols"]), spec,
                      risk or RiskPolicy())


def parse_date(text: str) -> datetime | None:
    """A date as the engine reads it (ISO-8601, `20240131`, or epoch seconds/ms digits), in UTC; None if not."""
    s = text.strip()
    digits = s.lstrip("-")
    if digits.isdigit() and len(digits) >= 9:  # epoch seconds or milliseconds; 20240101 is a date
        value = int(s)
        try:
            return datetime.fromtimestamp(value if abs(value) < 100_000_000_000 else value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _check_dates(doc: Document, out: Collector) -> None:
    """`data.from` / `data.to` are read when a run starts: check them now, where they are written."""
    data = doc.data["spec"].get("data")
    if not isinstance(data, dict):
        return
    when: dict[str, datetime] = {}
    for key in ("from", "to"):
        raw, path = data.get(key), ("spec", "data", key)
        if not isinstance(raw, str):
            continue  # absent, or the schema reported its type
        parsed = parse_date(raw)
        if parsed is None:
            out.error(doc.source.text_start(path), "D006", f"{path_text(path)} was {raw!r}, which is not a date",
                      "write an ISO-8601 date or time in UTC, e.g. 2024-01-31 or 2024-01-31T12:00", path_text(path))
        else:
            when[key] = parsed
    if "from" in when and "to" in when and when["from"] >= when["to"]:
        path = ("spec", "data", "to")
        out.error(doc.source.text_start(path), "D006",
                  f"spec.data.to ({data['to']}) is not after spec.data.from ({data['from']})",
                  "move `to` after `from` (the range is from inclusive, to exclusive)", path_text(path))
