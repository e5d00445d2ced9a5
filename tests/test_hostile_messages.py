"""Messages of issue 9: one real error without its consequential noise, hints that name the fix,
and a text format that survives any source line."""
from __future__ import annotations

import ast as pyast
import graphlib
from pathlib import Path

import pytest

from compiler.validate import validate_text
from dsl.diagnostics import Diagnostic, Pos, Severity
from dsl.formats import excerpt, render

ROOT = Path(__file__).resolve().parent.parent
HEAD = "apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: t}\nspec:\n  timeframe: 5m\n"
PARAMS = "  params:\n    rsi_buy: {default: 30, int: [15, 40]}\n    len: {default: 14, int: [2, 40]}\n"


def _found(text: str) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.line, d.column, d.message) for d in validate_text(text, "x.yaml").diagnostics]


# --- no consequential W001 ------------------------------------------------------------------------

def test_param_typo_reports_the_unknown_reference_without_never_used() -> None:
    found = _found(HEAD + PARAMS + "  entry:\n    long: ['rsi($len)', '<', '$rsi_bye']\n")

    assert found == [("C004", 10, 31, "unknown parameter '$rsi_bye'")]


def test_timeframe_typo_does_not_call_the_parameter_in_that_term_unused() -> None:
    found = _found(HEAD + PARAMS + "  entry:\n    long: ['rsi($len)', '<', '$rsi_buy', '45m']\n")

    assert found == [("T001", 10, 42, "'45m' is not a supported timeframe")]


def test_unrelated_unused_parameter_is_still_reported_beside_an_error() -> None:
    found = _found(HEAD + PARAMS + "  entry:\n    long: ['rsii_14', '<', '$rsi_buy']\n")

    assert found == [("W001", 8, 5, "parameter 'len' is never used"),
                     ("C001", 10, 13, "unknown indicator 'rsii_14'")]


# --- C012 in the same pass as the other errors ------------------------------------------------------

def test_bad_parameter_range_is_reported_beside_another_error() -> None:
    text = (HEAD + "  params:\n    len: {default: 14, int: [1, 30]}\n  entry:\n"
            "    long: {all: ['rsi(close, $len) < 30', 'rsii_14 > 1']}\n")

    found = _found(text)

    assert found == [
        ("C012", 7, 30, "range of '$len' includes 1, which is invalid: rsi: timeperiod must be between 2 and 100000,"
                        " was 1"),
        ("C001", 9, 44, "unknown indicator 'rsii_14'"),
    ]


# --- noise beside the real error ------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "expected"), [
    pytest.param("    long:\n    all: [['close', '>', 1]]\n", [("S001", 8, 5, "unknown key 'all' in spec.entry")],
                 id="block-indented-under-entry"),
    pytest.param("    long:\n  any: [['close', '>', 1]]\n", [("S001", 8, 3, "unknown key 'any' in spec")],
                 id="block-indented-under-spec"),
    pytest.param("    long: &c {all: [*c]}\n", [("E002", 7, 21, "recursive YAML alias")], id="recursive-alias"),
])
def test_loader_or_layout_error_comes_without_a_condition_was_none(
        entry: str, expected: list[tuple[str, int, int, str]]) -> None:
    assert _found(HEAD + "  entry:\n" + entry) == expected


# --- hints that name the fix ----------------------------------------------------------------------

def test_unsupported_timeframe_of_a_term_suggests_the_nearest_by_duration() -> None:
    (diag,) = validate_text(HEAD + "  entry:\n    long: 'rsi_14@45m > 50'\n").diagnostics

    assert (diag.code, diag.message) == ("T001", "'45m' is not a supported timeframe")
    assert diag.hint == "use 30m or 1h; supported timeframes: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w"


def test_unclosed_bracket_note_follows_its_error() -> None:
    report = validate_text(HEAD + "  entry:\n    long: ['rsi_14', '<', 30\n  exit:\n    long: ['rsi_14', '>', 70]\n")

    assert [(d.severity, d.line, d.column) for d in report.diagnostics] == [
        (Severity.ERROR, 8, 7), (Severity.NOTE, 7, 11)]
    assert report.ok is False


# --- the text format on hostile lines -------------------------------------------------------------

def test_excerpt_escapes_control_characters_and_keeps_the_caret_under_the_text() -> None:
    shown, start, width = excerpt("a: '\x00\x07' bad", 9, 3)

    assert shown == "a: '\\x00\\x07' bad"
    assert shown[start:start + width] == "bad"


def test_excerpt_cuts_a_long_line_around_the_column() -> None:
    src = "x" * 50_000 + "rsii_14" + "y" * 50_000

    shown, start, width = excerpt(src, 50_001, 7)

    assert len(shown) == 102 and shown.startswith("…") and shown.endswith("…")
    assert shown[start:start + width] == "rsii_14"


def test_text_render_escapes_control_characters_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")
    diag = Diagnostic(str(path), Pos(1, 1), "S001", "unknown key '\u202ea\x00'", "remove '\x1b[31m'")

    text = render([diag], "text", 1)

    assert "unknown key '\\u202ea\\x00'" in text
    assert "remove '\\x1b[31m'" in text
    assert all(ch.isprintable() for line in text.splitlines() for ch in line)


def test_text_render_counts_notes_neither_as_errors_nor_warnings(tmp_path: Path) -> None:
    diags = [Diagnostic("x.yaml", Pos(2, 1), "E001", "bad"),
             Diagnostic("x.yaml", Pos(1, 1), "E001", "opened here", severity=Severity.NOTE)]

    assert render(diags, "text", 1).splitlines()[-1] == "1 file checked: 1 error, 0 warnings"


# --- layers: no import cycle in dsl/ and compiler/ ------------------------------------------------

def _imports(module: Path) -> set[str]:
    """Our modules that `module` imports, at top level or inside functions."""
    found: set[str] = set()
    for node in pyast.walk(pyast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, pyast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found |= {n for n in names if n.split(".")[0] in ("dsl", "compiler")}
        elif isinstance(node, pyast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in ("dsl", "compiler")}
    return found


def test_dsl_and_compiler_modules_import_no_cycle() -> None:
    modules = {f"{p.parent.name}.{p.stem}": p for d in ("dsl", "compiler") for p in (ROOT / d).glob("*.py")
               if p.stem != "__init__"}
    graph = {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}

    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError, naming the cycle
    assert not any(m.startswith("compiler.") for name, deps in graph.items() if name.startswith("dsl.")
                   for m in deps)
