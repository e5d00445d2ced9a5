"""Edit a manifest's parameter defaults without touching anything else in the file.

`superbot optimize --apply` writes the best values back into the user's
strategy. Re-dumping the YAML (even ruamel's round-trip) reflows spacing and
quotes; instead, the loader's positions locate each `default:` scalar and only
those characters are replaced, so comments, key order, spacing and flow style
stay exactly as the user wrote them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.diagnostics import Collector, ManifestError
from dsl.errors import UserError
from dsl.loader import load_text

__all__ = ["EditError", "format_number", "set_param_defaults"]


class EditError(UserError, ValueError):
    """The values cannot be written into this file (e.g. a parameter it does not declare)."""


def format_number(value: Any) -> str:
    """YAML text of a value: whole floats of int params stay ints, floats use repr's shortest form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def set_param_defaults(text: str, values: Mapping[str, Any], file: str = "<text>") -> str:
    """`text` with `spec.params.<name>.default` set to `values[name]` for each name."""
    out = Collector(file)
    docs = [d for d in load_text(text, file, out) if d.kind == "Strategy"]
    if out.has_errors or len(docs) != 1:
        raise ManifestError(out.items or [])
    doc = docs[0]
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for name, value in values.items():
        path = ("spec", "params", name, "default")
        pos = doc.source.values.get(path)
        if pos is None:
            raise EditError(f"{file} declares no parameter '{name}': is it the strategy the study optimized?")
        if pos.end_column is None:
            raise EditError(f"the default of '{name}' in {file} spans several lines; write it on one line")
        edits.append((pos.line - 1, pos.column - 1, pos.end_column - 1, format_number(value)))
    for line, start, end, new in sorted(edits, reverse=True):
        lines[line] = lines[line][:start] + new + lines[line][end:]
    return "".join(lines)
