"""Fuzzing of YAML structure: anchors and aliases (also undefined or recursive), nesting past the
limit, unicode, and numbers YAML reads as NaN, infinity or huge integers. Whatever the text,
`validate` answers with located diagnostics of its own, never an exception or an internal X001."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.validate import validate_text
from dsl import ast
from dsl.bounded_yaml import MAX_DEPTH
from dsl.diagnostics import Collector, Pos
from dsl.loader import SourceMap
from dsl.parse import ParseError, parse_condition, parse_expr

SETTINGS = settings(max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEAD = "apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: t}\nspec:\n  timeframe: 5m\n"

NUMBERS = [".nan", ".NaN", ".inf", "-.inf", "1e400", "-1e400", "0x" + "f" * 80, "9" * 400, "1_000", "0o17",
           "-0.0", "1e-400", "0"]
WORDS = ["close", "rsi_14", "$len", "<", ">", "between", "crosses_above", "all", "any", "not", "5m", "45m",
         "rsi_14 < 30", "${X}", "~", "null", "true", "yes", "<<"]
unicode_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)


@st.composite
def yaml_nodes(draw: st.DrawFn, depth: int = 0) -> str:
    """Flow-style YAML text with anchors, aliases (to any anchor name, defined or not) and deep nesting."""
    anchor = f"&a{draw(st.integers(0, 5))} " if draw(st.booleans()) else ""
    choice = draw(st.integers(0, 9)) if depth < 3 * MAX_DEPTH // 2 else 0
    if choice == 0:
        return draw(st.one_of(st.sampled_from(NUMBERS), st.sampled_from(WORDS).map(json.dumps),
                              unicode_text.map(json.dumps), st.just("'it''s'")))
    if choice == 1:
        return f"*a{draw(st.integers(0, 5))}"
    if choice == 2:  # a straight run of nesting, often past the limit
        n = draw(st.integers(1, 2 * MAX_DEPTH))
        return "[" * n + draw(yaml_nodes(depth=depth + n)) + "]" * n
    if choice <= 5:
        items = draw(st.lists(yaml_nodes(depth=depth + 1), max_size=4))
        return anchor + "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.one_of(st.sampled_from(WORDS + NUMBERS), unicode_text.map(json.dumps)), max_size=3))
    values = [draw(yaml_nodes(depth=depth + 1)) for _ in keys]
    return anchor + "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"


PLACES = [
    lambda node: HEAD + f"  entry:\n    long: {node}\n",
    lambda node: HEAD + f"  params: {node}\n  entry:\n    long: ['close', '>', 1]\n",
    lambda node: HEAD + f"  entry:\n    long: ['close', '>', 1]\n  risk: {node}\n  sizing: {{stake: {node}}}\n",
    lambda node: f"x: {node}\n---\n" + HEAD + "  entry:\n    long: {all: [*a0, *a1]}\n",
    lambda node: node,
]


@SETTINGS
@given(node=yaml_nodes(), place=st.sampled_from(PLACES))
def test_fuzzed_yaml_structure_gets_located_diagnostics(node: str, place: object) -> None:
    text = place(node)  # type: ignore[operator]  # one of PLACES
    lines = text.count("\n") + 1

    report = validate_text(text, "fuzz.yaml")

    assert all(1 <= d.line <= lines + 1 and d.column >= 1 for d in report.diagnostics)
    assert not any(d.code == "X001" for d in report.diagnostics), report.diagnostics


@SETTINGS
@given(name=st.from_regex(r"\$?[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True))
def test_list_term_shortcut_builds_what_the_grammar_builds(name: str) -> None:
    base = Pos(3, 9)
    smap = SourceMap(values={("c", 0): base})
    out = Collector("x")

    cond = parse_condition([name, "<", 1], ("c",), smap, out)

    try:
        expected: ast.Expr | None = parse_expr(name, base)
    except ParseError:  # a keyword: the grammar refuses it, and so does the list form
        expected = None
    assert (cond.left if isinstance(cond, ast.Compare) else None) == expected
