"""A ruamel.yaml reader whose work is bounded, for files written by anyone.

Manifests arrive from pull requests, editors and the API, so the loader must
answer every file quickly and in little memory. Plain ruamel.yaml does not:
its scanner slows down quadratically with flow nesting (`[[[[...` 10,000 deep
takes minutes), and its composer shares an aliased node between its uses,
which a loader that builds plain data would copy without bound (a "billion
laughs" file). The limits, each enforced where the work happens:

1. size: the loader reads at most `MAX_FILE_BYTES` and composes at most
   `MAX_DOCUMENTS` documents (`dsl.loader`);
2. nesting: `BoundedScanner` refuses the collection or block indent that
   would go past `MAX_DEPTH` while scanning, before any deeper text is read;
3. aliases: `AliasComposer` wraps each use of an alias in `AliasRef`, which
   carries the alias's own position, so that the loader charges the values an
   alias expands to against `MAX_ALIAS_VALUES` and points at the alias that
   crossed it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import Node
from ruamel.yaml.scanner import RoundTripScanner

__all__ = [
    "MAX_ALIAS_VALUES", "MAX_DEPTH", "MAX_DOCUMENTS", "MAX_FILE_BYTES", "AliasRef", "NestingError", "bounded_yaml",
]

MAX_DEPTH = 64              # deeper documents would exhaust the recursion of later stages
MAX_ALIAS_VALUES = 10_000   # values that all alias uses of one document may expand to
MAX_DOCUMENTS = 100          # documents (`---`) in one file; each costs a pass of every check
MAX_FILE_BYTES = 64 * 1024  # the largest example strategy is 1 KB; this bounds the work of `validate` on a file


class NestingError(MarkedYAMLError):
    """The text nests collections deeper than `MAX_DEPTH`; `problem_mark` is the opening."""


class BoundedScanner(RoundTripScanner):
    """ruamel's round-trip scanner, stopped at the first collection nested too deep."""

    def _refuse(self) -> None:
        raise NestingError(problem=f"the document is nested more than {MAX_DEPTH} levels deep",
                           problem_mark=self.reader.get_mark())

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.flow_context) + len(self.indents) >= MAX_DEPTH:
            self._refuse()
        super().fetch_flow_collection_start(TokenClass, to_push)

    def add_indent(self, column: int) -> bool:
        if self.indent < column and len(self.indents) + len(self.flow_context) >= MAX_DEPTH:
            self._refuse()
        return bool(super().add_indent(column))


@dataclass(frozen=True, slots=True)
class AliasRef:
    """One use of an alias (`*name`): the node it refers to and where the alias is written."""

    target: Node
    line: int    # 0-based, as ruamel's marks
    column: int


class AliasComposer(Composer):
    """ruamel's composer, but an alias becomes an `AliasRef` instead of the shared node."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            mark = self.parser.peek_event().start_mark
            return AliasRef(super().compose_node(parent, index), mark.line, mark.column)
        return super().compose_node(parent, index)


def bounded_yaml() -> YAML:
    """A round-trip YAML reader with the limits above (a new one per file: readers keep state)."""
    yaml = YAML(typ="rt")
    yaml.Scanner = BoundedScanner
    yaml.Composer = AliasComposer
    return yaml
