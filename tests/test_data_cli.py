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
