"""Loading for a backtest: the spacing of a file found in O(n), a file read once, clear errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.backtest.market import load_market
from engine.data.candles import Candles
from engine.data.errors import NoDataError
from engine.data.importer import spacing_timeframe
from engine.data.readers import SourceFile, read_source
from engine.data.store import CandleStore

T0 = 1_704_067_200_000
MIN = 60_000


def _candles(n: int, symbol: str = "BTC/USDT", tf: str = "1m", step: int = MIN) -> Candles:
    close = 100 + np.sin(np.arange(n) / 10)
    return Candles.from_arrays(symbol, tf, T0 + np.arange(n, dtype=np.int64) * step, close,
                               close + 1, close - 1, close, np.ones(n))


@pytest.mark.parametrize(("steps", "expected"), [
    pytest.param([MIN] * 100, "1m", id="regular-1m"),
    pytest.param([5 * MIN] * 50 + [15 * MIN] + [5 * MIN] * 50, "5m", id="5m-with-a-gap"),
    pytest.param([3_600_000] * 30 + [7_200_000] * 20, "1h", id="1h-many-gaps"),
])
def test_spacing_timeframe_finds_the_step_of_sorted_candles(steps: list[int], expected: str) -> None:
    time = T0 + np.concatenate(([0], np.cumsum(steps))).astype(np.int64)

    assert spacing_timeframe(time) == expected


def test_spacing_timeframe_of_rows_out_of_order_takes_the_exact_way() -> None:
    time = T0 + np.array([0, 2, 1, 3, 4, 6, 5, 7], dtype=np.int64) * 5 * MIN

    assert spacing_timeframe(time) == "5m"


def test_spacing_timeframe_of_a_single_candle_is_none() -> None:
    assert spacing_timeframe(np.array([T0], dtype=np.int64)) is None


def test_spacing_timeframe_of_regular_rows_never_takes_the_sorting_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    time = T0 + np.arange(200_000, dtype=np.int64) * MIN
    time = np.concatenate((time[:1000], time[1500:]))          # a gap: still on the grid

    def refuse(_: np.ndarray) -> int | None:
        raise AssertionError("sorted the times")

    monkeypatch.setattr("engine.data.importer._exact_step", refuse)

    assert spacing_timeframe(time) == "1m"


def test_load_market_reads_a_candle_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = CandleStore(tmp_path / "store").write("binance", _candles(500)).path
    file = tmp_path / "BTC_USDT-1m.parquet"
    file.write_bytes(path.read_bytes())
    reads: list[Path] = []

    def counting(p: Path) -> SourceFile:
        reads.append(Path(p))
        return read_source(p)

    monkeypatch.setattr("engine.data.importer.read_source", counting)

    market = load_market("1m", str(file), (), None, None, 14)

    assert reads == [file]
    assert market.symbols == ("BTC/USDT",) and len(market.time) == 500


def test_load_market_of_an_empty_directory_says_how_to_get_candles(tmp_path: Path) -> None:
    with pytest.raises(NoDataError) as err:
        load_market("1m", str(tmp_path), (), None, None, 14)

    assert str(err.value) == (
        f"{tmp_path} holds no candles; get some with `superbot data download`, "
        "`superbot data import FILE` or `superbot data synth`, then pass that store with --data "
        "(or leave --data out to use the sample market)")


def test_load_market_past_the_data_states_each_symbols_range(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    store.write("binance", _candles(1440))

    with pytest.raises(NoDataError) as err:
        load_market("1m", str(tmp_path), ("BTC/USDT",), "2025-01-01", None, 14)

    assert str(err.value) == (
        f"no 1m candles for BTC/USDT in {tmp_path} for --from 2025-01-01; BTC/USDT has "
        "candles 1m 2024-01-01 00:00:00 .. 2024-01-01 23:59:00 (open times, UTC)")
    assert err.value.hint == "choose --from/--to inside that range"


def test_load_market_without_data_trades_the_sample_markets_first_symbol(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))

    market = load_market("1h", None, (), None, "2024-01-03", 0)

    assert market.symbols == ("BTC/USDT",)
    assert len(market.time) == 48 and market.source == str(tmp_path / "sample-market")
