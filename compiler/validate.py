"""Validation of manifest files: load -> schema -> semantic checks, every error kept.

This is the single entry point used by `superbot validate`, by the other
commands before they run anything, and by the daemon before it applies.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.deployment import Deployment, check_deployment
from compiler.schema_check import check_schema
from compiler.strategy import Strategy, check_strategy
from compiler.timeframes import TIMEFRAMES
from dsl.diagnostics import Collector, Diagnostic, ManifestError, Pos, Severity
from dsl.loader import Document, load_file, load_text, substitute_env
from dsl.suggest import did_you_mean
from schemas import KINDS

__all__ = [
    "FileReport",
    "discover",
    "load_deployment",
    "load_strategy",
    "strategy_from_text",
    "validate_file",
    "validate_paths",
    "validate_text",
]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class FileReport:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    strategies: list[Strategy] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """YAML files under `paths` (recursively, sorted) and the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()
                                and not any(part.startswith(".") for part in p.parts)))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(raw))
    return files, missing


def _check_document(doc: Document, out: Collector, report: FileReport) -> None:
    if not isinstance(doc.data, dict):
        out.error(doc.pos, "K001", "a manifest must be a mapping with apiVersion, kind, metadata and spec",
                  "start the document with `apiVersion: superbot/v1`")
        return
    kind = doc.data.get("kind")
    if kind not in KINDS:
        pos = doc.source.value(("kind",)) if "kind" in doc.data else doc.pos
        hint = did_you_mean(str(kind), list(KINDS)) if kind is not None else None
        message = f"unknown kind {kind!r}" if kind is not None else "missing 'kind'"
        out.error(pos, "K001", message, hint or f"kind is one of: {', '.join(KINDS)}", "kind")
        return
    errors_before = sum(1 for d in out.items if d.severity is Severity.ERROR)
    check_schema(doc, out)  # before substitution: secrets must be written as ${NAME} references
    schema_ok = sum(1 for d in out.items if d.severity is Severity.ERROR) == errors_before
    if kind == "Deployment":
        substitute_env(doc, out)
    spec = doc.data.get("spec")
    if not isinstance(spec, dict):
        return
    if kind == "Strategy":
        # semantic checks run even after schema errors, so one run shows every problem
        if spec.get("timeframe") in TIMEFRAMES and isinstance(doc.data.get("metadata"), dict):
            strategy = _safe(check_strategy, doc, out)
            if strategy is not None and schema_ok:
                report.strategies.append(strategy)
        else:
            _conditions_only(doc, out)
    else:  # semantic checks after schema errors too: one run shows every problem
        deployment = _safe(lambda d, o: check_deployment(d, o, load_strategy), doc, out)
        if deployment is not None and schema_ok:
            report.deployments.append(deployment)


def _conditions_only(doc: Document, out: Collector) -> None:
    """With schema errors elsewhere, still report the condition errors of the file."""
    from compiler.strategy import _read_conditions
    _read_conditions(doc, out, "entry")
    _read_conditions(doc, out, "exit")
    return None


def _safe(check, doc: Document, out: Collector):  # type: ignore[no-untyped-def]
    """Semantic checks assume a schema-valid document; a gap there must not become a traceback."""
    try:
        return check(doc, out)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        if out.has_errors:  # a consequence of the errors already reported
            return None
        out.error(doc.pos, "X001", f"could not check this document ({type(exc).__name__}: {exc})",
                  "fix the errors above; if none are shown, please report this as a SuperBot bug")
        return None


def validate_file(path: str | Path) -> FileReport:
    return _validate(str(path), lambda out: load_file(path, out))


def validate_text(text: str, file: str = "<text>") -> FileReport:
    """Validate manifests held in memory (API requests, tests); `file` names them in errors."""
    return _validate(file, lambda out: load_text(text, file, out))


def _validate(file: str, load) -> FileReport:  # type: ignore[no-untyped-def]
    out = Collector(file)
    report = FileReport(file)
    for doc in load(out):
        _check_document(doc, out, report)
    report.diagnostics = _ordered(out.items)
    return report


def _ordered(items: list[Diagnostic]) -> list[Diagnostic]:
    """By position, duplicates dropped (a list's timeframe is checked per side); a note stays after its error."""
    groups: list[list[Diagnostic]] = []
    seen: set[tuple[Pos, str, str]] = set()
    for d in items:
        key = (d.pos, d.code, d.message)
        if key in seen:
            continue
        seen.add(key)
        if d.severity is Severity.NOTE and groups:
            groups[-1].append(d)
        else:
            groups.append([d])
    groups.sort(key=lambda g: (g[0].pos.line, g[0].pos.column, g[0].code))
    return [d for g in groups for d in g]


def validate_paths(paths: Iterable[str | Path]) -> tuple[list[FileReport], list[str]]:
    files, missing = discover(paths)
    return [validate_file(f) for f in files], missing


def load_strategy(path: str | Path) -> Strategy:
    """The single Strategy of a file, or ManifestError with every diagnostic."""
    return _single_strategy(validate_file(path), str(path))


def strategy_from_text(text: str, file: str = "<text>") -> Strategy:
    return _single_strategy(validate_text(text, file), file)


def _single_strategy(report: FileReport, path: str) -> Strategy:
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ManifestError(errors)
    if not report.strategies and report.deployments:  # a common slip: say which command runs it
        raise ManifestError([Diagnostic(str(path), Pos(1, 1), "K002",
                                        "this file is a Deployment; this command takes a Strategy",
                                        f"run a deployment with `superbot apply {path}`")])
    if len(report.strategies) != 1:
        raise ManifestError([Diagnostic(str(path), Pos(1, 1), "K002",
                                        f"expected one Strategy in the file, found {len(report.strategies)}",
                                        "put one strategy per file")])
    return report.strategies[0]


def load_deployment(path: str | Path) -> Deployment:
    report = validate_file(path)
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ManifestError(errors)
    if not report.deployments and report.strategies:
        raise ManifestError([Diagnostic(str(path), Pos(1, 1), "K002",
                                        "this file is a Strategy; apply takes a Deployment",
                                        f"run a strategy with `superbot backtest {path}` or "
                                        f"`superbot optimize {path}`")])
    if len(report.deployments) != 1:
        raise ManifestError([Diagnostic(str(path), Pos(1, 1), "K002",
                                        f"expected one Deployment in the file, found {len(report.deployments)}",
                                        "put one deployment per file")])
    return report.deployments[0]
