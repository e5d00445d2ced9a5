"""`validate` on hostile manifests up to 5 MB: time and peak memory per file, as JSON.

The cases are those of `tests/_hostile.py` (alias bombs, 10,000-deep nesting,
5 MB of garbage, NUL bytes, a 60 KB line, 100 documents, ...). The rule they
check: `validate` never takes more than 2 s or 200 MB on any file up to 5 MB.

Method: the package is imported once (import time is `bench_cli.py`'s subject);
each case is validated RUNS times, interleaved round-robin with the baseline
(the example strategy `strategies/rsi_mean_reversion.yaml`), so that machine
load affects both alike; the figure is the median, and `ratio_to_baseline`
compares medians of the same run. The first run of a case is the cold one
("did you mean" answers are cached in the process), so `max_s` is the figure
for a misspelling-heavy file seen once. Peak memory is tracemalloc's peak over
one more call (Python allocations: the YAML nodes, the data, the diagnostics).

    python benchmarks/bench_validate.py [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _common import emit, log, machine  # noqa: E402
from _hostile import cases  # type: ignore[import-not-found, unused-ignore]  # noqa: E402  (tests/ joins sys.path above; mypy finds it only when given tests/ too)

from compiler.validate import validate_file  # noqa: E402

BASELINE = ROOT / "strategies" / "rsi_mean_reversion.yaml"
LIMIT_S, LIMIT_MB = 2.0, 200.0


def _time(path: Path) -> float:
    t0 = time.perf_counter()
    validate_file(path)
    return time.perf_counter() - t0


def _peak_mb(path: Path) -> float:
    tracemalloc.start()
    try:
        validate_file(path)
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for case in cases():
            files[case.name] = Path(tmp) / f"{case.name}.yaml"
            files[case.name].write_bytes(case.build())
        times: dict[str, list[float]] = {name: [] for name in ["baseline", *files]}
        _time(BASELINE)  # warm caches (the parser, the schemas, the indicator registry)
        for run in range(args.runs):
            log(f"run {run + 1}/{args.runs}")
            for name, path in files.items():
                times["baseline"].append(_time(BASELINE))
                times[name].append(_time(path))
        base = statistics.median(times["baseline"])
        results = {}
        for name, path in files.items():
            median = statistics.median(times[name])
            peak = _peak_mb(path)
            results[name] = {
                "bytes": path.stat().st_size,
                "median_s": round(median, 4),
                "max_s": round(max(times[name]), 4),
                "ratio_to_baseline": round(median / base, 1),
                "peak_python_mb": round(peak, 2),
                "within_limits": median < LIMIT_S and peak < LIMIT_MB,
            }
    emit({
        "benchmark": "validate on hostile manifests",
        "command": "python benchmarks/bench_validate.py --runs " + str(args.runs),
        "limits": {"seconds": LIMIT_S, "megabytes": LIMIT_MB},
        "baseline": {"file": str(BASELINE.relative_to(ROOT)), "median_s": round(base, 4)},
        "cases": results,
        "all_within_limits": all(r["within_limits"] for r in results.values()),
        "slowest": max(results, key=lambda n: results[n]["median_s"]),
        "machine": info,
    })


if __name__ == "__main__":
    main()
