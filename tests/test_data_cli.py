"""`superbot data list | gaps | import | synth` as a user runs them."""
from __future__ import annotations

import json

import numpy as np

from engine.cli.app import main
from engine.data.candles import Candles
from engine.data.store import CandleStore

T0 = 1_704_067_200_000
MIN = 60_000


def _store_with_gaps(tmp_path) -> str:
    times = T0 + np.array([0, 1, 2, 5, 6, 7, 8, 20], dtype=np.int64) * MIN  # 2 + 11 missing
    ones = np.ones(len(times))
    CandleStore(tmp_path).write("binance", Candles.from_arrays("BTC/USDT", "1m", times, ones, ones,
                                                               ones, ones, ones))
    return str(tmp_path)


def _out(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def test_data_list_shows_rows_and_gaps(tmp_path, capsys):
    assert main(["data", "list", "--store", _store_with_gaps(tmp_path)]) == 0
    out = _out(capsys)
    for text in ("binance", "BTC/USDT", "1m", "00:20:00", "│ 8 │ 13 │"):
        assert text in out


def test_data_list_json_gives_every_field(tmp_path, capsys):
    assert main(["data", "list", "--json", "--store", _store_with_gaps(tmp_path)]) == 0
    [entry] = json.loads(capsys.readouterr().out)["data"]
    assert {k: entry[k] for k in ("exchange", "symbol", "timeframe", "first", "last", "rows", "gaps")} == {
        "exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m",
        "first": "2024-01-01 00:00:00", "last": "2024-01-01 00:20:00", "rows": 8, "gaps": 13}


def test_data_list_of_an_empty_store_says_how_to_fill_it(tmp_path, capsys):
    assert main(["data", "list", "--store", str(tmp_path)]) == 0
    assert "is empty; fill it with `superbot data download`" in _out(capsys)


def test_data_gaps_json_gives_the_missing_ranges(tmp_path, capsys):
    assert main(["data", "gaps", "--json", "--store", _store_with_gaps(tmp_path)]) == 0
    ranges = [(g["from"], g["to"], g["missing"]) for g in json.loads(capsys.readouterr().out)["gaps"]]
    assert ranges == [("2024-01-01 00:03:00", "2024-01-01 00:04:00", 2),
                      ("2024-01-01 00:09:00", "2024-01-01 00:19:00", 11)]


def test_data_gaps_table_counts_what_is_missing(tmp_path, capsys):
    assert main(["data", "gaps", "--store", _store_with_gaps(tmp_path)]) == 0
    assert "13 candles missing in 2 ranges" in _out(capsys)


def test_data_gaps_of_a_complete_series_says_no_gaps(tmp_path, capsys):
    assert main(["data", "synth", "--days", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["data", "gaps", "--store", str(tmp_path)]) == 0
    assert _out(capsys) == "no gaps"


def test_data_synth_writes_the_store_under_synthetic(tmp_path, capsys):
    code = main(["data", "synth", "--symbol", "ETH/USDT", "--timeframe", "5m", "--days", "10",
                 "--seed", "3", "--out", str(tmp_path)])
    assert code == 0
    assert "wrote 2,880 synthetic ETH/USDT 5m candles 2024-01-01 00:00:00" in _out(capsys)
    entry = CandleStore(tmp_path).entry("synthetic", "ETH/USDT", "5m")
    assert entry is not None and (entry.rows, entry.gaps) == (2880, 0)


def test_data_synth_twice_gives_the_same_file_contents(tmp_path):
    for out in ("a", "b"):
        assert main(["data", "synth", "--days", "3", "--seed", "9", "--out", str(tmp_path / out)]) == 0
    a = CandleStore(tmp_path / "a").read("synthetic", "BTC/USDT", "1m")
    b = CandleStore(tmp_path / "b").read("synthetic", "BTC/USDT", "1m")
    assert a.close.tobytes() == b.close.tobytes() and a.volume.tobytes() == b.volume.tobytes()


def test_data_synth_bad_symbol_is_a_usage_error(tmp_path, capsys):
    assert main(["data", "synth", "--symbol", "BTCUSDT", "--out", str(tmp_path)]) == 2
    assert "write it as BASE/QUOTE" in capsys.readouterr().err


def test_data_import_csv_with_symbol_and_timeframe(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2024-01-01 00:00:00,1,2,0.5,1.5,3\n"
                    "2024-01-01 01:00:00,1.5,2,1,1.25,4\n")
    store = tmp_path / "store"
    code = main(["data", "import", str(path), "--symbol", "SOL/USDT", "--timeframe", "1h",
                 "--exchange", "kraken", "--store", str(store)])
    assert code == 0
    assert "-> kraken SOL/USDT 1h: 2 new, 0 replaced" in _out(capsys)
    assert list(CandleStore(store).read("kraken", "SOL/USDT", "1h").close) == [1.5, 1.25]


def test_data_import_missing_path_is_a_usage_error(tmp_path):
    assert main(["data", "import", str(tmp_path / "nope.csv"), "--store", str(tmp_path)]) == 2


def test_data_import_unknown_timeframe_is_a_usage_error(tmp_path):
    assert main(["data", "import", str(tmp_path), "--timeframe", "7m"]) == 2


def test_data_list_without_store_shows_the_sample_market_under_its_own_title(tmp_path, monkeypatch, capsys):
    from engine.data.sample import ensure_sample_market

    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    ensure_sample_market()

    assert main(["data", "list"]) == 0
    out = _out(capsys)
    assert f"the store {tmp_path / 'market'} is empty" in out
    assert f"sample market {tmp_path / 'sample-market'} (generated; what `superbot backtest` uses" in out
    assert out.count("synthetic") == 2                       # BTC/USDT and ETH/USDT


def test_data_list_json_without_store_has_the_sample_market_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))

    assert main(["data", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing == {"store": str(tmp_path / "market"), "data": [],
                       "sample_market": {"store": str(tmp_path / "sample-market"), "data": []}}


def test_data_list_before_the_sample_market_exists_says_when_it_is_made(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))

    assert main(["data", "list"]) == 0
    assert ("sample market: not generated yet; the first `superbot backtest` without --data writes it to "
            f"{tmp_path / 'sample-market'}") in _out(capsys)


def test_data_synth_too_many_days_is_a_usage_error_naming_the_maximum(tmp_path, capsys):
    code = main(["data", "synth", "--days", "100000", "--out", str(tmp_path)])

    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--days 100000 of 1m candles would be 144,000,000 candles; at most 2,628,000 are generated at once" in err
    assert "use --days 1825 or less, or a larger --timeframe" in err
    assert not any(tmp_path.iterdir())


def test_data_synth_of_one_candle_says_candle(tmp_path, capsys):
    assert main(["data", "synth", "--timeframe", "1d", "--days", "1", "--out", str(tmp_path)]) == 0
    assert _out(capsys).startswith("wrote 1 synthetic BTC/USDT 1d candle 2024-01-01 00:00:00 .. ")


def test_data_gaps_of_one_missing_candle_says_candle(tmp_path, capsys):
    times = T0 + np.array([0, 2], dtype=np.int64) * MIN
    ones = np.ones(2)
    CandleStore(tmp_path).write("binance", Candles.from_arrays("BTC/USDT", "1m", times, ones, ones, ones,
                                                               ones, ones))
    assert main(["data", "gaps", "--store", str(tmp_path)]) == 0
    assert "1 candle missing in 1 range" in _out(capsys)
