"""The condition language: both spellings meet in one AST; names resolve through the registry."""
from __future__ import annotations

import json
from typing import Any

import pytest
import talib
from talib import abstract

from compiler import indicators as reg
from compiler.compile import compile_strategy
from compiler.resolve import Scope, resolve_condition, resolve_expr, split_shorthand
from compiler.terms import Arith, Column, Const, Indicator, Lag
from compiler.validate import validate_text
from dsl import ast
from dsl.diagnostics import Collector, Pos
from dsl.loader import load_text
from dsl.parse import parse_condition, parse_condition_text, parse_expr


def _yaml_condition(value: Any) -> ast.Cond:
    """The AST of a condition written in YAML (list form, string form or blocks)."""
    out = Collector("<test>")
    (doc,) = load_text("cond: " + json.dumps(value) + "\n", "<test>", out)
    cond = parse_condition(doc.data["cond"], ("cond",), doc.source, out)
    assert out.items == []
    assert cond is not None
    return cond


def _term(text: str, params: dict[str, Any] | None = None, timeframe: str = "5m") -> Any:
    scope = Scope(timeframe, params or {}, Collector("<test>"))
    term = resolve_expr(parse_expr(text), scope)
    assert scope.out.items == []
    return term


def _close(tf: str = "5m") -> Column:
    return Column("close", tf)


# --- list form and string form -----------------------------------------------------------------

@pytest.mark.parametrize(("as_list", "as_string"), [
    pytest.param(["rsi_14", "<", 30], "rsi_14 < 30", id="compare"),
    pytest.param(["rsi_14", "<", "$rsi_buy"], "rsi_14 < $rsi_buy", id="param"),
    pytest.param(["rsi_14", ">", 50, "15m"], "rsi_14@15m > 50", id="timeframe"),
    pytest.param(["close", ">", "ema_200", "1h"], "close@1h > ema_200@1h", id="timeframe-both-sides"),
    pytest.param(["ema_9", "crosses_above", "ema_21"], "ema_9 crosses_above ema_21", id="cross"),
    pytest.param(["ema_9", "crosses_below", "ema_21"], "crosses_below(ema_9, ema_21)", id="cross-call"),
    pytest.param(["rsi_14", "between", [30, 70]], "rsi_14 between [30, 70]", id="between"),
    pytest.param(["volume", ">", "sma(volume, 20) * 2"], "volume > sma(volume, 20) * 2", id="arithmetic"),
    pytest.param(["close", "<=", -0.5], "close <= -0.5", id="negative-number"),
    pytest.param(["close[1]", "!=", "open"], "close[1] != open", id="shift"),
])
def test_list_form_and_string_form_give_equal_asts(as_list: list[Any], as_string: str) -> None:
    assert _yaml_condition(as_list) == _yaml_condition(as_string)


def test_ast_equality_ignores_positions() -> None:
    left = parse_condition_text("rsi_14 < 30", Pos(3, 5))
    right = parse_condition_text("  rsi_14  <  30", Pos(40, 1))

    assert left == right
    assert left.pos != right.pos


def test_ast_of_a_string_condition_keeps_its_place_in_the_file() -> None:
    out = Collector("<test>")
    (doc,) = load_text("a: 1\ncond: 'close > rsi_14'\n", "<test>", out)

    cond = parse_condition(doc.data["cond"], ("cond",), doc.source, out)

    assert isinstance(cond, ast.Compare)
    assert (cond.right.pos.line, cond.right.pos.column) == (2, 16)


def test_string_and_or_not_follow_precedence() -> None:
    cond = parse_condition_text("close > 1 and open > 2 or not high > 3")

    assert cond == ast.AnyOf((
        ast.All((ast.Compare(">", ast.Name("close"), ast.Num(1)), ast.Compare(">", ast.Name("open"), ast.Num(2)))),
        ast.Not(ast.Compare(">", ast.Name("high"), ast.Num(3))),
    ))


def test_arithmetic_binds_multiplication_before_subtraction() -> None:
    assert parse_expr("close - open * 2") == ast.BinOp(
        "-", ast.Name("close"), ast.BinOp("*", ast.Name("open"), ast.Num(2)))


def test_yaml_blocks_nest_like_parenthesised_strings() -> None:
    blocks = {"all": [
        {"any": [["rsi_14", "<", 30], "close < bbands_20_2_2.lower"]},
        {"not": ["close", "<", "ema_200", "1h"]},
    ]}

    assert _yaml_condition(blocks) == parse_condition_text(
        "(rsi_14 < 30 or close < bbands_20_2_2.lower) and not close@1h < ema_200@1h")


def test_list_timeframe_applies_only_to_terms_without_their_own() -> None:
    cond = _yaml_condition(["rsi_14", ">", "rsi_14@4h", "1h"])
    predicate = resolve_condition(cond, Scope("5m", {}, Collector("<test>")))

    assert predicate.left == Indicator("rsi", (_close("1h"),), (("timeperiod", 14.0),), "real", "1h")
    assert predicate.right == Indicator("rsi", (_close("4h"),), (("timeperiod", 14.0),), "real", "4h")


def test_list_timeframe_leaves_constants_alone() -> None:
    cond = _yaml_condition(["rsi_14", "between", [30, "$hi"], "15m"])

    assert cond == ast.Between(ast.At(ast.Name("rsi_14"), "15m"), ast.Num(30), ast.ParamRef("hi"))


# --- names, outputs, function form ---------------------------------------------------------------

@pytest.mark.parametrize(("ident", "name", "values"), [
    pytest.param("rsi_14", "rsi", [14], id="rsi_14"),
    pytest.param("plus_di_14", "plus_di", [14], id="plus_di_14"),
    pytest.param("ht_trendline", "ht_trendline", [], id="ht_trendline"),
    pytest.param("linearreg_slope_20", "linearreg_slope", [20], id="linearreg_slope_20"),
    pytest.param("bbands_20_2_2", "bbands", [20, 2, 2], id="bbands_20_2_2"),
    pytest.param("cdl3blackcrows", "cdl3blackcrows", [], id="digit-inside-name"),
])
def test_split_shorthand_takes_trailing_numbers_as_parameters(ident: str, name: str, values: list[int]) -> None:
    assert split_shorthand(ident) == (name, values)


@pytest.mark.parametrize(("text", "func", "params", "output"), [
    pytest.param("plus_di_14", "plus_di", {"timeperiod": 14.0}, "real", id="plus_di_14"),
    pytest.param("ht_trendline", "ht_trendline", {}, "real", id="ht_trendline"),
    pytest.param("linearreg_slope_20", "linearreg_slope", {"timeperiod": 20.0}, "real", id="linearreg_slope_20"),
    pytest.param("bbands_20_2_2.upper", "bbands",
                 {"timeperiod": 20.0, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0.0}, "upperband",
                 id="friendly-output"),
    pytest.param("bbands_20_2_2.lowerband", "bbands",
                 {"timeperiod": 20.0, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0.0}, "lowerband",
                 id="talib-output"),
    pytest.param("macd_12_26_9.hist", "macd", {"fastperiod": 12.0, "slowperiod": 26.0, "signalperiod": 9.0},
                 "macdhist", id="macd-hist"),
    pytest.param("macd_12_26_9.macdsignal", "macd",
                 {"fastperiod": 12.0, "slowperiod": 26.0, "signalperiod": 9.0}, "macdsignal", id="macd-signal"),
    pytest.param("ema_200", "ema", {"timeperiod": 200.0}, "real", id="ema_200"),
    pytest.param("atr_14", "atr", {"timeperiod": 14.0}, "real", id="atr_14"),
    pytest.param("RSI_14", "rsi", {"timeperiod": 14.0}, "real", id="upper-case"),
])
def test_shorthand_resolves_to_the_talib_function(text: str, func: str, params: dict[str, float],
                                                  output: str) -> None:
    term = _term(text)

    assert isinstance(term, Indicator)
    assert (term.func, dict(term.params), term.output, term.timeframe) == (func, params, output, "5m")


def test_shorthand_fills_missing_parameters_with_talib_defaults() -> None:
    assert _term("bbands_20.upper") == _term("bbands(close, 20, 2, 2, 0).upperband")


def test_function_form_with_keywords_equals_the_shorthand() -> None:
    assert _term("bbands(close, timeperiod=20, nbdevup=2).upper") == _term("bbands_20_2.upper")


def test_function_form_takes_a_derived_price_as_input() -> None:
    hl2 = Arith("/", Arith("+", Column("high", "5m"), Column("low", "5m"), "5m"), Const(2.0), "5m")

    assert _term("ema(hl2, 50)") == Indicator("ema", (hl2,), (("timeperiod", 50.0),), "real", "5m")


def test_function_form_takes_an_indicator_as_input() -> None:
    obv = Indicator("obv", (_close(), Column("volume", "5m")), (), "real", "5m")

    assert _term("sma(obv, 30)") == Indicator("sma", (obv,), (("timeperiod", 30.0),), "real", "5m")


def test_function_form_takes_an_expression_as_input() -> None:
    body = Arith("-", _close(), Column("open", "5m"), "5m")

    assert _term("ema(close - open, 10)") == Indicator("ema", (body,), (("timeperiod", 10.0),), "real", "5m")


def test_function_form_without_inputs_uses_the_default_series() -> None:
    assert _term("ema(50)") == _term("ema(close, 50)") == _term("ema_50")


@pytest.mark.parametrize("text", [
    pytest.param("rsi(close, $len)", id="positional"),
    pytest.param("rsi(close, timeperiod=$len)", id="keyword"),
])
def test_param_stands_for_an_indicator_parameter(text: str) -> None:
    scope = Scope("5m", {"len": 10}, Collector("<test>"))

    term = resolve_expr(parse_expr(text), scope)

    assert term == Indicator("rsi", (_close(),), (("timeperiod", 10.0),), "real", "5m")
    assert scope.used_params == {"len"}


def test_previous_value_is_a_lag_on_its_own_timeframe() -> None:
    assert _term("close[1]") == Lag(_close(), 1, "5m")
    assert _term("close@1h[2]") == Lag(_close("1h"), 2, "1h")


def test_at_timeframe_moves_the_indicator_and_its_inputs() -> None:
    assert _term("rsi_14@1h") == Indicator("rsi", (_close("1h"),), (("timeperiod", 14.0),), "real", "1h")


# --- the registry ----------------------------------------------------------------------------------

def test_registry_holds_every_talib_function() -> None:
    assert {f.lower() for f in talib.get_functions()} <= set(reg.REGISTRY)


@pytest.mark.parametrize("func", [pytest.param(f, id=f) for f in ("BBANDS", "MACD", "STOCH", "ADX", "MAVP")])
def test_registry_copies_talib_parameters_and_outputs(func: str) -> None:
    info = abstract.Function(func).info
    spec = reg.get(func)

    assert spec is not None
    assert spec.defaults() == dict(info["parameters"])
    assert spec.outputs == tuple(o.lower() for o in info["output_names"])


def test_registry_lookback_is_talib_lookback() -> None:
    assert reg.get("ema").lookback({"timeperiod": 200}) == 199  # type: ignore[union-attr]
    assert reg.get("macd").lookback({"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}) == 33  # type: ignore[union-attr]
    assert reg.get("rsi").lookback({"timeperiod": 1}) == -1  # type: ignore[union-attr]


def test_registry_friendly_output_names() -> None:
    assert reg.get("bbands").output("upper") == "upperband"  # type: ignore[union-attr]
    assert reg.get("macd").output("signal") == "macdsignal"  # type: ignore[union-attr]
    assert reg.get("aroon").output("up") == "aroonup"  # type: ignore[union-attr]
    assert reg.get("macd").output(None) is None  # type: ignore[union-attr]


# --- the DAG ---------------------------------------------------------------------------------------

_DEDUP = """\
apiVersion: superbot/v1
kind: Strategy
metadata: {name: dedup}
spec:
  timeframe: 5m
  entry:
    long: ['rsi_14', '<', 30]
  exit:
    long:
      any:
        - ['rsi(close, 14)', '>', 70]
        - ['rsi_14', '>', 50, '15m']
"""


def test_graph_shares_one_node_for_an_indicator_used_in_entry_and_exit() -> None:
    (strategy,) = validate_text(_DEDUP, "dedup.yaml").strategies

    graph = compile_strategy(strategy).graph

    entry, exit_ = graph.signals["entry_long"], graph.signals["exit_long"]
    assert entry.left is exit_.items[0].left  # type: ignore[union-attr]
    assert entry.left is not exit_.items[1].left  # type: ignore[union-attr]  # 15m is another series
    rsis = [n for n in graph.order if isinstance(n, Indicator) and n.func == "rsi"]
    assert sorted(n.timeframe for n in rsis) == ["15m", "5m"]
