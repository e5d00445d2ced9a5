"""Shared by the benchmark scripts: the data, the clock, the machine description.

Each script prints ONE JSON document on stdout; progress goes to stderr.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.data.candles import Candles

__all__ = [
    "BARS",
    "SEED",
    "START",
    "STRATEGIES",
    "SYMBOL",
    "candles",
    "emit",
    "log",
    "machine",
    "repeat",
    "summary",
]

HERE = Path(__file__).resolve().parent
STRATEGIES = HERE / "strategies"
SYMBOL = "BTC/USDT"
SEED = 1
START = "2024-01-01"
DAYS = 365
BARS = 525_600          # one year of 1m candles

_LIBRARIES = ("numpy", "numba", "llvmlite", "TA-Lib", "pandas", "pyarrow", "vectorbt", "vectorbt-rust",
              "backtesting")


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def candles() -> Candles:
    """One year of deterministic synthetic 1m candles (engine.data.synth, seed 1)."""
    from engine.data.synth import synth_candles
    c = synth_candles(SYMBOL, "1m", DAYS, SEED, START)
    assert len(c) == BARS, f"synth_candles gave {len(c)} candles, expected {BARS}"
    return c


def repeat(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Wall times in ms of `runs` calls of `fn`, and the last result."""
    times: list[float] = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times, result


def summary(times: list[float]) -> dict[str, Any]:
    """Median (the figure), min and max (the noise), every run."""
    return {"median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
            "max_ms": round(max(times), 3), "runs_ms": [round(t, 3) for t in times]}


def _cpuinfo(field: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    try:  # read-only git commands only
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _commit() -> dict[str, Any]:
    """HEAD, and whether the engine's code differed from it when the figures were taken."""
    head = _git("rev-parse", "--short", "HEAD")
    diff = _git("diff", "--quiet", "HEAD", "--", "compiler", "engine", "dsl")
    new = _git("ls-files", "--others", "--exclude-standard", "--", "compiler", "engine", "dsl")
    return {"head": head.stdout.strip() if head else None,
            "engine_code_differs_from_head": None if diff is None or new is None
            else diff.returncode != 0 or bool(new.stdout.strip())}


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpuinfo("model name") or platform.processor() or "unknown",
        "cpu_mhz": _cpuinfo("cpu MHz"),
        "avx512": "avx512f" in (_cpuinfo("flags") or "").split(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {name: _version(name) for name in _LIBRARIES},
        "commit": _commit(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def emit(doc: dict[str, Any]) -> None:
    doc.setdefault("machine", machine())
    doc["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
