"""Benchmark of the command line as a user waits for it (issue 8); prints one JSON document.

    python benchmarks/bench_cli.py [--runs 5] [--skip-backtest]

Every figure is the wall time of a whole child process (interpreter start,
imports, work, exit), median of `--runs`, each side measured interleaved with
its baseline in the same run (A, B, A, B, ...) so both see the same load.

1. help (`_help`): `superbot --help` vs `python -c "import click, rich.console"`
   (the two libraries the command group needs); target <= 3x.
2. validate (`_validate`): `superbot validate strategies/*.yaml`, warm (one run
   first fills the parser cache and the OS page cache); target <= 0.5 s;
   `python -c pass` alongside for the interpreter's own start.
3. backtest (`_backtest`): `superbot backtest benchmarks/strategies/rsi_cross.yaml`
   on one year of 1m candles (525,600, written beforehand into a temporary
   store by `superbot data synth`, outside the timing) vs the floor
   (`benchmarks/_floor.py`: numpy, pandas, TA-Lib, numba; reads the same
   parquet file; the same strategy through one cached numba loop); targets
   <= 1.3x the floor's time and <= 1.1x its peak memory. Peak RSS is the
   child's own `ru_maxrss` from `os.wait4`. Numba caches are warm (one run of
   each first, in a temporary NUMBA_CACHE_DIR).
4. first run (`_first_run`): the same backtest and floor with an empty
   NUMBA_CACHE_DIR and an empty SUPERBOT_HOME: wall time and what superbot
   printed on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, log, machine, summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STRATEGY = HERE / "strategies" / "rsi_cross.yaml"
SUPERBOT = str(Path(sys.executable).parent / "superbot")
PY = sys.executable


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, str, float]:
    """(wall ms, peak RSS MiB, stdout, stderr, CPU ms) of this child alone; raises when it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = (time.perf_counter() - t0) * 1e3
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {stderr.strip()[-400:]}")
    return wall, usage.ru_maxrss // 1024, stdout, stderr, (usage.ru_utime + usage.ru_stime) * 1e3


def _pair(a: list[str], b: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """A and B interleaved `runs` times: wall, CPU (user + system, less sensitive to load) and peak RSS."""
    res: dict[str, dict[str, list[float]]] = {k: {"ms": [], "mib": [], "cpu": []} for k in "ab"}
    for k in range(runs):
        for key, argv in (("a", a), ("b", b)) if k % 2 == 0 else (("b", b), ("a", a)):
            ms, mib, _, _, cpu = _run(argv, env)
            res[key]["ms"].append(ms)
            res[key]["mib"].append(mib)
            res[key]["cpu"].append(cpu)
    a_sum, b_sum = ({**summary(r["ms"]), "cpu_ms_median": round(statistics.median(r["cpu"]), 1),
                     "peak_rss_mib_median": statistics.median(r["mib"])} for r in (res["a"], res["b"]))
    return a_sum, b_sum


def _env(home: Path, numba_cache: Path) -> dict[str, str]:
    return {**os.environ, "SUPERBOT_HOME": str(home), "NUMBA_CACHE_DIR": str(numba_cache), "COLUMNS": "80"}


def _help(runs: int, env: dict[str, str]) -> dict[str, Any]:
    log("superbot --help vs import click, rich.console")
    ours, base = _pair([SUPERBOT, "--help"], [PY, "-c", "import click, rich.console"], runs, env)
    return {"command": "superbot --help", "baseline": 'python -c "import click, rich.console"',
            "superbot": ours, "baseline_wall": base,
            "ratio": round(ours["median_ms"] / base["median_ms"], 2),
            "cpu_ratio": round(ours["cpu_ms_median"] / base["cpu_ms_median"], 2), "target_ratio": 3.0}


def _validate(runs: int, env: dict[str, str]) -> dict[str, Any]:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "strategies").glob("*.yaml"))
    log(f"superbot validate {len(files)} strategies (warm)")
    _run([SUPERBOT, "validate", *files], env)  # warm: parser cache, page cache
    ours, base = _pair([SUPERBOT, "validate", *files], [PY, "-c", "pass"], runs, env)
    return {"command": "superbot validate strategies/*.yaml", "files": len(files), "superbot": ours,
            "python_start": base, "target_ms": 500.0}


def _store(env: dict[str, str], root: Path) -> Path:
    log("writing one year of 1m candles (superbot data synth), not timed")
    _run([SUPERBOT, "data", "synth", "--symbol", "BTC/USDT", "--timeframe", "1m", "--days", "365", "--seed", "1",
          "--start", "2024-01-01", "--out", str(root)], env)
    files = list(root.glob("*/*/1m.parquet"))
    assert len(files) == 1, files
    return files[0]


def _backtest_argv(store: Path) -> list[str]:
    return [SUPERBOT, "backtest", str(STRATEGY), "--data", str(store), "--symbols", "BTC/USDT", "--fee", "0.001",
            "--balance", "10000"]


def _backtest(runs: int, env: dict[str, str], store: Path, parquet: Path) -> dict[str, Any]:
    floor = [PY, str(HERE / "_floor.py"), str(parquet)]
    log("warming numba caches: one backtest and one floor run")
    _run(_backtest_argv(store), env)
    floor_out = _run(floor, env)[2]
    ours_out = _run([*_backtest_argv(store), "--json", "--no-keep"], env)[2]
    trades = {"superbot": json.loads(ours_out)["metrics"]["n_trades"], "floor": json.loads(floor_out)["trades"]}
    results: dict[str, Any] = {"trades": trades}
    for label, argv in (("kept", _backtest_argv(store)), ("no_keep", [*_backtest_argv(store), "--no-keep"])):
        log(f"superbot backtest ({label}) vs the floor, {runs} runs interleaved")
        ours, base = _pair(argv, floor, runs, env)
        results[label] = {"command": " ".join(["superbot", *argv[1:]]).replace(str(ROOT) + "/", ""),
                          "superbot": ours, "floor": base,
                          "time_ratio": round(ours["median_ms"] / base["median_ms"], 2),
                          "cpu_ratio": round(ours["cpu_ms_median"] / base["cpu_ms_median"], 2),
                          "memory_ratio": round(ours["peak_rss_mib_median"] / base["peak_rss_mib_median"], 2)}
    results["targets"] = {"time_ratio": 1.3, "memory_ratio": 1.1}
    return results


def _first_run(store: Path, parquet: Path, scratch: Path) -> dict[str, Any]:
    """Empty numba cache and SUPERBOT_HOME: what the first backtest costs and says."""
    out: dict[str, Any] = {}
    for label, argv in (("superbot", _backtest_argv(store)), ("floor", [PY, str(HERE / "_floor.py"), str(parquet)])):
        env = _env(scratch / f"home-{label}", scratch / f"numba-{label}")
        log(f"first run of {label}: empty numba cache and home")
        ms, mib, _, err, _ = _run(argv, env)
        again = _run(argv, env)[0]
        out[label] = {"first_ms": round(ms, 1), "second_ms": round(again, 1), "peak_rss_mib": mib,
                      "stderr": err.strip().splitlines()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        scratch = Path(tmp)
        env = _env(scratch / "home", scratch / "numba")
        doc: dict[str, Any] = {"benchmark": "cli", "runs": args.runs, "machine": machine()}
        doc["help"] = _help(args.runs, env)
        doc["validate"] = _validate(args.runs, env)
        if not args.skip_backtest:
            store = scratch / "store"
            parquet = _store(env, store)
            doc["backtest"] = _backtest(args.runs, env, store, parquet)
            doc["first_run"] = _first_run(store, parquet, scratch)
    emit(doc)


if __name__ == "__main__":
    main()
