"""compiler/risk.py: a deployment's risk rules compiled to postfix programs, checked in validate."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.risk import OPCODES, RiskPolicy, RiskRuleError, compile_rule
from compiler.validate import load_deployment, validate_text

ROOT = Path(__file__).resolve().parents[1]
_OP = {name: code for code, name in enumerate(OPCODES)}


def _deployment(rules: str, cap: str = "") -> str:
    return f"""apiVersion: superbot/v1
kind: Deployment
metadata: {{name: d}}
spec:
  mode: backtest
  strategies:
    - path: {ROOT / 'strategies' / 'rsi_mean_reversion.yaml'}
  symbols: [BTC/USDT]
  risk:
{cap}    rules:
{rules}"""


def test_compile_rule_emits_postfix_program() -> None:
    rule = compile_rule("drawdown > 0.1 or not daily_pnl >= -0.03", "halt")

    assert rule.program == ((_OP["term"], 0.0), (_OP["num"], 0.1), (_OP[">"], 0.0),
                            (_OP["term"], 1.0), (_OP["num"], -0.03), (_OP[">="], 0.0), (_OP["not"], 0.0),
                            (_OP["or"], 0.0))
    assert rule.terms == ("drawdown", "daily_pnl")
    assert rule.depth == 3


def test_compile_rule_between_is_both_inclusive_comparisons() -> None:
    rule = compile_rule("exposure between [0.5, 2 * 0.5 + 1]", "alert")

    ops = [op for op, _ in rule.program]
    assert ops == [_OP["term"], _OP["num"], _OP[">="], _OP["term"], _OP["num"], _OP["num"], _OP["*"],
                   _OP["num"], _OP["+"], _OP["<="], _OP["and"]]


def test_compile_rule_pause_entries_is_pause() -> None:
    rule = compile_rule("consecutive_losses >= 3", "pause_entries", "90m")

    assert (rule.then, rule.pause_ms) == ("pause", 90 * 60_000)
    assert rule.to_dict() == {"when": "consecutive_losses >= 3", "then": "pause", "for": "90m"}


@pytest.mark.parametrize(("when", "then", "for_", "message", "location"), [
    pytest.param("drawdwn > 0.1", "halt", None, "'drawdwn' is not a portfolio term in risk rule "
                 "'drawdwn > 0.1'", "when:1:1", id="typo"),
    pytest.param("drawdown >", "halt", None, "expression ends too early in risk rule 'drawdown >'",
                 "when:1:11", id="syntax"),
    pytest.param("drawdown > 0.1", "hault", None, "unknown action 'hault'", "then", id="action"),
    pytest.param("drawdown > 0.1", "close_all", "4h", "'for' applies to then: pause, not to then: close_all",
                 "for", id="for-without-pause"),
    pytest.param("drawdown > 0.1", "pause", "soon", "for: 'soon' is not a positive duration", "for",
                 id="bad-duration"),
])
def test_compile_rule_rejects_with_location(when: str, then: str, for_: str | None, message: str,
                                            location: str) -> None:
    with pytest.raises(RiskRuleError) as info:
        compile_rule(when, then, for_)

    assert (str(info.value), info.value.location) == (message, location)


def test_compile_rule_unknown_action_suggests_closest() -> None:
    with pytest.raises(RiskRuleError) as info:
        compile_rule("drawdown > 0.1", "hault")

    assert info.value.hint == "did you mean 'halt'?"


def test_risk_policy_from_dict_round_trips() -> None:
    data = {"max_open_positions": 2, "rules": [{"when": "drawdown > 0.15", "then": "halt"},
                                               {"when": "daily_pnl < -0.03", "then": "pause", "for": "4h"}]}

    policy = RiskPolicy.from_dict(data)

    assert policy.to_dict() == data
    assert RiskPolicy.from_dict(policy.to_dict()) == policy


def test_risk_policy_from_dict_rejects_unknown_option() -> None:
    with pytest.raises(RiskRuleError) as info:
        RiskPolicy.from_dict({"max_open_position": 2})

    assert (str(info.value), info.value.hint) == ("unknown risk option 'max_open_position'",
                                                  "did you mean 'max_open_positions'?")


def test_validate_deployment_compiles_its_risk_block(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(_deployment("      - {when: 'drawdown > 0.15', then: halt}\n"
                                "      - {when: 'exposure > 0.5', then: pause_entries}\n",
                                cap="    max_open_positions: 3\n"))

    dep = load_deployment(path)

    assert dep.risk.max_open_positions == 3
    assert [(r.when, r.then, r.pause_ms) for r in dep.risk.rules] == [("drawdown > 0.15", "halt", None),
                                                                      ("exposure > 0.5", "pause", None)]


def test_validate_reports_every_bad_term_of_a_rule() -> None:
    report = validate_text(_deployment("      - {when: 'close > 1 and drawdwn > 0.1 or ema(close, 3) > 1', "
                                       "then: halt}\n"), "d.yaml")

    assert [(d.code, d.column, d.message) for d in report.diagnostics] == [
        ("R001", 17, "'close' is not a portfolio term"),
        ("R001", 31, "'drawdwn' is not a portfolio term"),
        ("R001", 48, "risk rules compare portfolio terms with numbers"),
    ]


def test_example_deployments_risk_rules_compile() -> None:
    """Every example deployment with a risk block validates and compiles to at least one rule."""
    with_rules = 0
    for path in sorted((ROOT / "deployments").glob("*.yaml")):
        dep = load_deployment(path)
        with_rules += bool(dep.risk.rules)
        assert all(rule.program for rule in dep.risk.rules)

    assert with_rules >= 3


def test_risk_docs_rule_examples_compile() -> None:
    """Every rule line of docs/risk.md's examples is valid, and its full example validates."""
    text = (ROOT / "docs" / "risk.md").read_text(encoding="utf-8")
    lines = re.findall(r"^\s*- (\{when: .*\})$", text, re.MULTILINE)
    blocks = re.findall(r"```yaml\n(spec:.*?)```", text, re.DOTALL)

    assert len(lines) >= 7 and len(blocks) == 1
    rules = "".join(f"      - {line}\n" for line in lines)
    report = validate_text(_deployment(rules), "d.yaml")
    assert report.ok, report.diagnostics
    full = "apiVersion: superbot/v1\nkind: Deployment\nmetadata: {name: d}\n" + blocks[0]
    assert validate_text(full, str(ROOT / "deployments" / "doc.yaml")).ok


def test_validate_reports_a_bad_action_or_duration_once() -> None:
    report = validate_text(_deployment("      - {when: 'drawdown > 0.1', then: hault}\n"
                                       "      - {when: 'drawdown > 0.1', then: pause, for: 4x}\n"
                                       "      - {when: 'drawdown > 0.1', then: alert, for: 4h}\n"), "d.yaml")

    assert [(d.code, d.line) for d in report.diagnostics] == [("S003", 11), ("S005", 12), ("R002", 13)]
