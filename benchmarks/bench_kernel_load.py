"""How long a fresh process waits for its first `simulate` (issue 8); prints one JSON document.

    python benchmarks/bench_kernel_load.py [--runs 5] [--cold] [--cache DIR]

Each run is a new interpreter (the code under test is the checkout this script
sits in) with a warm numba cache: it times `import engine.kernel`, then the
first `simulate` call on 200 one-minute bars (loading the kernel's machine code
from numba's cache, and numba's own first-use set-up), then a second call (the
loop itself). Wall and CPU times: the machine is shared, CPU time is the steadier
figure; compare import + first call (numba may load in either). It also reports
how many compiled functions the first call had to load from the cache. `--cold`
adds one run with an empty NUMBA_CACHE_DIR: the compile a first-time user waits for. Figures are medians of `--runs`.
`--cache DIR` keeps the warm cache between invocations (to interleave runs of
two checkouts without compiling each time).

Steps: 1. warm the cache (one throw-away child); 2. `--runs` children, each
printing its timings (`_CHILD`); 3. optionally one cold child; 4. the JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import emit, log

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, time
t0 = time.perf_counter(); c0 = time.process_time()
import numpy as np
from engine.kernel import KernelConfig, simulate
t1 = time.perf_counter(); c1 = time.process_time()
n = 200
o = 100 + np.sin(np.arange(n) / 7.0)
args = (np.arange(n, dtype=np.int64) * 60_000, o, o + 0.5, o - 0.5, o,
        {"entry_long": np.arange(n) % 20 == 0, "exit_long": np.arange(n) % 20 == 10},
        KernelConfig(timeframe="1m", stoploss=-0.05))
simulate(*args)
t2 = time.perf_counter(); c2 = time.process_time()
simulate(*args)
t3 = time.perf_counter()
from numba.core.registry import CPUDispatcher
import gc
loaded = sum(1 for d in gc.get_objects() if isinstance(d, CPUDispatcher) and d.overloads
             and d.stats.cache_hits)
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_simulate_ms": (t2 - t1) * 1e3,
                  "import_and_first_simulate_ms": (t2 - t0) * 1e3,
                  "import_and_first_simulate_cpu_ms": (c2 - c0) * 1e3,
                  "first_simulate_cpu_ms": (c2 - c1) * 1e3, "second_simulate_ms": (t3 - t2) * 1e3,
                  "functions_loaded_from_cache": loaded}))
"""


def _child(cache: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=900).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _median(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also time one compile with an empty cache")
    ap.add_argument("--cache", help="warm cache directory to keep (default: a temporary one)")
    args = ap.parse_args()
    doc: dict[str, Any] = {"benchmark": "kernel_first_call", "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        warm = args.cache or tmp
        log("warming the cache")
        _child(warm)
        runs = []
        for k in range(args.runs):
            log(f"fresh process {k + 1}/{args.runs}")
            runs.append(_child(warm))
    doc["warm_cache"] = {key: _median(runs, key) for key in runs[0]} | {"per_run": runs}
    if args.cold:
        with tempfile.TemporaryDirectory() as cold:
            log("cold cache: compiling")
            doc["cold_cache"] = _child(cold)
    emit(doc)


if __name__ == "__main__":
    main()
