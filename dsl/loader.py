"""YAML loading that keeps the source position of every key and value.

ruamel.yaml's composer gives a node graph with marks; we build plain Python
data from it ourselves so that (1) every key and value keeps its line and
column, (2) duplicate keys are reported (with both places) instead of silently
keeping one, and (3) later stages work on ordinary dicts and lists. Any file
gets an answer in bounded time and memory: size, documents, nesting and alias
expansion are limited where the work happens (`dsl/bounded_yaml.py`), and each
limit is reported at the place that crossed it.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from dsl.bounded_yaml import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    AliasRef,
    NestingError,
    bounded_yaml,
)
from dsl.diagnostics import Collector, Pos

__all__ = ["Document", "SourceMap", "load_file", "load_text", "path_text", "substitute_env"]

YamlPath = tuple[str | int, ...]


def path_text(path: YamlPath) -> str:
    """`("spec", "entry", "long", "all", 0)` -> `spec.entry.long.all[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class SourceMap:
    """Positions of keys and values by YAML path; `quoted` marks quoted scalars."""

    values: dict[YamlPath, Pos] = field(default_factory=dict)
    keys: dict[YamlPath, Pos] = field(default_factory=dict)
    content: dict[YamlPath, Pos] = field(default_factory=dict)
    rejected: set[YamlPath] = field(default_factory=set)  # left empty after a loading error

    def is_rejected(self, path: YamlPath) -> bool:
        """True when the loader reported the value at `path` (or around it) and left it empty."""
        return any(path[:n] in self.rejected for n in range(len(path) + 1)) if self.rejected else False

    def value(self, path: YamlPath) -> Pos:
        """Position of the value at `path`, or of its closest known ancestor."""
        for n in range(len(path), -1, -1):
            pos = self.values.get(path[:n])
            if pos is not None:
                return pos
        return Pos(1, 1)

    def key(self, path: YamlPath) -> Pos:
        """Position of the mapping key at `path` (falls back to its value)."""
        return self.keys.get(path) or self.value(path)

    def text_start(self, path: YamlPath) -> Pos:
        """Where the characters of a scalar begin (after an opening quote)."""
        return self.content.get(path) or self.value(path)


@dataclass
class Document:
    file: str
    index: int
    data: Any
    source: SourceMap
    pos: Pos

    @property
    def kind(self) -> str | None:
        return self.data.get("kind") if isinstance(self.data, dict) else None


def _pos(node: Node) -> Pos:
    mark = node.start_mark
    end = node.end_mark
    end_col = end.column + 1 if end is not None and end.line == mark.line else None
    return Pos(mark.line + 1, mark.column + 1, end_col)


def _scalar(node: ScalarNode) -> Any:
    """The value of a scalar as YAML 1.2 core schema resolves it (tags come from the composer)."""
    tag, text = str(node.tag), str(node.value)
    try:
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in ("true", "yes", "on")
        if tag == "tag:yaml.org,2002:int":
            clean = text.replace("_", "")
            if clean.lower().startswith(("0x", "-0x", "+0x")):
                return int(clean, 16)
            if clean.lower().startswith(("0o", "-0o", "+0o")):
                return int(clean, 8)
            return int(clean)
        if tag == "tag:yaml.org,2002:float":
            clean = text.replace("_", "").lower()
            if clean.lstrip("+-") in (".inf", ".nan"):
                return float(clean.replace(".", ""))
            return float(clean)
    except ValueError:
        pass
    return text


class _AliasBudgetExceeded(Exception):
    """Aliases of a document expand past MAX_ALIAS_VALUES; `pos` is the alias that crossed it."""

    def __init__(self, pos: Pos):
        super().__init__(pos)
        self.pos = pos


class _Builder:
    """Plain data from one document's node graph, with every position kept.

    An alias's values are charged to a budget per document (an alias inside an
    alias counts each time it is expanded), so a "billion laughs" file stops
    at the alias that crosses `MAX_ALIAS_VALUES` instead of filling memory.
    """

    def __init__(self, smap: SourceMap, out: Collector):
        self.smap, self.out = smap, out
        self.active: set[int] = set()     # nodes being built: an alias to one of them is recursive
        self.alias_values = 0
        self.expanding: list[Pos] = []    # aliases being expanded, outermost first

    def reject(self, path: YamlPath) -> None:
        """The value at `path` was reported here and left empty: later stages stay silent on it."""
        self.smap.rejected.add(path)

    def build(self, node: Node | AliasRef, path: YamlPath) -> Any:
        if isinstance(node, AliasRef):
            alias_pos = Pos(node.line + 1, node.column + 1)
            if id(node.target) in self.active:  # a recursive alias would loop forever
                self.smap.values[path] = alias_pos
                self.out.error(alias_pos, "E002", "recursive YAML alias",
                               "remove the alias that refers to itself", path_text(path))
                self.reject(path)
                return None
            self.expanding.append(alias_pos)
            try:
                value = self.build(node.target, path)
            finally:
                self.expanding.pop()
            self.smap.values[path] = alias_pos  # point at the alias, where the user wrote the value
            return value
        if self.expanding:
            self.alias_values += 1
            if self.alias_values > MAX_ALIAS_VALUES:
                raise _AliasBudgetExceeded(self.expanding[0])
        self.smap.values[path] = _pos(node)
        if len(path) > MAX_DEPTH:
            self.out.error(_pos(node), "E006", f"the document is nested more than {MAX_DEPTH} levels deep",
                           "flatten it: combine conditions with fewer all:/any: levels", path_text(path))
            self.reject(path)
            return None
        if isinstance(node, ScalarNode):
            if node.style in ("'", '"'):
                self.smap.content[path] = _pos(node).shifted(1)
            return _scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
        finally:
            self.active.discard(id(node))
        return None

    def mapping(self, node: MappingNode, path: YamlPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Pos] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, AliasRef):
                key_node = key_node.target
            if not isinstance(key_node, ScalarNode):
                self.out.error(_pos(key_node), "E003", "a mapping key must be a plain value",
                               "use a string key")
                continue
            key = _scalar(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.out.error(_pos(key_node), "E003", "YAML merge keys ('<<') are not supported",
                               "write the keys out")
                continue
            key = key if isinstance(key, (str, int, float, bool)) else str(key)
            if isinstance(key, bool) or key is None:
                key = str(key_node.value)
            kpos = _pos(key_node)
            if key in first_seen:
                prev = first_seen[key]
                self.out.error(kpos, "E004", f"duplicate key '{key}' (first defined at line {prev.line})",
                               "remove one of the two keys", path_text((*path, key)))
                continue
            first_seen[key] = kpos
            self.smap.keys[(*path, key)] = kpos
            result[key] = self.build(value_node, (*path, key))
        return result


_OPENERS = {"flow sequence": "[", "flow mapping": "{", "quoted scalar": "quote"}


def _syntax_error(exc: MarkedYAMLError, text: str, out: Collector) -> None:
    """A YAML syntax error at the place it was found, and a note where the unclosed part began."""
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    context, opened = (exc.context or "").strip(), exc.context_mark
    if mark is not None and mark.index >= len(text.rstrip()) and context and opened is not None:
        # the file ended inside a quote or a bracket: point at where that began
        mark, problem, opened = opened, f"{problem} {context} that starts here", None
    pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
    hint = "check indentation, quotes and brackets around this place"
    env_ref = mark is not None and 0 < mark.index < len(text) and text[mark.index - 1:mark.index + 1] == "${"
    if env_ref:  # `{api_key: ${KEY}}`: inside [...] or {...}, the '{' of ${KEY} is YAML's
        assert mark is not None
        pos = Pos(mark.line + 1, mark.column)
        hint = "quote a value that holds ${NAME} inside [...] or {...}: write '${NAME}'"
    elif "character '\\t'" in problem:
        hint = "indent with spaces: YAML does not allow a tab here"
    elif problem.startswith("expected ','") and problem.endswith("but got '<scalar>'"):
        hint = "put a ',' between two items"
    out.error(pos, "E001", f"YAML syntax error: {problem}", hint)
    opener = next((o for c, o in _OPENERS.items() if context.endswith(c)), None)
    # a bracket left open across lines: say where it opened (on one line, the caret shows it already)
    if (opened is not None and opener is not None and not env_ref and mark is not None
            and opened.line < mark.line):
        what = f"'{opener}'" if opener != "quote" else "quoted string"
        out.note(Pos(opened.line + 1, opened.column + 1), "E001",
                 f"the {what} that is not closed starts here", f"close it before line {pos.line}")


def load_text(text: str, file: str, out: Collector) -> list[Document]:
    """Every document of a YAML stream; syntax errors become diagnostics."""
    if len(text) > MAX_FILE_BYTES:
        _too_large(out)
        return []
    yaml = bounded_yaml()
    docs: list[Document] = []
    try:
        with warnings.catch_warnings():  # YAML 1.2 allows redefining an anchor; no stderr noise
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            nodes = list(islice(yaml.compose_all(text), MAX_DOCUMENTS + 2))  # never compose more
    except NestingError as exc:
        mark = exc.problem_mark
        out.error(Pos(mark.line + 1, mark.column + 1), "E006", str(exc.problem),
                  "flatten it: combine conditions with fewer all:/any: levels")
        return docs
    except MarkedYAMLError as exc:
        _syntax_error(exc, text, out)
        return docs
    except RecursionError:  # cannot happen within MAX_DEPTH; kept so that it never becomes a traceback
        out.error(Pos(1, 1), "E006", f"the document is nested more than {MAX_DEPTH} levels deep",
                  "flatten it: combine conditions with fewer all:/any: levels")
        return docs
    except ReaderError as exc:  # a character YAML does not allow
        before = text[:exc.position] if isinstance(exc.position, int) else ""
        pos = Pos(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        out.error(pos, "E001", f"YAML syntax error: {str(exc).splitlines()[0].strip()}",
                  "remove the control character, or write it as an escape in a double-quoted string")
        return docs
    except Exception as exc:  # ruamel raises a few unmarked errors
        out.error(Pos(1, 1), "E001", f"YAML syntax error: {exc}", "check the file's encoding and syntax")
        return docs
    # one more is allowed when it is the empty one after a trailing `---` and the stream ends there
    if len(nodes) > MAX_DOCUMENTS + 1 or (len(nodes) == MAX_DOCUMENTS + 1 and not _empty(nodes[-1])):
        extra = nodes[MAX_DOCUMENTS]
        out.error(_pos(extra) if extra is not None else Pos(1, 1), "E007",
                  f"the file holds more than {MAX_DOCUMENTS} documents, the limit for a manifest file",
                  "split it into several files")
        return docs
    for index, node in enumerate(nodes):
        if _empty(node):
            continue  # an empty document, e.g. after a trailing `---`
        smap = SourceMap()
        try:
            data = _Builder(smap, out).build(node, ())
        except _AliasBudgetExceeded as exc:
            out.error(exc.pos, "E008", f"YAML aliases in this document expand to more than "
                      f"{MAX_ALIAS_VALUES} values", "write the repeated part out, or alias fewer nested aliases")
            continue  # the document is dropped: its other problems would be noise
        docs.append(Document(file, index, data, smap, _pos(node)))
    return docs


def _empty(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.value == "" and not node.style)


def _too_large(out: Collector) -> None:
    out.error(Pos(1, 1), "E007", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB, the limit for a manifest",
              "split it into several files (a strategy is a few KB)")


def load_file(path: Path | str, out: Collector) -> list[Document]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # never more: the file may be huge
    except IsADirectoryError:
        out.error(Pos(1, 1), "E005", "cannot read file: it is a directory", "give a manifest file")
        return []
    except OSError as exc:
        out.error(Pos(1, 1), "E005", f"cannot read file: {exc.strerror}", "check the path")
        return []
    if len(raw) > MAX_FILE_BYTES:
        _too_large(out)
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode("utf-8")
        pos = Pos(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        out.error(pos, "E001", f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} here is not valid UTF-8 "
                  f"({exc.reason})", "save the file as UTF-8")
        return []
    return load_text(text, str(path), out)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_env(doc: Document, out: Collector, environ: dict[str, str] | None = None) -> None:
    """Replace `${NAME}` / `${NAME:-default}` in every string of a deployment, in place."""
    env = os.environ if environ is None else environ

    def walk(value: Any, path: YamlPath) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "${" not in value:
            return value

        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            pos = doc.source.text_start(path).shifted(match.start(), len(match.group(0)))
            out.error(pos, "E010", f"environment variable '{name}' is not set",
                      f"export {name}=... before running, or write ${{{name}:-default}}",
                      path_text(path))
            return match.group(0)

        return _ENV.sub(repl, value)

    doc.data = walk(doc.data, ())
