"""Portfolio risk rules: a deployment's `risk:` block compiled to flat programs.

The kernel evaluates the rules on every bar's close inside its compiled loop,
where no Python object can go; so each `when:` becomes a short postfix (RPN)
program of `(opcode, argument)` pairs over the five portfolio terms, and the
one implementation in `engine/kernel/risk.py` runs it for every driver
(backtest, optimize, the bar-by-bar Stepper). Nothing here imports numpy or
the engine: `superbot validate` compiles the rules too.

Steps:
1. parse `when` with the condition grammar (`dsl.parse`): located P001 errors;
2. check the tree (`_check`): portfolio terms, numbers, arithmetic,
   comparisons, `between`, and/or/not; anything else is R001 with a hint;
3. check `then` and `for` (`_action`): R002;
4. emit the program (`_emit`), and its stack depth for the evaluator.

The terms and actions are defined precisely in docs/risk.md.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.timeframes import MINUTE_MS, duration_ms
from dsl import ast
from dsl.diagnostics import Collector, Pos
from dsl.errors import UserError
from dsl.loader import Document, path_text
from dsl.parse import ParseError, parse_condition, parse_condition_text
from dsl.suggest import did_you_mean

__all__ = [
    "ACTIONS",
    "ACTION_ALIASES",
    "MAX_PROGRAM",
    "OPCODES",
    "PORTFOLIO_TERMS",
    "RiskPolicy",
    "RiskRule",
    "RiskRuleError",
    "check_risk",
    "compile_rule",
]

# Order matters: a term's index is its slot in the kernel's term vector.
PORTFOLIO_TERMS = ("drawdown", "daily_pnl", "open_positions", "exposure", "consecutive_losses")
# Order matters: an action's index is its code in the kernel.
ACTIONS = ("halt", "close_all", "pause", "alert")
ACTION_ALIASES = {"pause_entries": "pause"}   # the name earlier examples used
MAX_PROGRAM = 256   # opcodes per rule: a bound on the kernel's work per bar

# opcodes: NUM pushes its argument, TERM pushes term[argument]; the others pop
# their operands and push the result (comparisons and logic push 1.0 or 0.0)
OPCODES = ("num", "term", "+", "-", "*", "/", "neg", "<", "<=", ">", ">=", "==", "!=", "and", "or", "not")
_OP = {name: code for code, name in enumerate(OPCODES)}


class RiskRuleError(UserError):
    """A risk rule given as text (not in a manifest) is invalid; the message says where."""


@dataclass(frozen=True, kw_only=True)
class RiskRule:
    """One compiled rule. `pause_ms` is None for a pause that lasts while `when` holds."""

    when: str
    then: str
    pause_ms: int | None = None
    program: tuple[tuple[int, float], ...]
    terms: tuple[str, ...]   # the portfolio terms the rule reads, in PORTFOLIO_TERMS order
    depth: int               # stack slots the program needs

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"when": self.when, "then": self.then}
        if self.pause_ms is not None:
            out["for"] = _duration_text(self.pause_ms)
        return out


@dataclass(frozen=True, kw_only=True)
class RiskPolicy:
    """A deployment's risk block: a cap on open positions and the portfolio rules."""

    max_open_positions: int | None = None
    rules: tuple[RiskRule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"max_open_positions": self.max_open_positions, "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskPolicy:
        """From plain data shaped like a deployment's `risk:` block (API, tests, saved runs)."""
        unknown = sorted(set(data) - {"max_open_positions", "rules"})
        if unknown:
            raise RiskRuleError(f"unknown risk option {unknown[0]!r}",
                                hint=did_you_mean(unknown[0], ["max_open_positions", "rules"])
                                or "use max_open_positions and rules")
        cap = data.get("max_open_positions")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise RiskRuleError(f"max_open_positions was {cap!r}", location="max_open_positions",
                                hint="use a whole number >= 1")
        rules = []
        for i, rule in enumerate(data.get("rules") or ()):
            if not isinstance(rule, Mapping) or not isinstance(rule.get("when"), str):
                raise RiskRuleError(f"rule {i} was {rule!r}", location=f"rules[{i}]",
                                    hint="write {when: 'drawdown > 0.15', then: halt}")
            rules.append(compile_rule(rule["when"], str(rule.get("then")), rule.get("for")))
        return cls(max_open_positions=cap, rules=tuple(rules))


# --- checking and compiling ----------------------------------------------------------

_Report = Callable[[Pos, str, str | None], None]


def _check(cond: ast.Cond, report: _Report) -> bool:
    """Report every node a risk rule may not use; True when there was none."""
    ok = True
    uses_term = False
    inside: set[int] = set()   # nodes under a rejected one: reporting them too would repeat the error
    for node in ast.walk(cond):
        if id(node) in inside:
            continue
        message, hint = None, None
        if isinstance(node, ast.Name):
            if node.ident not in PORTFOLIO_TERMS:
                message = f"'{node.ident}' is not a portfolio term"
                hint = did_you_mean(node.ident, PORTFOLIO_TERMS) or f"risk rules use: {', '.join(PORTFOLIO_TERMS)}"
            elif node.output is not None:
                message = f"'{node.ident}' has no output '{node.output}'"
                hint = f"write {node.ident} alone: a portfolio term is one number"
            else:
                uses_term = True
        elif isinstance(node, (ast.Call, ast.ParamRef, ast.At)):
            message = "risk rules compare portfolio terms with numbers"
            hint = f"use only {', '.join(PORTFOLIO_TERMS)}, numbers and arithmetic"
        elif isinstance(node, (ast.Shift, ast.Cross)):
            message = "risk rules see only the current value of a term"
            hint = "compare it with a number instead, e.g. 'drawdown > 0.1'"
        if message is not None:
            ok = False
            report(node.pos, message, hint)
            inside.update(id(n) for n in ast.walk(node))
    if ok and not uses_term:
        ok = False
        report(cond.pos, "this rule reads no portfolio term: it is always true or always false",
               "compare a term with a number, e.g. 'drawdown > 0.15'")
    return ok


def _emit(node: Any, code: list[tuple[int, float]]) -> None:
    """Postfix code of a checked tree (operands first, then the operator)."""
    if isinstance(node, ast.Num):
        code.append((_OP["num"], float(node.value)))
    elif isinstance(node, ast.Name):
        code.append((_OP["term"], float(PORTFOLIO_TERMS.index(node.ident))))
    elif isinstance(node, ast.Neg):
        _emit(node.operand, code)
        code.append((_OP["neg"], 0.0))
    elif isinstance(node, (ast.BinOp, ast.Compare)):
        _emit(node.left, code)
        _emit(node.right, code)
        code.append((_OP[node.op], 0.0))
    elif isinstance(node, ast.Between):   # low <= x <= high, both ends inclusive
        _emit(ast.All((ast.Compare(">=", node.operand, node.low), ast.Compare("<=", node.operand, node.high))),
              code)
    elif isinstance(node, (ast.All, ast.AnyOf)):
        op = _OP["and" if isinstance(node, ast.All) else "or"]
        _emit(node.items[0], code)
        for item in node.items[1:]:
            _emit(item, code)
            code.append((op, 0.0))
    elif isinstance(node, ast.Not):
        _emit(node.item, code)
        code.append((_OP["not"], 0.0))
    else:  # _check let something through that _emit cannot compile
        raise TypeError(f"cannot compile {type(node).__name__} in a risk rule")


def _depth(code: list[tuple[int, float]]) -> int:
    depth = deepest = 0
    for op, _ in code:
        if op in (_OP["num"], _OP["term"]):
            depth += 1
        elif op not in (_OP["neg"], _OP["not"]):
            depth -= 1
        deepest = max(deepest, depth)
    return deepest


def _program(cond: ast.Cond, report: _Report) -> tuple[tuple[tuple[int, float], ...], int] | None:
    if not _check(cond, report):
        return None
    code: list[tuple[int, float]] = []
    _emit(cond, code)
    if len(code) > MAX_PROGRAM:
        report(cond.pos, f"this rule compiles to {len(code)} steps, more than {MAX_PROGRAM}",
               "split it into several rules with the same action")
        return None
    return tuple(code), _depth(code)


def _terms(cond: ast.Cond) -> tuple[str, ...]:
    used = {n.ident for n in ast.walk(cond) if isinstance(n, ast.Name)}
    return tuple(t for t in PORTFOLIO_TERMS if t in used)


def _action(then: Any, for_: Any) -> tuple[str, int | None, tuple[str, str, str | None] | None]:
    """(action, pause ms, problem); a problem is (the key at fault: then or for, message, hint)."""
    action = ACTION_ALIASES.get(str(then), str(then))
    if action not in ACTIONS:
        return action, None, ("then", f"unknown action {then!r}",
                              did_you_mean(str(then), [*ACTIONS, *ACTION_ALIASES])
                              or f"use one of {', '.join(ACTIONS)}")
    if for_ is None:
        return action, None, None
    if action != "pause":
        return action, None, ("for", f"'for' applies to then: pause, not to then: {then}",
                              "remove for:, or use then: pause")
    ms = duration_ms(str(for_))
    if ms is None or ms <= 0:
        return action, None, ("for", f"for: {for_!r} is not a positive duration",
                              "write a whole number and m, h, d or w, e.g. 4h")
    return action, ms, None


def compile_rule(when: str, then: str, for_: str | None = None) -> RiskRule:
    """One rule from its text; RiskRuleError (with the column in `when`) when it is invalid."""
    try:
        cond = parse_condition_text(when)
    except ParseError as exc:
        raise RiskRuleError(f"{exc.args[0]} in risk rule {when!r}", location=f"when:{exc.line}:{exc.column}",
                            hint=exc.hint) from None
    problems: list[tuple[Pos, str, str | None]] = []
    compiled = _program(cond, lambda pos, msg, hint: problems.append((pos, msg, hint)))
    if compiled is None:
        pos, message, hint = problems[0]
        raise RiskRuleError(f"{message} in risk rule {when!r}", location=f"when:{pos.line}:{pos.column}", hint=hint)
    action, pause_ms, problem = _action(then, for_)
    if problem is not None:
        raise RiskRuleError(problem[1], location=problem[0], hint=problem[2])
    program, depth = compiled
    return RiskRule(when=when, then=action, pause_ms=pause_ms, program=program, terms=_terms(cond), depth=depth)


def check_risk(doc: Document, out: Collector) -> RiskPolicy | None:
    """The compiled `spec.risk` of a schema-valid deployment; None when it has errors (reported)."""
    risk = doc.data["spec"].get("risk") or {}
    errors_before = sum(1 for d in out.items if d.severity.value == "error")
    rules: list[RiskRule] = []
    for i, rule in enumerate(risk.get("rules") or []):
        where = ("spec", "risk", "rules", i)
        if not isinstance(rule, dict) or not isinstance(rule.get("when"), str):
            continue  # the schema has reported it
        wpath = (*where, "when")
        cond = parse_condition(rule["when"], wpath, doc.source, out)
        if cond is None:
            continue

        def report(pos: Pos, message: str, hint: str | None, _path: str = path_text(wpath)) -> None:
            out.error(pos, "R001", message, hint, _path)

        compiled = _program(cond, report)
        then, for_ = rule.get("then"), rule.get("for")
        if then not in (*ACTIONS, *ACTION_ALIASES) or (for_ is not None and duration_ms(str(for_)) is None):
            continue  # the schema has reported it (enum, duration pattern)
        action, pause_ms, problem = _action(then, for_)
        if problem is not None:
            key = (*where, problem[0])
            out.error(doc.source.value(key), "R002", problem[1], problem[2], path_text(key))
        elif compiled is not None:
            rules.append(RiskRule(when=rule["when"], then=action, pause_ms=pause_ms, program=compiled[0],
                                  terms=_terms(cond), depth=compiled[1]))
    if sum(1 for d in out.items if d.severity.value == "error") > errors_before:
        return None
    cap = risk.get("max_open_positions")
    return RiskPolicy(max_open_positions=cap if isinstance(cap, int) else None, rules=tuple(rules))


def _duration_text(ms: int) -> str:
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // MINUTE_MS}m"
