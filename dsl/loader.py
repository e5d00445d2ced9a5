"""YAML loading that keeps the source position of every key and value.

ruamel.yaml's composer gives a node graph with marks; we build plain Python
data from it ourselves so that (1) every key and value keeps its line and
column, (2) duplicate keys are reported (with both places) instead of silently
keeping one, and (3) later stages work on ordinary dicts and lists.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import ReusedAnchorWarning
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from dsl.diagnostics import Collector, Pos

__all__ = ["Document", "SourceMap", "load_file", "load_text", "path_text", "substitute_env"]

YamlPath = tuple[str | int, ...]
MAX_DEPTH = 64  # deeper documents would exhaust the recursion of later stages


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


def _build(node: Node, path: YamlPath, smap: SourceMap, out: Collector, active: set[int]) -> Any:
    smap.values[path] = _pos(node)
    if len(path) > MAX_DEPTH:
        out.error(_pos(node), "E006", f"the document is nested more than {MAX_DEPTH} levels deep",
                  "flatten it: combine conditions with fewer all:/any: levels", path_text(path))
        return None
    if isinstance(node, ScalarNode):
        if node.style in ("'", '"'):
            smap.content[path] = _pos(node).shifted(1)
        return _scalar(node)
    if id(node) in active:  # a recursive alias would loop forever
        out.error(_pos(node), "E002", "recursive YAML alias", "remove the alias that refers to itself")
        return None
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            return [_build(item, (*path, i), smap, out, active) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            first_seen: dict[Any, Pos] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    out.error(_pos(key_node), "E003", "a mapping key must be a plain value",
                              "use a string key")
                    continue
                key = _scalar(key_node)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    out.error(_pos(key_node), "E003", "YAML merge keys ('<<') are not supported",
                              "write the keys out")
                    continue
                key = key if isinstance(key, (str, int, float, bool)) else str(key)
                if isinstance(key, bool) or key is None:
                    key = str(key_node.value)
                kpos = _pos(key_node)
                if key in first_seen:
                    prev = first_seen[key]
                    out.error(kpos, "E004", f"duplicate key '{key}' (first defined at line {prev.line})",
                              "remove one of the two keys", path_text((*path, key)))
                    continue
                first_seen[key] = kpos
                smap.keys[(*path, key)] = kpos
                result[key] = _build(value_node, (*path, key), smap, out, active)
            return result
    finally:
        active.discard(id(node))
    return None


def load_text(text: str, file: str, out: Collector) -> list[Document]:
    """Every document of a YAML stream; syntax errors become diagnostics."""
    yaml = YAML(typ="rt")
    docs: list[Document] = []
    try:
        with warnings.catch_warnings():  # YAML 1.2 allows redefining an anchor; no stderr noise
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            nodes = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if mark is not None and mark.index >= len(text.rstrip()) and exc.context and exc.context_mark:
            # the file ended inside a quote or a bracket: point at where that began
            mark, problem = exc.context_mark, f"{problem} {exc.context.strip()} that starts here"
        pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
        out.error(pos, "E001", f"YAML syntax error: {problem}",
                  "check indentation, quotes and brackets around this place")
        return docs
    except RecursionError:
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
    for index, node in enumerate(nodes):
        if node is None or (isinstance(node, ScalarNode) and node.value == "" and not node.style):
            continue  # an empty document, e.g. after a trailing `---`
        smap = SourceMap()
        data = _build(node, (), smap, out, set())
        docs.append(Document(file, index, data, smap, _pos(node)))
    return docs


def load_file(path: Path | str, out: Collector) -> list[Document]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        out.error(Pos(1, 1), "E001", f"file is not UTF-8 text ({exc.reason})", "save it as UTF-8")
        return []
    except OSError as exc:
        out.error(Pos(1, 1), "E005", f"cannot read file: {exc.strerror}", "check the path")
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
