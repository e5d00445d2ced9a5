"""The HTML report renders in a real browser: headless Chromium (Debian's `chromium`).

Skips when chromium is not installed, except under CI=true, where the
browser is part of the environment (.ci/run installs it) and a skip would
hide a broken report.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import unescape as html_unescape
from pathlib import Path

import numpy as np
import pytest

from engine.data.candles import Candles
from engine.kernel.trades import SimResult, Trades
from engine.metrics import compute_metrics
from engine.report import write_html_report

T0 = 1_704_067_200_000
BAR = 15 * 60_000
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        reason = "chromium not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " and CI=true: the browser test must run")
        pytest.skip(reason)
    return path


def _report(path: Path, **options: object) -> Path:
    n, rng = 2000, np.random.default_rng(7)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 3e-3, n)))
    open_ = np.concatenate(([30_000.0], close[:-1]))
    time_ = T0 + np.arange(n, dtype=np.int64) * BAR
    candles = Candles.from_arrays("BTC/USDT", "15m", time_, open_,
                                  np.maximum(open_, close) * 1.002,
                                  np.minimum(open_, close) * 0.998, close, np.ones(n))
    entry = np.arange(10, n - 40, 60, dtype=np.int64)
    exit_ = entry + 25
    ratio = open_[exit_] / open_[entry] - 1
    m = len(entry)
    trades = Trades(np.zeros(m, np.int32), np.ones(m, np.int8), entry, exit_, time_[entry],
                    time_[exit_], open_[entry], open_[exit_], np.ones(m), open_[entry], ratio,
                    ratio * 100, np.full(m, 0.1), np.where(ratio > 0, 0, 1).astype(np.int8))
    equity = 1000 + np.cumsum(np.bincount(exit_, weights=ratio * 100, minlength=n))
    result = SimResult(("BTC/USDT",), "15m", time_, trades, equity, 1000.0)
    ema = np.convolve(close, np.ones(50) / 50)[:n]
    ema[:49] = np.nan
    indicators = {"BTC/USDT": {"ema_50": ema, "rsi_14": 50 + 25 * np.sin(np.arange(n) / 7),
                               "macd_12_26_9.macdhist": np.sin(np.arange(n) / 11)}}
    metrics = compute_metrics(result, {"BTC/USDT": close})
    return write_html_report(path, result, {"BTC/USDT": candles}, indicators, metrics,
                             "Browser check", **options)  # type: ignore[arg-type]


def _with_script(page: Path, script: str) -> Path:
    """A copy of the report that runs `script` after its own scripts (async, may await)."""
    out = page.with_name("driven-" + page.name)
    html = page.read_text(encoding="utf-8")
    out.write_text(html.replace("</body>", f"<script>addEventListener('load', async () => {{"
                                f"try {{ {script} }} catch (e) {{ document.body.dataset.result = "
                                f"'error: ' + e; }} }});</script></body>"), encoding="utf-8")
    return out


def _result(dom: str) -> dict:
    found = re.search(r'<body[^>]*data-result="([^"]*)"', dom)
    assert found, "the page did not report a result"
    text = html_unescape(found.group(1))
    assert not text.startswith("error"), text
    return json.loads(text)


def _console_errors(stderr: str) -> list[str]:
    """Page console messages that are errors (chromium logs them with --enable-logging)."""
    return [line for line in stderr.splitlines()
            if ":CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


def test_console_errors_are_detected():
    line = '[1:1:1122/001646.279657:INFO:CONSOLE:1] "Uncaught Error: kaput", source: x.html (1)'
    assert _console_errors("noise\n" + line) == [line]


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_html_report_renders_plotly_charts_in_chromium(chromium, tmp_path):
    page = _report(tmp_path / "report.html")
    done = _run(chromium, tmp_path / "profile", "--enable-logging=stderr",
                "--virtual-time-budget=15000", "--dump-dom", page.as_uri())
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert dom.count('class="plot-container plotly"') == 3   # equity, trade returns, BTC/USDT
    assert dom.count('class="main-svg"') >= 4
    assert dom.count('<path class="box"') == 2000  # every 15m candle drawn (no resampling)
    assert 'class="legendcandle"' in dom
    assert _console_errors(done.stderr) == []


def test_html_report_screenshot_in_chromium(chromium, tmp_path):
    page = _report(tmp_path / "report.html")
    png = tmp_path / "report.png"
    done = _run(chromium, tmp_path / "profile", f"--screenshot={png}",
                "--window-size=1400,2000", "--virtual-time-budget=15000",
                "--hide-scrollbars", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 60_000  # charts drawn; a blank page is a few kB


# Zoom one day into a chart opened as 1h candles (2,000 15m bars, at most 500 shown).
_ZOOM = """
const gd = await window.superbotReport.draw('price-0');
const before = gd.data[0].x.length;
const a = Date.parse('2024-01-10T00:00:00Z'), b = a + 86400e3;
await Plotly.relayout(gd, {'xaxis.range': [new Date(a).toISOString(), new Date(b).toISOString()]});
await window.superbotReport.settled(gd);
const t = gd.data[0].x.map(Number), low = gd.data[0].low, high = gd.data[0].high;
let lo = Infinity, hi = -Infinity, inView = 0;
t.forEach((x, i) => { if (x >= a && x <= b) { inView++; lo = Math.min(lo, low[i]); hi = Math.max(hi, high[i]); } });
const hist = gd.data.find(d => d.name === 'macd_12_26_9.macdhist');
document.body.dataset.result = JSON.stringify({
  before: before, inView: inView, lo: lo, hi: hi, yrange: gd.layout.yaxis.range,
  title: gd.layout.title.text, histType: hist.type,
  histColors: hist.marker.color.length === hist.y.length});
"""


def test_html_report_zoom_shows_full_detail_and_rescales_the_price_axis(chromium, tmp_path):
    page = _with_script(_report(tmp_path / "report.html", max_candles=500), _ZOOM)
    done = _run(chromium, tmp_path / "profile", "--enable-logging=stderr",
                "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    got = _result(done.stdout)
    assert got["before"] == 500                # the overview: 2,000 15m bars as 1h candles
    assert got["inView"] == 96                 # one day of 15m candles after the zoom
    assert got["title"] == "BTC/USDT · 15m"
    span = got["hi"] - got["lo"]               # the price axis fits the visible day
    assert got["yrange"][0] == pytest.approx(got["lo"] - 0.05 * span)
    assert got["yrange"][1] == pytest.approx(got["hi"] + 0.05 * span)
    assert got["histType"] == "bar" and got["histColors"]
    assert _console_errors(done.stderr) == []


_TABLE = """
const input = document.getElementById('trade-filter');
input.value = 'loss';
input.dispatchEvent(new Event('input'));
const shown = () => Array.from(document.querySelectorAll('#trade-table tbody tr')).filter(r => !r.hidden);
const losses = shown().length;
const count = document.getElementById('trade-count').textContent;
const profit = Array.from(document.querySelectorAll('#trade-table th')).find(th => th.textContent.startsWith('Profit %'));
profit.click();
const ascending = shown().map(r => parseFloat(r.cells[8].dataset.v));
profit.click();
const descending = shown().map(r => parseFloat(r.cells[8].dataset.v));
document.body.dataset.result = JSON.stringify({losses, count, ascending, descending});
"""


def test_html_report_trade_table_filters_and_sorts(chromium, tmp_path):
    report = _report(tmp_path / "report.html")
    page = _with_script(report, _TABLE)
    done = _run(chromium, tmp_path / "profile", "--virtual-time-budget=15000", "--dump-dom",
                page.as_uri())
    got = _result(done.stdout)
    n_trades = report.read_text(encoding="utf-8").count("<tr data-k=")
    n_losses = report.read_text(encoding="utf-8").count(' loss">')
    assert 0 < got["losses"] == n_losses < n_trades
    assert got["count"] == f"{n_losses} of {n_trades} trades"
    assert got["ascending"] == sorted(got["ascending"]) and max(got["ascending"]) < 0
    assert got["descending"] == sorted(got["ascending"], reverse=True)


_DRAWN = """
const first = document.querySelectorAll('.js-plotly-plot').length;
await window.superbotReport.all;
document.body.dataset.result = JSON.stringify({
  first: first, all: document.querySelectorAll('.js-plotly-plot').length});
"""


def test_html_report_draws_charts_in_view_first_then_the_rest(chromium, tmp_path):
    page = _with_script(_report(tmp_path / "report.html"), _DRAWN)
    done = _run(chromium, tmp_path / "profile", "--window-size=1200,700",
                "--virtual-time-budget=15000", "--dump-dom", page.as_uri())
    got = _result(done.stdout)
    assert got["first"] < 3 and got["all"] == 3  # equity, trade returns, BTC/USDT
