"""Published JSON Schemas, one per manifest kind (editors use them via yaml-language-server)."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "load_schema", "schema_path"]

DIR = Path(__file__).parent
KINDS = {"Strategy": "strategy", "Deployment": "deployment"}


def schema_path(kind: str) -> Path:
    return DIR / f"{KINDS[kind]}.schema.json"


@cache
def load_schema(kind: str) -> dict[str, Any]:
    return json.loads(schema_path(kind).read_text(encoding="utf-8"))  # type: ignore[no-any-return]  # json.loads is Any
