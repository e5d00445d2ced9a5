"""Property tests: whatever a user types, the parser and the checker answer with
an AST or with our own diagnostics carrying a position, never another exception."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compiler.validate import validate_text
from dsl import ast
from dsl.diagnostics import Collector, Diagnostic
from dsl.loader import load_text
from dsl.parse import ParseError, parse_condition, parse_condition_text, parse_expr

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

CONDITIONS = (ast.Compare, ast.Cross, ast.Between, ast.All, ast.AnyOf, ast.Not)
EXPRESSIONS = (ast.Num, ast.ParamRef, ast.Name, ast.Call, ast.BinOp, ast.Neg, ast.Shift, ast.At)

# Pieces of the language, so that random text is often almost valid and reaches deep rules.
TOKENS = [
    "close", "open", "volume", "hl2", "rsi_14", "ema_200", "bbands_20_2_2", ".upper", ".hist",
    "macd_12_26_9", "plus_di_14", "rsii_14", "ema", "sma", "rsi", "(", ")", "[", "]", ",", "=",
    "timeperiod", "nbdevup", "1", "0", "30", "-", "+", "*", "/", "0.5", "1e3", "$len", "$x", "@",
    "1h", "15m", "7m", "<", "<=", ">", ">=", "==", "!=", "crosses_above", "crosses_below",
    "between", "and", "or", "not", ".", "[1]", "@1h", "'", '"', "#", ":", "{", "}", "%", "${X}",
]
near_valid_text = st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)
any_text = st.one_of(st.text(max_size=40), near_valid_text,
                     st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False, width=32), any_text,
                    st.sampled_from(["<", ">", "between", "crosses_above", "5m", "1h", "$len", "all"]))
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.sampled_from(["all", "any", "not", "al", "long", "x"]), inner, max_size=3),
    ),
    max_leaves=12,
)
list_conditions = st.tuples(
    st.one_of(any_text, scalars), st.sampled_from(["<", ">", "between", "crosses_above", "=>", "and"]),
    st.one_of(any_text, scalars, st.lists(scalars, max_size=3)),
).map(list) | st.tuples(any_text, st.sampled_from(["<", ">="]), scalars, scalars).map(list)

STRATEGY = """\
apiVersion: superbot/v1
kind: Strategy
metadata: {{name: fuzz}}
spec:
  timeframe: 5m
  params:
    len: {{default: 14, int: [2, 30]}}
    x: {{default: 1.5, float: [0.5, 3.0]}}
  entry:
    long: {entry}
  exit:
    long: ['close', '<', 'ema_50']
  risk: {{stoploss: -0.05}}
"""


def _assert_positioned(diagnostics: list[Diagnostic], text: str) -> None:
    lines = text.count("\n") + 1
    for d in diagnostics:
        assert d.code[0] in "EKSPCTDRW" and d.code != "X001", d
        assert 1 <= d.line <= lines + 1, d
        assert d.column >= 1, d
        assert d.message


@SETTINGS
@given(text=any_text)
def test_parse_condition_text_returns_an_ast_or_a_positioned_parse_error(text: str) -> None:
    try:
        result = parse_condition_text(text)
    except ParseError as exc:
        assert exc.line >= 1 and exc.column >= 1 and exc.args[0]
    else:
        assert isinstance(result, CONDITIONS)


@SETTINGS
@given(text=any_text)
def test_parse_expr_returns_an_ast_or_a_positioned_parse_error(text: str) -> None:
    try:
        result = parse_expr(text)
    except ParseError as exc:
        assert exc.line >= 1 and exc.column >= 1
    else:
        assert isinstance(result, EXPRESSIONS)


@SETTINGS
@given(value=st.one_of(structures, list_conditions))
@example(value={"not": None})  # was None without a diagnostic: the not: key looked like a stray block beside it
@example(value={"not": {"not": None}})
def test_parse_condition_of_yaml_values_returns_an_ast_or_diagnostics(value: object) -> None:
    text = "cond: " + json.dumps(value) + "\n"
    out = Collector("<fuzz>")
    (doc,) = load_text(text, "<fuzz>", out)
    result = parse_condition(doc.data["cond"], ("cond",), doc.source, out)
    if result is None:
        assert out.has_errors
    else:
        assert isinstance(result, CONDITIONS)
    _assert_positioned(out.items, text)


@SETTINGS
@given(entry=st.one_of(structures, list_conditions, any_text))
def test_validate_of_a_random_entry_condition_reports_only_positioned_diagnostics(entry: object) -> None:
    text = STRATEGY.format(entry=json.dumps(entry))
    report = validate_text(text, "fuzz.yaml")
    _assert_positioned(report.diagnostics, text)
    assert report.ok == (len(report.strategies) == 1)


@SETTINGS
@given(spec=st.dictionaries(
    st.sampled_from(["timeframe", "params", "entry", "exit", "risk", "sizing", "extra"]),
    structures, max_size=5))
def test_validate_of_a_random_spec_reports_only_positioned_diagnostics(spec: dict[str, object]) -> None:
    text = "apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: fuzz}\nspec: " + json.dumps(spec) + "\n"
    report = validate_text(text, "fuzz.yaml")
    _assert_positioned(report.diagnostics, text)


deployment_values = st.one_of(
    structures,
    st.sampled_from(["live", "demo", "paper", "backtest", "${SB_FUZZ_UNSET}", "${X:-1}", "BTC/USDT"]),
    st.fixed_dictionaries({"path": st.one_of(any_text, st.just("../strategies/rsi_mean_reversion.yaml"))},
                          optional={"params": st.dictionaries(st.sampled_from(["rsi_buy", "rsi_bye"]), scalars)})
    .map(lambda ref: [ref]),
    st.fixed_dictionaries({}, optional={"id": any_text, "testnet": st.booleans(), "api_key": any_text}),
    st.fixed_dictionaries({"rules": st.lists(st.fixed_dictionaries(
        {"when": any_text, "then": st.sampled_from(["halt", "alert", "nap"])}), max_size=2)}),
)


@SETTINGS
@given(spec=st.dictionaries(
    st.sampled_from(["mode", "strategies", "symbols", "exchange", "risk", "live", "extra"]),
    deployment_values, max_size=6))
def test_validate_of_a_random_deployment_reports_only_positioned_diagnostics(spec: dict[str, object]) -> None:
    text = "apiVersion: superbot/v1\nkind: Deployment\nmetadata: {name: fuzz}\nspec: " + json.dumps(spec) + "\n"
    report = validate_text(text, str(ROOT / "deployments" / "fuzz.yaml"))
    _assert_positioned(report.diagnostics, text)


@SETTINGS
@given(text=st.one_of(st.text(max_size=200), st.lists(st.sampled_from(
    ["apiVersion: superbot/v1\n", "kind: Strategy\n", "kind: Deployment\n", "spec:\n", "  timeframe: 5m\n",
     "  entry:\n", "    long: ", "['close', '>', 1]\n", "- ", "  ", "\t", "---\n", "{", "[", ": ",
     "&a ", "*a ", "<<: ", "'", "key: key\n", "${X}"]), max_size=20).map("".join)))
def test_validate_of_random_files_reports_only_positioned_diagnostics(text: str) -> None:
    report = validate_text(text, "fuzz.yaml")
    _assert_positioned(report.diagnostics, text)
