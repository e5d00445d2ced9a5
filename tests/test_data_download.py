"""Downloads through the real ccxt binance client against a local Binance look-alike."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from exchange_sim import ExchangeSim, ccxt_config

from engine.cli.app import main
from engine.data.download import download, make_exchange
from engine.data.errors import BadRowsError, DataError, DownloadError
from engine.data.store import CandleStore
from engine.data.synth import synth_candles

T0 = 1_704_067_200_000          # 2024-01-01 00:00 UTC
MIN = 60_000
GAP = range(300, 307)           # 7 candles the exchange does not have


def _rows(symbol: str, n: int, seed: int) -> list[list[float]]:
    c = synth_candles(symbol, "1m", days=n / 1440, seed=seed, start=T0)
    rows = [[int(c.time[i]), float(c.open[i]), float(c.high[i]), float(c.low[i]),
             float(c.close[i]), float(c.volume[i])] for i in range(len(c))]
    return [r for i, r in enumerate(rows) if i not in GAP]


@pytest.fixture()
def sim():
    btc = _rows("BTC/USDT", 1200, seed=3)
    eth = _rows("ETH/USDT", 1200, seed=4)
    eth[105][2] = eth[105][4] - 1.0          # high below close: a bad candle at page row 5
    with ExchangeSim({("BTC/USDT", "1m"): btc, ("ETH/USDT", "1m"): eth}) as server:
        yield server


def _exchange(sim: ExchangeSim, **extra):
    return make_exchange("binance", {**ccxt_config(sim.url), **extra})


def _served(sim: ExchangeSim, symbol: str, start: int, end: int) -> np.ndarray:
    return np.array([r for r in sim.candles[(symbol, "1m")] if start <= r[0] < end])


def _stored(store: CandleStore, symbol: str) -> np.ndarray:
    c = store.read("binance", symbol, "1m")
    return np.column_stack([c.time.astype(np.float64), c.open, c.high, c.low, c.close, c.volume])


def test_download_pages_store_the_exact_candles_and_keep_the_gap(sim, tmp_path):
    store = CandleStore(tmp_path)
    [result] = download(_exchange(sim), store, ["BTC/USDT"], ["1m"], T0, T0 + 600 * MIN,
                        limit=100, retry_delay=0.01)
    assert np.array_equal(_stored(store, "BTC/USDT"), _served(sim, "BTC/USDT", T0, T0 + 600 * MIN))
    assert result.added == 600 - len(GAP)
    assert result.gaps == len(GAP)
    assert result.requests == len(sim.klines()) == 6


def test_download_second_run_fetches_only_after_the_last_stored_candle(sim, tmp_path):
    store = CandleStore(tmp_path)
    ex = _exchange(sim)
    download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 400 * MIN, limit=100, retry_delay=0.01)
    first_run = len(sim.klines())
    [again] = download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 900 * MIN, limit=100,
                       retry_delay=0.01)
    resumed = sim.klines()[first_run:]
    assert int(resumed[0].params["startTime"]) == T0 + 400 * MIN
    assert again.added == 500
    assert np.array_equal(_stored(store, "BTC/USDT"), _served(sim, "BTC/USDT", T0, T0 + 900 * MIN))


def test_download_with_nothing_missing_sends_no_kline_request(sim, tmp_path):
    store = CandleStore(tmp_path)
    ex = _exchange(sim)
    download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 200 * MIN, limit=100, retry_delay=0.01)
    before = len(sim.klines())
    [again] = download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 200 * MIN, limit=100)
    assert (len(sim.klines()) - before, again.added) == (0, 0)


def test_download_earlier_since_fetches_the_head_before_the_stored_first_candle(sim, tmp_path):
    store = CandleStore(tmp_path)
    ex = _exchange(sim)
    download(ex, store, ["BTC/USDT"], ["1m"], T0 + 500 * MIN, T0 + 600 * MIN, retry_delay=0.01)
    [head] = download(ex, store, ["BTC/USDT"], ["1m"], T0 + 100 * MIN, T0 + 600 * MIN,
                      retry_delay=0.01)
    assert head.added == 400 - len(GAP)
    assert np.array_equal(_stored(store, "BTC/USDT"),
                          _served(sim, "BTC/USDT", T0 + 100 * MIN, T0 + 600 * MIN))


def test_download_never_stores_the_still_open_candle(sim, tmp_path):
    store = CandleStore(tmp_path)
    now = T0 + 1000 * MIN + 30_000            # the candle opened at minute 1000 is still open
    download(_exchange(sim), store, ["BTC/USDT"], ["1m"], T0 + 900 * MIN, None, now=now,
             retry_delay=0.01)
    assert int(store.read("binance", "BTC/USDT", "1m").time[-1]) == T0 + 999 * MIN


def test_download_retries_when_the_server_fails(sim, tmp_path):
    sim.fail_next = 2
    store = CandleStore(tmp_path)
    [result] = download(_exchange(sim), store, ["BTC/USDT"], ["1m"], T0, T0 + 50 * MIN,
                        retry_delay=0.01)
    assert result.added == 50
    assert len(sim.klines()) == 3


def test_download_cut_short_keeps_what_it_fetched_and_the_rerun_resumes(sim, tmp_path):
    store = CandleStore(tmp_path)
    ex = _exchange(sim)
    sim.fail_after = 2                          # the exchange goes down after two pages
    with pytest.raises(DownloadError, match="run the same command again later to resume") as err:
        download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 500 * MIN, limit=100, retry_delay=0.001)
    assert err.value.retry
    assert len(store.read("binance", "BTC/USDT", "1m")) == 200
    sim.fail_after = None
    before = len(sim.klines())
    download(ex, store, ["BTC/USDT"], ["1m"], T0, T0 + 500 * MIN, limit=100, retry_delay=0.001)
    assert int(sim.klines()[before].params["startTime"]) == T0 + 200 * MIN
    assert np.array_equal(_stored(store, "BTC/USDT"), _served(sim, "BTC/USDT", T0, T0 + 500 * MIN))


def test_download_bad_candle_is_refused_with_its_position(sim, tmp_path):
    store = CandleStore(tmp_path)
    with pytest.raises(BadRowsError) as err:
        download(_exchange(sim), store, ["ETH/USDT"], ["1m"], T0, T0 + 300 * MIN, limit=100,
                 retry_delay=0.01)
    assert [p.row for p in err.value.problems] == [5]
    assert "page from 2024-01-01 01:40:00" in str(err.value)
    assert "high" in err.value.problems[0].reason
    assert len(store.read("binance", "ETH/USDT", "1m")) == 100   # the pages before it are kept


def test_download_skip_policy_stores_the_others_and_lists_the_bad_one(sim, tmp_path):
    store = CandleStore(tmp_path)
    [result] = download(_exchange(sim), store, ["ETH/USDT"], ["1m"], T0, T0 + 300 * MIN,
                        limit=100, bad_rows="skip", retry_delay=0.01)
    assert [(p.row, p.time) for p in result.skipped] == [(5, T0 + 105 * MIN)]
    assert T0 + 105 * MIN not in store.read("binance", "ETH/USDT", "1m").time


def test_download_unknown_symbol_suggests_the_closest_market(sim, tmp_path):
    with pytest.raises(DataError, match="has no market 'BTC/USDTT'; did you mean 'BTC/USDT'"):
        download(_exchange(sim), CandleStore(tmp_path), ["BTC/USDTT"], ["1m"], T0)


def test_download_requests_are_spaced_by_the_ccxt_rate_limit(sim, tmp_path):
    # ccxt spaces calls by rateLimit x the endpoint's weight (0.4 for a small spot kline page)
    ex = _exchange(sim, rateLimit=400)
    assert ex.enableRateLimit
    download(ex, CandleStore(tmp_path), ["BTC/USDT"], ["1m"], T0, T0 + 200 * MIN, limit=50)
    times = [r.at for r in sim.klines()]
    assert len(times) == 4
    assert min(np.diff(times)) >= 0.1


def test_download_cli_writes_the_store_and_reports_json(sim, tmp_path, capsys):
    config = tmp_path / "ccxt.json"
    config.write_text(json.dumps(ccxt_config(sim.url)))
    store = tmp_path / "store"
    code = main(["data", "download", "--exchange", "binance", "--symbols", "BTC/USDT",
                 "--timeframes", "1m", "--since", "2024-01-01", "--until", "2024-01-01T06:00",
                 "--exchange-config", str(config), "--store", str(store), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    [d] = out["downloads"]
    assert (d["added"], d["data"]["gaps"], d["data"]["last"]) == (353, 7, "2024-01-01 05:59:00")


def test_download_cli_unknown_exchange_is_a_usage_error_with_a_suggestion(tmp_path, capsys):
    code = main(["data", "download", "--exchange", "binanse", "--symbols", "BTC/USDT",
                 "--since", "2024-01-01", "--store", str(tmp_path)])
    assert code == 2
    assert "did you mean 'binance'" in capsys.readouterr().err


def test_download_cli_bad_symbol_is_a_usage_error(tmp_path):
    code = main(["data", "download", "--exchange", "binance", "--symbols", "BTCUSDT",
                 "--since", "2024-01-01", "--store", str(Path(tmp_path))])
    assert code == 2
