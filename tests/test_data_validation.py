"""Loading never drops or reorders rows silently: every bad row is reported with its position."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.cli.app import main
from engine.data.errors import BadRowsError, DataError
from engine.data.importer import read_candle_file
from engine.data.timeparse import parse_date

HEADER = "date,open,high,low,close,volume\n"
GOOD = [
    "2024-01-01T00:00:00Z,100,101,99,100.5,10",
    "2024-01-01T00:01:00Z,100.5,102,100,101,12",
    "2024-01-01T00:02:00Z,101,101.5,100.5,101.2,8",
    "2024-01-01T00:03:00Z,101.2,101.3,100.9,101,7",
]


def _csv(tmp_path: Path, lines: list[str], name: str = "BTC_USDT-1m.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("row", "reason"), [
    pytest.param("2024-01-01T00:04:00Z,101,100.5,100,101,1", "high 100.5 is below max(open, close) 101.0",
                 id="high-below-open"),
    pytest.param("2024-01-01T00:04:00Z,101,102,101.5,101,1", "low 101.5 is above min(open, close) 101.0",
                 id="low-above-close"),
    pytest.param("2024-01-01T00:04:00Z,101,102,100,101,-1", "volume -1.0 is negative", id="negative-volume"),
    pytest.param("2024-01-01T00:04:00Z,-5,1,-6,-5,1",
                 "open -5.0 is not positive; low -6.0 is not positive; close -5.0 is not positive",
                 id="negative-prices"),
    pytest.param("2024-01-01T00:04:00Z,0,0,0,0,1",
                 "open 0.0 is not positive; high 0.0 is not positive; low 0.0 is not positive; "
                 "close 0.0 is not positive", id="zero-prices"),
    pytest.param("2024-01-01T00:04:00Z,101,inf,100,101,1", "high is not a finite number (inf)",
                 id="infinite"),
    pytest.param("2024-01-01T00:04:00Z,101,abc,100,101,1", "high cannot be read as a number",
                 id="not-a-number"),
    pytest.param("2024-01-01T00:03:00Z,101,102,100,101,1", "duplicate: same time as row 3", id="duplicate"),
    pytest.param("2024-01-01T00:01:30Z,101,102,100,101,1",
                 "time is not on the 1m grid (30s past a 1m boundary); out of order: earlier than row 3",
                 id="off-grid-and-out-of-order"),
    pytest.param("yesterday,101,102,100,101,1", "its time cannot be read", id="bad-time"),
])
def test_bad_row_is_reported_with_row_and_line(tmp_path, row, reason):
    path = _csv(tmp_path, [*GOOD, row])
    with pytest.raises(BadRowsError) as err:
        read_candle_file(path)
    [problem] = err.value.problems
    assert (problem.row, problem.line, problem.reason) == (4, 6, reason)
    assert f"{path}:6: row 4" in str(err.value)


def test_bad_rows_error_message_lists_every_problem_and_the_way_out(tmp_path):
    path = _csv(tmp_path, [GOOD[0], GOOD[2], GOOD[1], GOOD[3]])
    with pytest.raises(BadRowsError) as err:
        read_candle_file(path)
    assert str(err.value) == (
        f"{path}: 1 bad row\n"
        f"  {path}:4: row 2 at 2024-01-01 00:01:00: out of order: earlier than row 1\n"
        "hint: fix the rows, or pass --bad-rows skip to load the other rows and list the "
        "skipped ones")


def test_skip_policy_keeps_the_other_rows_in_file_order_and_returns_the_skipped(tmp_path):
    path = _csv(tmp_path, [GOOD[0], GOOD[2], GOOD[1], GOOD[3]])
    loaded = read_candle_file(path, bad_rows="skip")
    assert [p.row for p in loaded.skipped] == [2]
    minute = 60_000
    start = parse_date("2024-01-01")
    assert list(loaded.candles.time) == [start, start + 2 * minute, start + 3 * minute]


def test_csv_epoch_seconds_and_milliseconds_read_the_same(tmp_path):
    secs = ["1704067200,1,2,0.5,1.5,3", "1704067260,1.5,2,1,1.25,4"]
    ms = ["1704067200000,1,2,0.5,1.5,3", "1704067260000,1.5,2,1,1.25,4"]
    a = read_candle_file(_csv(tmp_path, secs, "a.csv"), "BTC/USDT", "1m").candles
    b = read_candle_file(_csv(tmp_path, ms, "b.csv"), "BTC/USDT", "1m").candles
    assert list(a.time) == list(b.time) == [1704067200000, 1704067260000]


def test_csv_decimals_are_parsed_correctly_rounded(tmp_path):
    texts = ["0.00162008", "0.0016100000000000001", "42000.01", "1e-08"]
    lines = [f"{1704067200 + 60 * i},{t},{t},{t},{t},1" for i, t in enumerate(texts)]
    c = read_candle_file(_csv(tmp_path, lines, "x.csv"), "BTC/USDT", "1m").candles
    assert list(c.close) == [float(t) for t in texts]


def test_json_row_of_the_wrong_shape_is_reported(tmp_path):
    path = tmp_path / "BTC_USDT-1m.json.gz"
    rows = [[1704067200000, 1, 2, 0.5, 1.5, 3], [1704067260000, 1.5, 2], [1704067320000, 1, 1, 1, 1, 0]]
    with gzip.open(path, "wt") as fh:
        json.dump(rows, fh)
    with pytest.raises(BadRowsError) as err:
        read_candle_file(path)
    assert [p.row for p in err.value.problems] == [1]
    assert "open cannot be read as a number" in err.value.problems[0].reason


def test_parquet_with_a_duplicate_is_refused(tmp_path):
    path = tmp_path / "ETH_USDT-5m.parquet"
    t = np.array([0, 300_000, 300_000, 600_000], dtype=np.int64) + 1704067200000
    pq.write_table(pa.table({"date": pa.array(t).cast(pa.timestamp("ms", tz="UTC")),
                             **{f: np.ones(4) for f in ("open", "high", "low", "close", "volume")}}),
                   path)
    with pytest.raises(BadRowsError, match="row 2 at 2024-01-01 00:05:00: duplicate: same time as row 1"):
        read_candle_file(path)


def test_file_without_a_freqtrade_name_asks_for_symbol_and_timeframe(tmp_path):
    path = _csv(tmp_path, GOOD, "prices.csv")
    with pytest.raises(DataError, match="the candles are 1m apart; pass --symbol and --timeframe"):
        read_candle_file(path)


def test_timeframe_larger_than_the_spacing_is_refused_with_the_fix(tmp_path):
    path = _csv(tmp_path, GOOD, "prices.csv")
    with pytest.raises(DataError, match="the timeframe 5m, but the candles are 1m apart; pass --timeframe 1m"):
        read_candle_file(path, "BTC/USDT", "5m")


def test_import_cli_bad_rows_exit_1_and_skip_lists_them(tmp_path, capsys):
    path = _csv(tmp_path, [*GOOD, "2024-01-01T00:04:00Z,101,100.5,100,101,1"])
    store = str(tmp_path / "store")
    assert main(["data", "import", str(path), "--store", store]) == 1
    assert f"{path}:6:row4at2024-01-0100:04:00:high100.5" in "".join(capsys.readouterr().err.split())
    assert main(["data", "import", str(path), "--store", store, "--bad-rows", "skip"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "skipped 1 bad row: row 4 (line 6) at 2024-01-01 00:04:00: high 100.5" in out
