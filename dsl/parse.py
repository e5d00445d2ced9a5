"""Parse conditions, in list or string form, into the AST of `dsl.ast`.

Both forms go through `dsl/grammar.lark`: a list's sides are parsed as
expressions, a string as a whole condition. Errors are collected as
diagnostics positioned in the YAML file (a string's offset is added to the
scalar's position), never raised at the user.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dsl import ast
from dsl.cache_dir import user_cache_dir
from dsl.diagnostics import Collector, Pos
from dsl.errors import UserError
from dsl.loader import SourceMap, YamlPath, path_text
from dsl.suggest import did_you_mean

__all__ = [
    "COMPARE_OPS",
    "CROSS_OPS",
    "ParseError",
    "parse_condition",
    "parse_condition_text",
    "parse_expr",
]

COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
CROSS_OPS = ("crosses_above", "crosses_below")
_LIST_OPS = COMPARE_OPS + CROSS_OPS + ("between",)
_TEXT_START = Pos(1, 1)  # a text parsed on its own starts at line 1, column 1 (Pos is frozen)

_TOKEN_NAMES = {
    "COMPARE": "a comparison (< <= > >= == !=)", "CROSS": "crosses_above/crosses_below",
    "ADD": "'+' or '-'", "MUL": "'*' or '/'", "NUMBER": "a number", "INT": "a whole number",
    "NAME": "a name", "PARAM": "a $param", "TIMEFRAME": "a timeframe such as 1h",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','",
    "DOT": "'.'", "AT": "'@'", "EQUAL": "'='", "MINUS": "'-'", "$END": "end of text",
    "AND": "'and'", "OR": "'or'", "NOT": "'not'", "BETWEEN": "'between'",
}


class ParseError(UserError):
    """A condition that does not fit the grammar; `line`/`column` are within the parsed text."""

    def __init__(self, message: str, line: int, column: int, hint: str | None,
                 opened: tuple[int, int, str] | None = None):
        super().__init__(message, location=f"{line}:{column}", hint=hint)
        self.line, self.column = line, column
        self.opened = opened  # (line, column, bracket) of a bracket left open before the error


_LARK_OPTIONS: dict[str, Any] = {"parser": "lalr", "start": ["start", "expr"], "propagate_positions": True,
                                 "maybe_placeholders": True}


def _cache_dir() -> Path:
    """Where the built parser is kept between processes (never inside the package: it may be read-only)."""
    return user_cache_dir()


def _cache_file(grammar: str) -> Path:
    """One file per grammar text, Lark and Python version: a changed grammar.lark never loads a stale table."""
    import lark
    key = hashlib.sha256(f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}\0{_LARK_OPTIONS}".encode())
    return _cache_dir() / f"lark-{key.hexdigest()[:20]}.pickle"


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """The LALR parser, loaded from the user's cache (~10 ms) or built (~150 ms to 1 s) and saved there.

    The file's name holds a hash of the grammar, Lark's version and the
    options, so an edited grammar.lark is never served from an old table. It
    is written under a temporary name and renamed, so a concurrent process
    never reads half of it; an unreadable or unwritable cache only costs the
    build.
    """
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    path = _cache_file(grammar)
    # missing, truncated or foreign: built and written below
    with contextlib.suppress(Exception), path.open("rb") as fh:
        return Lark.load(fh)
    parser = Lark(grammar, **_LARK_OPTIONS)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            parser.save(fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return parser


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_TOKEN_NAMES.get(e, e.lower()) for e in expected if not e.startswith("__")})
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


_CHAIN = re.compile(r"^\s*(?P<low>[^<>=!\s]+)\s*<=?\s*(?P<mid>[^<>=!\s]+)\s*<=?\s*(?P<high>[^<>=!\s]+)\s*$")


_CLOSER = {"(": ("RPAR", ")"), "[": ("RSQB", "]")}


def _unclosed(text: str, end: int, expected: set[str]) -> tuple[int, int, str] | None:
    """(line, column, bracket) of the last '(' or '[' still open at `end`, when its closer was expected."""
    stack: list[int] = []
    for i, ch in enumerate(text[:end]):
        if ch in "([":
            stack.append(i)
        elif ch in ")]" and stack:
            stack.pop()
    if not stack or _CLOSER[text[stack[-1]]][0] not in expected:
        return None
    at = stack[-1]
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1, text[at]


def _syntax_error(text: str, exc: UnexpectedInput) -> ParseError:
    line, column = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream is not None and exc.pos_in_stream < len(text) else ""
        return ParseError(f"unexpected character {char!r} in expression", line, column,
                          "names use letters, digits and '_'; operators are < <= > >= == != + - * /")
    expected: set[str] = set(getattr(exc, "expected", None) or ())
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        end = len(text.rstrip())
        return ParseError("expression ends too early", 1, end + 1,
                          f"expected {_describe_expected(expected)}" if expected else None,
                          _unclosed(text, len(text), expected))
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        start = token.start_pos if isinstance(token.start_pos, int) else len(text)
        opened = _unclosed(text, start, expected)
        hint = f"expected {_describe_expected(expected)}"
        if token.type == "COMPARE" and opened is None:  # `1 < rsi_14 < 2`: comparisons do not chain
            chain = _CHAIN.match(text)
            hint = (f"comparisons do not chain: write '{chain['mid']} between [{chain['low']}, {chain['high']}]'"
                    if chain else "comparisons do not chain: join them with 'and', or use 'between [low, high]'")
        return ParseError(f"unexpected {token.value!r} in expression", line, column, hint, opened)
    return ParseError(str(exc), line, column, None)


def _tok_pos(tok: Token) -> tuple[int, int, int]:
    return tok.line or 1, tok.column or 1, len(str(tok))


class _Builder:
    """Tree -> AST; `base` places the text in its YAML file."""

    def __init__(self, base: Pos):
        self.base = base

    def place(self, line: int, column: int, length: int | None = None) -> Pos:
        if line == 1:
            return self.base.shifted(column - 1, length)
        return Pos(self.base.line + line - 1, column, None if length is None else column + length)

    def at(self, node: Tree[Token] | Token) -> Pos:
        if isinstance(node, Token):
            return self.place(*_tok_pos(node))
        meta = node.meta
        if getattr(meta, "empty", True):
            return self.base
        length = meta.end_column - meta.column if meta.line == meta.end_line else None
        return self.place(meta.line, meta.column, length)

    def build(self, node: Tree[Token] | Token) -> Any:
        if isinstance(node, Token):
            raise ParseError(f"unexpected {node.value!r}", *_tok_pos(node)[:2], None)
        # children are shaped by the grammar rule, not by their static type: read them as such
        ch: list[Any] = node.children
        kind, pos = node.data, self.at(node)
        if kind == "start":
            return self.build(ch[0])
        if kind == "or_":
            return ast.AnyOf(self._flat(ast.AnyOf, kind, ch), pos)
        if kind == "and_":
            return ast.All(self._flat(ast.All, kind, ch), pos)
        if kind == "not_":
            return ast.Not(self.build(ch[0]), pos)
        if kind == "compare":
            return ast.Compare(str(ch[1]), self.build(ch[0]), self.build(ch[2]), pos)
        if kind == "cross":
            return ast.Cross(str(ch[1].children[0]).split("_")[1], self.build(ch[0]), self.build(ch[2]), pos)
        if kind == "cross_call":
            return ast.Cross(str(ch[0].children[0]).split("_")[1], self.build(ch[1]), self.build(ch[2]), pos)
        if kind == "between":
            return ast.Between(self.build(ch[0]), self.build(ch[1]), self.build(ch[2]), pos)
        if kind == "binop":
            return ast.BinOp(str(ch[1]), self.build(ch[0]), self.build(ch[2]), pos)
        if kind == "neg":
            inner = self.build(ch[0])
            if isinstance(inner, ast.Num):
                return ast.Num(-inner.value, pos)
            return ast.Neg(inner, pos)
        if kind == "shift":
            bars = str(ch[1])
            if len(bars) > 100:  # int() refuses thousands of digits; the resolver bounds the rest
                raise ParseError(f"look-back [{bars[:10]}...] has {len(bars)} digits", *self._rel(ch[1]),
                                 "a look-back is a number of bars, e.g. close[1]")
            return ast.Shift(self.build(ch[0]), int(bars), pos)
        if kind == "at":
            return ast.At(self.build(ch[0]), str(ch[1]), pos)
        if kind == "number":
            text = str(ch[0])
            value = float(text)
            return ast.Num(int(value) if value.is_integer() and "." not in text and "e" not in text.lower()
                           else value, pos)
        if kind == "param":
            return ast.ParamRef(str(ch[0])[1:], pos)
        if kind == "name":
            return ast.Name(str(ch[0]), self._selector(ch[1]), pos)
        if kind == "call":
            args, kwargs = [], []
            if ch[1] is not None:
                for arg in ch[1].children:
                    if isinstance(arg, Tree) and arg.data == "kwarg":
                        kwargs.append(ast.Kwarg(str(arg.children[0]), self.build(arg.children[1]),
                                                self.at(arg)))
                    elif kwargs:
                        raise ParseError("a positional argument follows a keyword argument",
                                         *self._rel(arg), "put positional arguments first")
                    else:
                        args.append(self.build(arg))
            return ast.Call(str(ch[0]).lower(), tuple(args), tuple(kwargs), self._selector(ch[2]), pos)
        raise ParseError(f"unsupported construct '{kind}'", 1, 1, None)

    def _rel(self, node: Tree[Token] | Token) -> tuple[int, int]:
        if isinstance(node, Token):
            return node.line or 1, node.column or 1
        return node.meta.line, node.meta.column

    def _selector(self, node: Tree[Token] | None) -> str | None:
        return None if node is None else str(node.children[0])

    def _flat(self, cls: type, kind: str, children: list[Any]) -> tuple[Any, ...]:
        """`a and b and c` is a left-leaning chain of `and_` nodes: gather it without recursion."""
        items: list[Any] = []
        stack = list(reversed(children))
        while stack:
            child = stack.pop()
            if isinstance(child, Tree) and child.data == kind:
                stack.extend(reversed(child.children))
                continue
            built = self.build(child)
            items.extend(built.items if isinstance(built, (ast.All, ast.AnyOf)) and isinstance(built, cls)
                         else (built,))
        return tuple(items)


MAX_NESTING = 100  # deeper trees would exhaust the recursion of the later stages


def _too_deep(tree: Tree[Token]) -> bool:
    """True when `tree` nests more than MAX_NESTING levels (measured without recursion)."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        for child in node.children:
            if isinstance(child, Tree):  # a chain of `and` (or `or`) is one level: it is built flat
                same = child.data == node.data and node.data in ("and_", "or_")
                stack.append((child, depth if same else depth + 1))
    return False


def _parse(text: str, start: str, base: Pos) -> Any:
    if not text.strip():
        raise ParseError("empty expression", 1, 1, "write a condition such as 'rsi_14 < 30'")
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    if _too_deep(tree):
        raise ParseError(f"expression is nested more than {MAX_NESTING} levels deep", 1, 1,
                         "split it into several conditions under all: or any:")
    return _Builder(base).build(tree)


def parse_expr(text: str, base: Pos = _TEXT_START) -> ast.Expr:
    """Parse one side of a condition, e.g. `ema(close, 50)@1h`."""
    return _parse(text, "expr", base)  # type: ignore[no-any-return]


def parse_condition_text(text: str, base: Pos = _TEXT_START) -> ast.Cond:
    """Parse a whole condition in string form, e.g. `rsi_14 < 30 and close > ema_200@1h`."""
    return _parse(text, "start", base)  # type: ignore[no-any-return]


# A list term that is one bare name (`close`, `rsi_14`) or `$param` is what the grammar's NAME or
# PARAM gives, so it is built directly: the parser costs ~100x more, and a file has many such terms.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({"and", "or", "not", "between", *CROSS_OPS})


def _place(base: Pos, line: int, column: int) -> Pos:
    """A one-character position inside a text that starts at `base` in its file."""
    return base.shifted(column - 1, 1) if line == 1 else Pos(base.line + line - 1, column)


class _ConditionReader:
    """Reads a YAML condition tree (strings, lists, all/any/not blocks) at a path."""

    def __init__(self, smap: SourceMap, out: Collector):
        self.smap, self.out = smap, out

    def error(self, pos: Pos, code: str, message: str, hint: str | None, path: YamlPath) -> None:
        self.out.error(pos, code, message, hint, path_text(path))

    def text(self, text: str, path: YamlPath, start: str) -> Any:
        base = self.smap.text_start(path)
        try:
            return _parse(text, start, base)
        except ParseError as exc:
            self.error(_place(base, exc.line, exc.column), "P001", exc.args[0], exc.hint, path)
            if exc.opened is not None:
                line, column, bracket = exc.opened
                self.out.note(_place(base, line, column), "P001", f"the '{bracket}' that is not closed starts here",
                              f"close it with '{_CLOSER[bracket][1]}'", path_text(path))
            return None

    def term(self, value: Any, path: YamlPath) -> ast.Expr | None:
        pos = self.smap.value(path)
        if value is None and self.smap.is_rejected(path):
            return None  # the loader reported it (a recursive alias, too deep): no second error
        if isinstance(value, bool) or value is None:
            self.error(pos, "P002", f"a condition term was {value!r}",
                       "write a number, a column, an indicator or a $param", path)
            return None
        if isinstance(value, (int, float)):
            return ast.Num(value, pos)
        if isinstance(value, str):
            if _PLAIN_NAME.match(value) and value not in _KEYWORDS:  # most list terms: skip the parser
                return ast.Name(value, None, self.smap.text_start(path).shifted(0, len(value)))
            if value[:1] == "$" and _PLAIN_NAME.match(value, 1):
                return ast.ParamRef(value[1:], self.smap.text_start(path).shifted(0, len(value)))
            return self.text(value, path, "expr")  # type: ignore[no-any-return]
        self.error(pos, "P002", f"a condition term was a {type(value).__name__}",
                   "write a number, a column, an indicator or a $param", path)
        return None

    def condition(self, value: Any, path: YamlPath) -> ast.Cond | None:
        pos = self.smap.value(path)
        if isinstance(value, str):
            return self.text(value, path, "start")  # type: ignore[no-any-return]
        if isinstance(value, list):
            return self.list_form(value, path)
        if isinstance(value, dict):
            return self.block(value, path)
        if value is None and self.smap.is_rejected(path):
            return None  # the loader reported it (a recursive alias, too deep): no second error
        if value is None and self._block_beside(path):
            return None  # `long:` then `all:` indented too little: the schema reports the stray block
        self.error(pos, "P002", f"a condition was {value!r}",
                   "write [lhs, op, rhs], a string such as 'rsi_14 < 30', or an all:/any:/not: block", path)
        return None

    def _block_beside(self, path: YamlPath) -> bool:
        """True when an all:/any:/not: key sits beside the empty condition at `path`, or beside its parent."""
        beside = ((*path[:n], key) for n in (len(path) - 1, len(path) - 2) if n > 0 for key in ("all", "any", "not"))
        # a block on the path itself (`not: null`, or an enclosing `not:`) holds the condition: it is not beside it
        return any(b in self.smap.keys and path[:len(b)] != b for b in beside)

    def block(self, value: dict[str, Any], path: YamlPath) -> ast.Cond | None:
        if len(value) != 1:
            pos = self.smap.key((*path, list(value)[1])) if len(value) > 1 else self.smap.value(path)
            self.error(pos, "P006", f"a condition block has exactly one key; this one has {len(value)}",
                       "nest blocks: all: [...], any: [...] or not: <condition>", path)
            return None
        (key, body), = value.items()
        kpath = (*path, key)
        kpos = self.smap.key(kpath)
        if key not in ("all", "any", "not"):
            self.error(kpos, "P006", f"unknown condition block '{key}'",
                       did_you_mean(str(key), ["all", "any", "not"]) or "use all:, any: or not:", kpath)
            return None
        if key == "not":
            inner = self.condition(body, kpath)
            return None if inner is None else ast.Not(inner, kpos)
        if not isinstance(body, list) or not body:
            self.error(self.smap.value(kpath), "P007", f"'{key}:' needs a non-empty list of conditions",
                       f"write {key}: followed by '- condition' items", kpath)
            return None
        # keep the sound items: their errors must be found too (the file is already invalid)
        items = [c for c in (self.condition(item, (*kpath, i)) for i, item in enumerate(body)) if c]
        if not items:
            return None
        return (ast.All if key == "all" else ast.AnyOf)(tuple(items), kpos)

    def list_form(self, value: list[Any], path: YamlPath) -> ast.Cond | None:
        pos = self.smap.value(path)
        if len(value) not in (3, 4):
            several = (len(value) > 0 and all(isinstance(v, (list, dict)) for v in value)) or len(value) < 3
            self.error(pos, "P002", f"a list condition has 3 or 4 items; this one has {len(value)}",
                       "to combine conditions, put them under all: or any:" if several
                       else "write [lhs, op, rhs] or [lhs, op, rhs, timeframe]", path)
            return None
        op = value[1]
        op_path = (*path, 1)
        if not isinstance(op, str) or op not in _LIST_OPS:
            from dsl.suggest import did_you_mean
            flipped = str(op)[::-1]
            hint = (f"did you mean '{flipped}'?" if flipped in _LIST_OPS
                    else did_you_mean(str(op), list(_LIST_OPS)))
            self.error(self.smap.value(op_path), "P003", f"unknown operator {op!r}",
                       hint or f"use one of {' '.join(_LIST_OPS)}", op_path)
            return None
        left = self.term(value[0], (*path, 0))
        right: Any
        if op == "between":
            bounds = value[2]
            if not isinstance(bounds, list) or len(bounds) != 2:
                self.error(self.smap.value((*path, 2)), "P004", "'between' needs a [low, high] pair",
                           "write ['rsi_14', 'between', [30, 70]]", (*path, 2))
                return None
            low = self.term(bounds[0], (*path, 2, 0))
            high = self.term(bounds[1], (*path, 2, 1))
            right = (low, high)
            if low is None or high is None:
                return None
        else:
            right = self.term(value[2], (*path, 2))
            if right is None:
                return None
        if left is None:
            return None
        timeframe = None
        if len(value) == 4:
            tf_path = (*path, 3)
            timeframe = value[3]
            if not isinstance(timeframe, str):
                self.error(self.smap.value(tf_path), "T001", f"timeframe was {timeframe!r}",
                           "write a duration string such as '15m' or '1h'", tf_path)
                return None
            tf_pos = self.smap.value(tf_path)
            left = _on_timeframe(left, timeframe, tf_pos)
            right = (tuple(_on_timeframe(r, timeframe, tf_pos) for r in right) if op == "between"
                     else _on_timeframe(right, timeframe, tf_pos))
        if op == "between":
            return ast.Between(left, right[0], right[1], pos)
        if op in CROSS_OPS:
            return ast.Cross(op.split("_")[1], left, right, pos)
        return ast.Compare(op, left, right, pos)


def _on_timeframe(expr: ast.Expr, timeframe: str, pos: Pos) -> ast.Expr:
    """Apply a list condition's timeframe to a side; constants have no timeframe."""
    if isinstance(expr, (ast.Num, ast.ParamRef)):
        return expr
    return ast.At(expr, timeframe, pos)


def parse_condition(value: Any, path: YamlPath, smap: SourceMap, out: Collector) -> ast.Cond | None:
    """Read the condition found at `path` of a manifest; None when it has errors (reported)."""
    return _ConditionReader(smap, out).condition(value, path)
