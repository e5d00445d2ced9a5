"""Published JSON Schemas, one per manifest kind (editors use them via yaml-language-server)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "schema_path", "load_schema"]

DIR = Path(__file__).parent
KINDS = {"Strategy": "strategy", "Deployment": "deployment"}


def schema_path(kind: str) -> Path:
    return DIR / f"{KINDS[kind]}.schema.json"


@lru_cache(maxsize=None)
def load_schema(kind: str) -> dict[str, Any]:
    return json.loads(schema_path(kind).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
