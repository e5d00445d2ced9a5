"""The HTML report renders in a real browser: headless Chromium (Debian's `chromium`).

Skips when chromium is not installed, except under CI=true, where the
browser is part of the environment (.ci/run installs it) and a skip would
hide a broken report.
"""
from __future__ import annotations

import os
import shutil
import subprocess
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


def _report(path: Path) -> Path:
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
    indicators = {"BTC/USDT": {"ema_50": ema, "rsi_14": 50 + 25 * np.sin(np.arange(n) / 7)}}
    metrics = compute_metrics(result, {"BTC/USDT": close})
    return write_html_report(path, result, {"BTC/USDT": candles}, indicators, metrics,
                             "Browser check")


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
    assert dom.count('class="plot-container plotly"') == 2   # equity + BTC/USDT
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
