"""Meta-tests of the published JSON Schemas: valid 2020-12, every field described for editors."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from schemas import KINDS, load_schema, schema_path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.json"))


def _properties(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (pointer, schema) of a named property, at every depth (defs, anyOf, items, ...)."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}/properties/{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}/{i}")


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in SCHEMA_FILES])
def test_schema_is_a_valid_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + path.name)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in SCHEMA_FILES])
def test_schema_describes_every_property_at_every_depth(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    properties = list(_properties(schema))

    assert len(properties) > 20
    assert [where for where, sub in properties if not sub.get("description")] == []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in SCHEMA_FILES])
def test_schema_describes_every_definition(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))

    assert schema.get("description")
    assert [name for name, sub in schema.get("$defs", {}).items() if not sub.get("description")] == []


def test_there_is_one_schema_per_manifest_kind() -> None:
    assert sorted(schema_path(kind) for kind in KINDS) == SCHEMA_FILES


@pytest.mark.parametrize("path", [
    pytest.param(p, id=f"{p.parent.name}/{p.name}")
    for p in sorted((ROOT / "strategies").glob("*.yaml")) + sorted((ROOT / "deployments").glob("*.yaml"))
])
def test_published_schema_accepts_the_examples(path: Path) -> None:
    """What an editor checks through `# yaml-language-server: $schema=` agrees with `superbot validate`."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))

    errors = list(Draft202012Validator(load_schema(data["kind"])).iter_errors(data))

    assert [e.message for e in errors] == []
