"""engine/data keeps its shape: one concept per module, a docstring, an honest `__all__`."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import engine.data

MODULES = sorted(p.stem for p in Path(engine.data.__file__).parent.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_data_module_has_docstring_and_exports_what_it_defines(name):
    module = importlib.import_module(f"engine.data.{name}")
    assert module.__doc__ and len(module.__doc__.strip()) > 20
    assert module.__all__, f"engine.data.{name} has no __all__"
    for symbol in module.__all__:
        assert hasattr(module, symbol), f"engine.data.{name}.__all__ names missing {symbol!r}"


@pytest.mark.parametrize("name", MODULES)
def test_data_module_stays_under_500_lines(name):
    path = Path(engine.data.__file__).parent / f"{name}.py"
    assert len(path.read_text().splitlines()) < 500
