"""Issue 9 §4: how fast the HTML report of a year of 5m candles opens in a browser.

Prints one JSON document. A year of synthetic 5m candles (105,120,
`engine.data.synth`, seed 1) with EMA 200, Bollinger bands, RSI 14 and MACD
(line, signal, histogram) and a few hundred trades is written as a report; then
headless Chromium (Debian's `chromium`) opens it through the DevTools
protocol (`--remote-debugging-port`, aiohttp's websocket client, 127.0.0.1
only) and the page itself says when it is ready:

- `load`: `performance.now()` at the first animation frame after the load
  event and after the report says the charts in view are drawn
  (`superbotReport.ready`; report.js draws the others while the browser is
  idle): when the page is usable;
- `all_charts_drawn`: `performance.now()` when every chart is drawn
  (`superbotReport.all`);
- `cpu`: CPU time (user + system) of all Chromium processes from the
  navigation until then (/proc, clock ticks of 10 ms): the work the page
  costs, far less sensitive than wall time to other processes competing for
  the cores of a shared machine;
- `zoom_to_one_week`: a relayout of the first price chart to one week, until
  the report has swapped in full-detail candles and the next frame is drawn.

Two pages are measured interleaved (report, floor, report, floor, ...), so
both see the same machine load: the report, and the floor, a page with
nothing but the same embedded plotly.js (the cost of parsing the library,
which no report can avoid). Medians of `--runs` runs (default 5), with
min/max/all runs, and the ratio report / floor.

    python benchmarks/bench_report.py [--runs 5] [--keep DIR] [--also OLD.html] > report.json

`--also` measures other pages (e.g. the same workload written by an older
commit) in the same interleaved runs, with the report's ratio to each.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import emit, log, machine, summary

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")
_READY = """new Promise(resolve => {
  const done = async () => {
    if (window.superbotReport) await window.superbotReport.ready;  // charts in view drawn
    requestAnimationFrame(() => resolve(performance.now()));
  };
  if (document.readyState === 'complete') done(); else addEventListener('load', done);
})"""
_ALL = """(async () => {
  if (window.superbotReport) await window.superbotReport.all;
  return performance.now();
})()"""
_ZOOM = """(async () => {
  const gd = window.superbotReport ? await window.superbotReport.draw('price-0')
                                   : document.getElementById('price-0');
  gd.scrollIntoView();
  const t = gd._fullLayout.xaxis.range.map(v => Date.parse(String(v).replace(' ', 'T') + 'Z'));
  const mid = (t[0] + t[1]) / 2, week = 7 * 86400e3;
  const started = performance.now();
  await Plotly.relayout(gd, {'xaxis.range': [new Date(mid).toISOString(),
                                             new Date(mid + week).toISOString()]});
  if (window.superbotReport) await window.superbotReport.settled(gd);
  await new Promise(r => requestAnimationFrame(() => r()));
  return {ms: performance.now() - started,
          candles: gd.data[0].x.length};
})()"""


def _workload() -> dict[str, Any]:
    """A year of 5m candles, its indicators and trades, as the report takes them."""
    import talib

    from engine.data.synth import synth_candles
    from engine.kernel.trades import SimResult, Trades
    from engine.metrics import compute_metrics

    c = synth_candles("BTC/USDT", "5m", 365, seed=1, start="2024-01-01")
    n = len(c)
    close = np.asarray(c.close, dtype=np.float64)
    rsi = talib.RSI(close, 14)
    upper, _, lower = talib.BBANDS(close, 20, 2, 2)
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    indicators = {"ema_200": talib.EMA(close, 200), "bbands_20_2_2.upper": upper,
                  "bbands_20_2_2.lower": lower, "rsi_14": rsi, "macd_12_26_9.macd": macd,
                  "macd_12_26_9.signal": signal, "macd_12_26_9.hist": hist}
    # trades: enter after RSI < 25, leave 36 bars later (about 2,000 a year)
    entries, k = [], 300
    oversold = np.flatnonzero(np.nan_to_num(rsi, nan=50.0) < 25)
    for i in oversold:
        if i >= k and i + 37 < n:
            entries.append(i + 1)
            k = int(i) + 40
    entry = np.asarray(entries, dtype=np.int64)
    exit_ = entry + 36
    m = len(entry)
    open_ = np.asarray(c.open, dtype=np.float64)
    ratio = open_[exit_] * 0.999 / (open_[entry] * 1.001) - 1
    stake = np.full(m, 1000.0)
    trades = Trades(np.zeros(m, np.int32), np.ones(m, np.int8), entry, exit_, c.time[entry],
                    c.time[exit_], open_[entry], open_[exit_], stake / open_[entry], stake, ratio,
                    ratio * stake, stake * 0.002, np.zeros(m, np.int8))
    equity = 10_000 + np.cumsum(np.bincount(exit_, weights=ratio * stake, minlength=n))
    result = SimResult(("BTC/USDT",), "5m", np.asarray(c.time), trades, equity, 10_000.0)
    metrics = compute_metrics(result, {"BTC/USDT": close})
    return {"result": result, "candles": {"BTC/USDT": c}, "indicators": {"BTC/USDT": indicators},
            "metrics": metrics, "n_candles": n, "n_trades": m}


def _floor_page(path: Path) -> None:
    import plotly.offline
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><script>"
                    f"{plotly.offline.get_plotlyjs()}</script></head><body><div id='price-0'>"
                    "</div></body></html>", encoding="utf-8")


def _tree_cpu(root: int) -> dict[int, float]:
    """pid -> user + system CPU time (ms) of a process and its descendants (Linux /proc)."""
    stats: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick * 1e3)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid][1]
        todo.extend(children.get(pid, ()))
    return out


def _cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU ms spent between two snapshots by the processes alive at the second one."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


class Browser:
    """One headless Chromium, driven over the DevTools protocol (a page target per load)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [chromium, *FLAGS, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.port = int(found.group(1))
                return
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    async def open(self, url: str, zoom: bool) -> dict[str, Any]:
        import aiohttp
        async with aiohttp.ClientSession() as http:
            async with http.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as r:
                target = await r.json(content_type=None)
            try:
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    ids = iter(range(1, 1_000_000))

                    async def call(method: str, **params: Any) -> dict[str, Any]:
                        i = next(ids)
                        await ws.send_json({"id": i, "method": method, "params": params})
                        while True:
                            msg = json.loads((await ws.receive()).data)
                            if msg.get("id") == i:
                                if "error" in msg:
                                    raise RuntimeError(f"{method}: {msg['error']}")
                                return dict(msg.get("result", {}))

                    async def evaluate(expression: str) -> Any:
                        out = await call("Runtime.evaluate", expression=expression,
                                         awaitPromise=True, returnByValue=True)
                        if "exceptionDetails" in out:
                            raise RuntimeError(json.dumps(out["exceptionDetails"])[:500])
                        return out["result"].get("value")

                    cpu0 = _tree_cpu(self.proc.pid)
                    await call("Page.navigate", url=url)
                    await asyncio.sleep(0.05)  # let the navigation commit before waiting on it
                    figures = {"load_ms": await evaluate(_READY)}
                    figures["cpu_ms"] = _cpu_since(cpu0, _tree_cpu(self.proc.pid))
                    figures["all_ms"] = await evaluate(_ALL)
                    if zoom:
                        cpu1 = _tree_cpu(self.proc.pid)
                        figures["zoom"] = await evaluate(_ZOOM)
                        figures["zoom"]["cpu_ms"] = _cpu_since(cpu1, _tree_cpu(self.proc.pid))
                    return figures
            finally:
                async with http.get(f"http://127.0.0.1:{self.port}/json/close/{target['id']}"):
                    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the report here")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="another report page to measure in the same interleaved runs "
                             "(e.g. one written by an earlier commit)")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("chromium not installed (apt-get install -y chromium)")
    from engine.report.html import write_html_report

    doc: dict[str, Any] = {"benchmark": "report", "machine": machine()}
    log("building a year of 5m candles ...")
    w = _workload()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        page, floor = root / "year-5m.html", root / "floor.html"
        t0 = time.perf_counter()
        write_html_report(page, w["result"], w["candles"], w["indicators"], w["metrics"],
                          "bench: a year of 5m candles")
        write_ms = (time.perf_counter() - t0) * 1e3
        _floor_page(floor)
        browser = Browser(chromium, Path(tmp) / "profile")
        pages = {"report": page, "floor": floor, **{str(p): p.resolve() for p in args.also}}
        load: dict[str, list[float]] = {k: [] for k in pages}
        cpu: dict[str, list[float]] = {k: [] for k in pages}
        every: dict[str, list[float]] = {k: [] for k in pages}
        zooms: list[float] = []
        zoom_cpu: list[float] = []
        zoom_candles = None
        try:
            asyncio.run(browser.open(floor.as_uri(), zoom=False))  # warm the browser's caches
            for run in range(args.runs):  # interleaved: report, floor, others, report, ...
                for name, path in pages.items():
                    got = asyncio.run(browser.open(path.as_uri(), zoom=name == "report"))
                    load[name].append(got["load_ms"])
                    cpu[name].append(got["cpu_ms"])
                    every[name].append(got["all_ms"])
                    if name == "report":
                        zooms.append(got["zoom"]["ms"])
                        zoom_cpu.append(got["zoom"]["cpu_ms"])
                        zoom_candles = got["zoom"]["candles"]
                log(f"run {run + 1}/{args.runs}: " + ", ".join(
                    f"{Path(k).name} {load[k][-1]:.0f} ms ({cpu[k][-1]:.0f} cpu)" for k in pages)
                    + f", zoom {zooms[-1]:.0f} ms")
        finally:
            browser.close()

        def figures(name: str) -> dict[str, Any]:
            return {"file_mb": round(pages[name].stat().st_size / 1e6, 2),
                    "load": summary(load[name]), "cpu": summary(cpu[name]),
                    "all_charts_drawn": summary(every[name])}

        def ratio(a: str, b: str, series: dict[str, list[float]]) -> float:
            return round(statistics.median(x / y for x, y in zip(series[a], series[b],
                                                                  strict=True)), 3)

        doc["workload"] = {"candles": w["n_candles"], "timeframe": "5m", "trades": w["n_trades"],
                           "indicators": sorted(w["indicators"]["BTC/USDT"])}
        doc["report"] = {**figures("report"), "write_ms": round(write_ms, 1),
                         "zoom_to_one_week": {**summary(zooms), "cpu": summary(zoom_cpu),
                                              "candles_shown": zoom_candles}}
        doc["floor_plotly_js_only"] = figures("floor")
        doc["ratio_report_over_floor"] = {"load": ratio("report", "floor", load),
                                          "cpu": ratio("report", "floor", cpu)}
        doc["also"] = {str(p): {**figures(str(p)),
                                "ratio_report_over_this": {
                                    "load": ratio("report", str(p), load),
                                    "cpu": ratio("report", str(p), cpu)}}
                       for p in args.also}
        doc["chromium"] = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                                         check=False).stdout.strip()
    emit(doc)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
