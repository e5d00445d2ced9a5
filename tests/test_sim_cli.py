"""`superbot exchange-sim`: option errors exit 2, and the command serves until interrupted."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine.cli.app import main
from engine.data.store import CandleStore
from engine.data.synth import synth_candles

T0 = 1_704_067_200_000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("market")
    s = CandleStore(root)
    s.write("synthetic", synth_candles("BTC/USDT", "1m", days=1, seed=5, start=T0))
    return root


@pytest.mark.parametrize(("args", "text"), [
    pytest.param(["--speed", "fast"], "--speed was 'fast'", id="speed"),
    pytest.param(["--speed", "-3"], "--speed was '-3'", id="negative-speed"),
    pytest.param(["--faults", "429,5xxx"], "unknown fault '5xxx'", id="faults"),
    pytest.param(["--balance", "USDT"], "--balance item 'USDT' is not ASSET=AMOUNT", id="balance"),
    pytest.param(["--commission", "2"], "--commission was '2'", id="commission"),
    pytest.param(["--timeframe", "7m"], "--timeframe was '7m'", id="timeframe"),
    pytest.param(["--symbols", "DOGE/USDT"], "--symbols: DOGE/USDT not in", id="symbols"),
])
def test_exchange_sim_bad_option_exits_2_naming_it(store, capsys, args, text):
    code = main(["exchange-sim", "--data", str(store), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert text in " ".join(err.split())


def test_exchange_sim_port_in_use_exits_2(store, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["exchange-sim", "--data", str(store), "--port", str(taken.getsockname()[1]),
                     "--speed", "manual"])
    assert code == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def _get(url: str, method: str = "GET") -> dict[str, object]:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def test_exchange_sim_serves_the_data_and_advances_on_request(store):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "superbot", "exchange-sim", "--data", str(store),
                             "--speed", "manual", "--start", "2024-01-01 10:00", "--faults", "429:every3",
                             "--retry-after", "9"],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = line.split(" on ")[1].split()[0]
        assert line.startswith("exchange-sim: BTCUSDT 1m from 2024-01-01 10:00")
        assert _get(url + "/api/v3/ping") == {}
        status = _get(url + "/sim/advance?bars=3", "POST")
        assert (status["now"], status["closed"]) == (T0 + 603 * 60_000, 3)
        [last] = _get(url + "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1")   # type: ignore[misc]
        assert last[0] == T0 + 603 * 60_000
        with pytest.raises(urllib.error.HTTPError) as refused:      # the third API request
            _get(url + "/api/v3/time")
        refused.value.close()
        assert (refused.value.code, refused.value.headers["Retry-After"]) == (429, "9")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, rest = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, rest = proc.communicate()
    assert (proc.returncode, rest.strip()) == (0, "exchange-sim: stopped")


def test_exchange_sim_command_module_imports_no_server_until_run():
    code = ("import sys, engine.cli.sim_cmds; "
            "print([m for m in ('aiohttp', 'pandas', 'numba', 'engine.sim') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["engine.sim", "engine.sim.market", "engine.sim.book", "engine.sim.auth",
                                    "engine.sim.faults", "engine.sim.rest", "engine.sim.server",
                                    "engine.sim.errors", "engine.cli.sim_cmds"])
def test_exchange_sim_modules_export_what_they_define(module):
    import importlib
    mod = importlib.import_module(module)
    assert all(hasattr(mod, name) for name in mod.__all__)
    public = {n for n, v in vars(mod).items() if not n.startswith("_") and getattr(v, "__module__", None) == module
              and callable(v) and not n.isupper()}
    assert public <= set(mod.__all__), public - set(mod.__all__)


@pytest.mark.parametrize(("args", "text"), [
    pytest.param(["--hold", "-1"], "--hold", id="hold"),
    pytest.param(["--retry-after", "x"], "--retry-after", id="retry-after"),
])
def test_exchange_sim_bad_fault_timing_exits_2(store, capsys, args, text):
    assert main(["exchange-sim", "--data", str(store), *args]) == 2
    assert text in capsys.readouterr().err
