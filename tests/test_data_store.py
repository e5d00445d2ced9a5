"""The parquet store: layout, exact round-trip, merge, atomic writes, ranges, and loading."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.candles import Candles
from engine.data.errors import DataError, NoDataError
from engine.data.home import data_home, default_store_root
from engine.data.load import data_source, load_candles
from engine.data.store import CandleStore

T0 = 1_704_067_200_000
MIN = 60_000


def _candles(times: list[int] | np.ndarray, symbol: str = "BTC/USDT", tf: str = "1m",
             seed: int = 0) -> Candles:
    rng = np.random.default_rng(seed)
    n = len(times)
    o = rng.random(n) * 100 + 1
    c = rng.random(n) * 100 + 1
    return Candles.from_arrays(symbol, tf, np.asarray(times), o, np.maximum(o, c) + rng.random(n),
                               np.minimum(o, c) - rng.random(n) / 2, c, rng.random(n) * 1e6)


def test_store_round_trips_int64_times_and_float64_bits_exactly(tmp_path):
    rng = np.random.default_rng(1)
    n = 1000
    weird = rng.integers(0, 2**62, n).view(np.float64)       # arbitrary doubles, any bit pattern
    weird = np.where(np.isfinite(weird), weird, 1.0)
    times = T0 + np.arange(n, dtype=np.int64) * MIN
    c = Candles.from_arrays("BTC/USDT", "1m", times, weird, weird * 2, weird / 3, weird + 1, weird)
    store = CandleStore(tmp_path)
    store.write("binance", c)
    back = store.read("binance", "BTC/USDT", "1m")
    assert back.time.dtype == np.int64 and np.array_equal(back.time, times)
    for f in ("open", "high", "low", "close", "volume"):
        assert back.column(f).tobytes() == c.column(f).tobytes()


def test_store_layout_is_exchange_symbol_timeframe_and_pandas_reads_it(tmp_path):
    store = CandleStore(tmp_path)
    entry = store.write("binance", _candles(T0 + np.arange(3) * 3_600_000, "XRP/USDT:USDT", "1h"))
    assert entry.path == tmp_path / "binance" / "XRP_USDT_USDT" / "1h.parquet"
    frame = pd.read_parquet(entry.path)
    assert list(frame.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert (entry.symbol, entry.rows, entry.first, entry.last) == ("XRP/USDT:USDT", 3, T0,
                                                                   T0 + 2 * 3_600_000)


def test_store_merge_sorts_without_duplicates_and_new_candles_win(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(0, 10) * MIN, seed=1))
    newer = _candles(T0 + np.arange(5, 15) * MIN, seed=2)
    result = store.merge("binance", newer)
    merged = store.read("binance", "BTC/USDT", "1m")
    assert (result.added, result.replaced) == (5, 5)
    assert np.array_equal(merged.time, T0 + np.arange(15) * MIN)
    assert np.array_equal(merged.close[5:], newer.close)


def test_store_merge_of_candles_already_stored_changes_nothing(tmp_path):
    store = CandleStore(tmp_path)
    c = _candles(T0 + np.arange(10) * MIN)
    store.write("binance", c)
    mtime = store.path("binance", "BTC/USDT", "1m").stat().st_mtime_ns
    result = store.merge("binance", c.take(2, 6))
    assert (result.added, result.replaced) == (0, 0)
    assert store.path("binance", "BTC/USDT", "1m").stat().st_mtime_ns == mtime


def test_store_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(10) * MIN))
    path = store.path("binance", "BTC/USDT", "1m")
    before = path.read_bytes()

    def crash(table, where, **kwargs):
        Path(where).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr("engine.data.store.pq.write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        store.merge("binance", _candles(T0 + np.arange(10, 20) * MIN))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["1m.parquet"]


def test_store_read_range_is_half_open(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(10) * MIN))
    c = store.read("binance", "BTC/USDT", "1m", T0 + 2 * MIN, T0 + 5 * MIN)
    assert list(c.time) == [T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]


def test_store_refuses_unsorted_candles(tmp_path):
    with pytest.raises(DataError, match="must be sorted by time with one candle per time"):
        CandleStore(tmp_path).write("binance", _candles([T0 + MIN, T0]))


def test_store_missing_series_says_how_to_see_what_is_there(tmp_path):
    with pytest.raises(NoDataError, match="run `superbot data list`"):
        CandleStore(tmp_path).read("binance", "BTC/USDT", "1m")


@pytest.mark.parametrize(("env", "expected"), [
    pytest.param({"SUPERBOT_HOME": "/srv/sb", "XDG_DATA_HOME": "/x"}, "/srv/sb", id="superbot-home"),
    pytest.param({"XDG_DATA_HOME": "/x"}, "/x/superbot", id="xdg"),
    pytest.param({"HOME": "/home/ann"}, "/home/ann/.local/share/superbot", id="home"),
])
def test_default_store_root_follows_the_environment(monkeypatch, env, expected):
    for name in ("SUPERBOT_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert data_home() == Path(expected)
    assert default_store_root() == Path(expected) / "market"
    assert CandleStore().root == Path(expected) / "market"


def test_load_candles_from_a_store_with_a_date_range(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(1440) * MIN))
    c = load_candles(tmp_path, "BTC/USDT", "1m", start="2024-01-01T01:00", end="2024-01-01T02:00")
    assert (len(c), int(c.time[0])) == (60, T0 + 60 * MIN)


def test_load_candles_resamples_from_a_smaller_stored_timeframe(tmp_path):
    store = CandleStore(tmp_path)
    one = _candles(T0 + np.arange(60) * MIN)
    store.write("binance", one)
    five = load_candles(tmp_path, "BTC/USDT", "5m")
    assert len(five) == 12 and five.timeframe == "5m"
    assert five.high[0] == one.high[:5].max() and five.volume[1] == one.volume[5:10].sum()


def test_load_candles_asks_for_the_exchange_when_two_hold_the_symbol(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(5) * MIN))
    store.write("kucoin", _candles(T0 + np.arange(5) * MIN))
    with pytest.raises(DataError, match=r"held for several exchanges \(binance, kucoin\); choose one"):
        load_candles(tmp_path, "BTC/USDT", "1m")
    assert len(load_candles(tmp_path, "BTC/USDT", "1m", exchange="kucoin")) == 5


def test_load_candles_missing_symbol_lists_what_the_store_holds(tmp_path):
    CandleStore(tmp_path).write("binance", _candles(T0 + np.arange(5) * MIN))
    with pytest.raises(NoDataError, match=r"holds: BTC/USDT 1m\)"):
        load_candles(tmp_path, "ETH/USDT", "1m")


def test_data_source_describes_a_store_and_one_exchange_directory(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(5) * MIN))
    store.write("binance", _candles(T0 + np.arange(5) * 3_600_000, "ETH/USDT", "1h"))
    store.write("kucoin", _candles(T0 + np.arange(5) * MIN, "SOL/USDT"))
    whole = data_source(tmp_path)
    assert (whole.kind, whole.symbols()) == ("store", ["BTC/USDT", "ETH/USDT", "SOL/USDT"])
    assert whole.symbols("5m") == ["BTC/USDT", "SOL/USDT"]
    assert data_source(tmp_path / "binance").symbols() == ["BTC/USDT", "ETH/USDT"]


def test_load_candles_reads_a_csv_file_named_by_the_caller(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("timestamp,open,high,low,close,volume\n"
                    "1704067200000,1,2,0.5,1.5,3\n1704067260000,1.5,2,1,1.25,4\n")
    c = load_candles(path, "BTC/USDT", "1m")
    assert (c.symbol, c.timeframe, list(c.close)) == ("BTC/USDT", "1m", [1.5, 1.25])


def test_read_store_file_gives_contiguous_arrays_that_own_their_memory(tmp_path):
    store = CandleStore(tmp_path)
    store.write("binance", _candles(T0 + np.arange(1000) * MIN))

    back = store.read("binance", "BTC/USDT", "1m")

    for name, dtype in (("time", np.int64), ("open", np.float64), ("volume", np.float64)):
        values = getattr(back, name)
        assert values.dtype == dtype and values.flags.c_contiguous and values.flags.owndata
