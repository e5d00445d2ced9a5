"""Where numba keeps the compiled kernel, and the one line a first run prints."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.kernel import jit_cache
from engine.kernel._step import ENTRY_POINTS

ROOT = Path(__file__).resolve().parents[1]

_FIRST_RUN = """
import numpy as np
from engine.kernel import KernelConfig, Stepper, simulate
n = 50
o = np.linspace(100.0, 110.0, n)
for _ in range(2):
    simulate(np.arange(n, dtype=np.int64) * 60_000, o, o + 1, o - 1, o, {"entry_long": o > 0},
             KernelConfig(timeframe="1m", stoploss=-0.05))
Stepper(KernelConfig(timeframe="1m"), ["A"])
"""


def _run(cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", _FIRST_RUN], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=580, check=True)


def test_jit_cache_compile_message_once_when_cold_and_never_when_warm(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.stderr.count("compiling the trade kernel, once") == 1
    assert str(tmp_path) in first.stderr          # says where the machine code goes
    second = _run(tmp_path)
    assert "compiling the trade kernel" not in second.stderr
    assert {p.suffix for p in tmp_path.rglob("*")} >= {".nbi", ".nbc"}


def test_jit_cache_only_the_entry_points_are_cached() -> None:
    """A new process loads one function from numba's cache; the helpers (in every compiled
    module of the kernel) are compiled into it."""
    from numba.core.registry import CPUDispatcher

    from engine.kernel import _exits, _scan, _step, risk

    assert [d.py_func.__name__ for d in ENTRY_POINTS] == ["step_bars"]
    dispatchers = {f"{m.__name__}.{name}": obj for m in (_step, _exits, _scan, risk) for name, obj in vars(m).items()
                   if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == m.__name__}
    # numba keeps a dispatcher's cache private and untyped
    cached = {name for name, d in dispatchers.items()
              if type(d._cache).__name__ != "NullCache"}  # type: ignore[attr-defined]
    assert cached == {"engine.kernel._step.step_bars"}
    assert len(dispatchers) > 20


def test_jit_cache_dir_numba_cache_dir_set_by_the_user_wins(tmp_path: Path) -> None:
    chosen = tmp_path / "mine"
    assert jit_cache.cache_dir_for(tmp_path, {"NUMBA_CACHE_DIR": str(chosen)}, os.getuid()) == chosen


def test_jit_cache_dir_stays_in_a_source_tree_the_user_owns(tmp_path: Path) -> None:
    assert jit_cache.cache_dir_for(tmp_path, {}, tmp_path.stat().st_uid) is None


def test_jit_cache_dir_is_the_user_cache_when_another_user_owns_the_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPERBOT_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    other_user = tmp_path.stat().st_uid + 1
    assert jit_cache.cache_dir_for(tmp_path, {}, other_user) == tmp_path / "xdg" / "superbot" / "numba"


def test_jit_cache_dir_is_the_user_cache_when_the_source_is_not_writable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    missing = tmp_path / "site-packages" / "engine" / "kernel"   # stat fails: not a place to write
    assert jit_cache.cache_dir_for(missing, {}, os.getuid()) == tmp_path / "home" / "cache" / "numba"


def test_jit_cache_configure_sets_numba_cache_dir_and_numba_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core import config

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    monkeypatch.setattr(jit_cache, "_SOURCE_DIR", tmp_path / "read-only-install")
    try:
        jit_cache.configure()
        assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache" / "numba")
        # numba was already imported: reload_config applied it (its attributes are set at run time, untyped)
        assert str(tmp_path / "cache" / "numba") == config.CACHE_DIR  # type: ignore[attr-defined]
    finally:
        monkeypatch.undo()
        config.reload_config()  # type: ignore[no-untyped-call]  # numba's config is untyped


def test_jit_cache_is_configured_before_numba_is_imported() -> None:
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def spy(name, *a, **k):\n"
            "    if name == 'numba' and 'numba' not in sys.modules:\n"
            "        print('jit_cache' if 'engine.kernel.jit_cache' in sys.modules else 'none', flush=True)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = spy\n"
            "import engine.kernel\n"
            "print('package', 'numba' in sys.modules, flush=True)\n"
            "import engine.kernel._step\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    # the package alone does not load numba; the compiled step does, after the cache dir is set
    assert out == ["package", "False", "jit_cache"]
