"""Render diagnostics for people (text), machines (json), GitHub and SARIF tools.

The text form is `file:line:col: severity[CODE]: message`, the shape editors'
and CI problem matchers already parse, followed by the source line, a caret
under the offending text and the hint. A terminal must survive any file, so
the echoed line has its control characters escaped (`\\x00`) and is cut
around the column (`…`) when it is long.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from dsl.bounded_yaml import MAX_FILE_BYTES
from dsl.diagnostics import Diagnostic, Severity

__all__ = ["FORMATS", "escape", "excerpt", "render"]

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
WINDOW = 100  # characters of a long source line shown around the column


def _source_line(file: str, line: int, cache: dict[str, list[str]]) -> str | None:
    if file not in cache:
        try:
            with open(file, "rb") as fh:  # at most what the loader reads: the file may be huge
                cache[file] = fh.read(MAX_FILE_BYTES).decode("utf-8", errors="replace").splitlines()
        except OSError:
            cache[file] = []
    lines = cache[file]
    return lines[line - 1] if 0 < line <= len(lines) else None


def _visible(ch: str) -> str:
    """A character as the terminal should show it: control and invisible characters escaped."""
    if ch == "\t":
        return " "
    return ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")


def escape(text: str) -> str:
    """`text` with control and invisible characters escaped, e.g. a NUL as `\\x00`."""
    return text if text.isprintable() else "".join(_visible(c) for c in text)


def excerpt(src: str, column: int, width: int) -> tuple[str, int, int]:
    """The source line as shown, and the caret's 0-based offset and width in it.

    Escaping widens some characters, so the caret is placed by the shown
    widths; a line longer than WINDOW is cut around the caret with `…`.
    """
    shown = [_visible(c) for c in src]
    start = sum(map(len, shown[:column - 1])) + max(0, column - 1 - len(shown))
    caret = max(1, sum(map(len, shown[column - 1:column - 1 + width])))
    text = "".join(shown)
    if len(text) <= WINDOW:
        return text, start, caret
    lo = max(0, min(start - WINDOW // 3, len(text) - WINDOW))
    hi = lo + WINDOW
    head, tail = ("…" if lo > 0 else ""), ("…" if hi < len(text) else "")
    caret = max(1, min(caret, hi - start))
    return head + text[lo:hi] + tail, start - lo + len(head), caret


def _text(diags: Sequence[Diagnostic], files: int) -> str:
    out: list[str] = []
    cache: dict[str, list[str]] = {}
    for d in diags:
        where = f" ({escape(d.path)})" if d.path else ""
        out.append(f"{d.file}:{d.line}:{d.column}: {d.severity.value}[{d.code}]: {escape(d.message)}{where}")
        src = _source_line(d.file, d.line, cache)
        if src is not None:
            width = max(1, (d.pos.end_column or d.column + 1) - d.column)
            shown, start, caret = excerpt(src, d.column, width)
            out.append(f"   | {shown}")
            out.append(f"   | {' ' * start}{'^' * caret}")
        if d.hint:
            out.append(f"   = hint: {escape(d.hint)}")
    errors = sum(d.severity is Severity.ERROR for d in diags)
    warnings = sum(d.severity is Severity.WARNING for d in diags)
    out.append(f"{files} file{'s' if files != 1 else ''} checked: {errors} error{'s' if errors != 1 else ''}, "
               f"{warnings} warning{'s' if warnings != 1 else ''}")
    return "\n".join(out)


def _github_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _github(diags: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diags:
        level = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        props = (f"file={_github_escape(d.file, True)},line={d.line},col={d.column},"
                 f"title={_github_escape(d.code, True)}")
        lines.append(f"::{level} {props}::{_github_escape(message)}")
    return "\n".join(lines)


def _uri(file: str) -> str:
    """SARIF wants URIs: `file:///...` for an absolute path, a percent-encoded relative reference otherwise."""
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _sarif(diags: Sequence[Diagnostic]) -> str:
    rules = sorted({d.code for d in diags})
    results = []
    for d in diags:
        region = {"startLine": d.line, "startColumn": d.column}
        if d.pos.end_column:
            region["endColumn"] = d.pos.end_column
        results.append({
            "ruleId": d.code,
            "ruleIndex": rules.index(d.code),
            "level": d.severity.value,  # SARIF's levels are named as ours: error, warning, note
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(d.file)},
                "region": region,
            }}],
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "superbot", "informationUri": "https://github.com/superbot/superbot",
                                "rules": [{"id": r} for r in rules]}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2)


def render(diags: Sequence[Diagnostic], fmt: str, files: int) -> str:
    if fmt == "json":
        return json.dumps([d.as_dict() for d in diags], indent=2)
    if fmt == "github":
        return _github(diags)
    if fmt == "sarif":
        return _sarif(diags)
    return _text(diags, files)
