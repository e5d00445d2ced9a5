"""Diagnostics: what a user is told about a manifest, and where.

Every stage (YAML loading, JSON Schema, the grammar, semantic checks) reports
problems as `Diagnostic` values instead of raising on the first one, so that a
single `superbot validate` run shows every problem of every file. A stage that
cannot go on raises `ManifestError` carrying what it collected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from dsl.errors import UserError

__all__ = ["Collector", "Diagnostic", "ManifestError", "Pos", "Severity"]


class Severity(str, Enum):  # noqa: UP042 (a str mixin keeps `severity == "error"` working for callers)
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # more about the error before it, e.g. where an unclosed bracket opened


@dataclass(frozen=True, slots=True)
class Pos:
    """1-based line and column of a place in a source file; `end_column` is exclusive."""

    line: int
    column: int
    end_column: int | None = None

    def shifted(self, offset: int, length: int | None = None) -> Pos:
        """The position `offset` characters to the right on the same line."""
        col = self.column + offset
        return Pos(self.line, col, None if length is None else col + length)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    pos: Pos
    code: str
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR
    path: str = ""

    @property
    def line(self) -> int:
        return self.pos.line

    @property
    def column(self) -> int:
        return self.pos.column

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.pos.line,
            "column": self.pos.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "path": self.path,
        }


class ManifestError(UserError):
    """The manifest must be fixed by the user; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        text = (
            f"{first.file}:{first.line}:{first.column}: {first.message}" if first else "invalid manifest"
        )
        super().__init__(text)


@dataclass
class Collector:
    """Accumulates diagnostics for one file so that checks never stop at the first."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self, pos: Pos, code: str, message: str, hint: str | None = None, path: str = ""
    ) -> None:
        self.items.append(Diagnostic(self.file, pos, code, message, hint, Severity.ERROR, path))

    def warning(
        self, pos: Pos, code: str, message: str, hint: str | None = None, path: str = ""
    ) -> None:
        self.items.append(Diagnostic(self.file, pos, code, message, hint, Severity.WARNING, path))

    def note(self, pos: Pos, code: str, message: str, hint: str | None = None, path: str = "") -> None:
        self.items.append(Diagnostic(self.file, pos, code, message, hint, Severity.NOTE, path))

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)
