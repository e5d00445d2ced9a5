"""Layers read dsl -> compiler -> engine: the compiler (and dsl) never import the engine.

The data layer is where the cycle used to be (`compiler.resample` and
`compiler.evaluate` imported `engine.data.candles` while `engine.data`
imported `compiler.resample`). Each module is imported in a fresh interpreter,
so nothing imported earlier by pytest hides an upward import.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PROBE = """
import importlib, json, sys
found = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    found[name] = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in FORBIDDEN)
print(json.dumps(found))
"""


def _modules(package: str) -> list[str]:
    return sorted(f"{package}.{p.stem}" if p.stem != "__init__" else package
                  for p in (ROOT / package).glob("*.py"))


def _upward_imports(modules: list[str], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    code = f"FORBIDDEN = {forbidden!r}\n{_PROBE}"
    out = subprocess.run([sys.executable, "-c", code, *modules], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=300)
    found: dict[str, list[str]] = json.loads(out.stdout)
    return {name: mods for name, mods in found.items() if mods}


@pytest.mark.parametrize(("package", "forbidden"), [
    pytest.param("compiler", ("engine",), id="compiler-never-imports-engine"),
    pytest.param("dsl", ("engine", "compiler"), id="dsl-imports-nothing-above-it"),
])
def test_layer_modules_import_nothing_from_a_higher_layer(package: str,
                                                          forbidden: tuple[str, ...]) -> None:
    assert _upward_imports(_modules(package), forbidden) == {}
