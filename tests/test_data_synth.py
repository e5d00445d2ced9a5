"""The synthetic market: deterministic, valid, market-like, bounded; and the sample market."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.gaps import count_gaps
from engine.data.load import load_candles
from engine.data.sample import SAMPLE_SYMBOLS, ensure_sample_market
from engine.data.synth import synth_candles
from engine.data.validation import RawCandles, find_problems


@pytest.fixture(scope="module")
def year():
    return synth_candles("BTC/USDT", "1m", days=365, seed=1)


def _acf(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float(np.dot(x[:-lag], x[lag:]) / np.dot(x, x))


def test_synth_same_arguments_give_the_same_bits():
    a = synth_candles("ETH/USDT", "5m", days=20, seed=7)
    b = synth_candles("ETH/USDT", "5m", days=20, seed=7)
    for f in ("time", "open", "high", "low", "close", "volume"):
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes()


def test_synth_seed_and_symbol_change_the_path():
    base = synth_candles("BTC/USDT", "1m", days=2, seed=1).close
    assert not np.array_equal(base, synth_candles("BTC/USDT", "1m", days=2, seed=2).close)
    eth = synth_candles("ETH/USDT", "1m", days=2, seed=1).close
    assert not np.array_equal(base / base[0], eth / eth[0])


def test_synth_one_year_of_1m_candles_is_complete_and_passes_the_candle_rules(year):
    assert len(year) == 525_600 and count_gaps(year) == 0
    assert int(year.time[0]) == 1_704_067_200_000
    raw = RawCandles(year.time, {f: year.column(f) for f in ("open", "high", "low", "close", "volume")})
    assert find_problems(raw, "1m") == []
    assert np.array_equal(year.open[1:], year.close[:-1])
    assert (year.low > 0).all()


def test_synth_refuses_more_candles_than_it_generates_at_once():
    with pytest.raises(ValueError, match=r"100000 days of 1m candles are 144,000,000 candles; at most "
                                         r"2,628,000 \(1825 days of 1m\) are generated at once"):
        synth_candles("BTC/USDT", "1m", days=100_000)


def test_synth_returns_cluster_and_have_fat_tails(year):
    r = np.diff(np.log(year.close))
    kurtosis = float(np.mean((r - r.mean()) ** 4) / np.var(r) ** 2)
    assert kurtosis > 6                                          # a normal distribution has 3
    assert abs(_acf(r, 1)) < 0.05                                # returns barely predict returns
    for lag in (1, 60, 1440):                                    # |returns| do: volatility clusters
        assert _acf(np.abs(r), lag) > 0.03
    assert 0.3 < r.std() * np.sqrt(525_600) < 1.0                # crypto-like annual volatility


def test_synth_volume_follows_volatility(year):
    r = np.abs(np.diff(np.log(year.close)))

    def rank(x: np.ndarray) -> np.ndarray:
        return np.argsort(np.argsort(x))

    assert np.corrcoef(rank(r), rank(year.volume[1:]))[0, 1] > 0.3


def test_synth_has_trends_and_ranges(year):
    daily = year.close[::1440]
    weekly_moves = np.abs(np.diff(np.log(daily[::7])))
    assert weekly_moves.max() > 0.10 and np.median(weekly_moves) < 0.10


@pytest.mark.parametrize("tf", ["15m", "1h", "1d"])
def test_synth_other_timeframes_are_valid(tf):
    c = synth_candles("SOL/USDT", tf, days=60, seed=5)
    raw = RawCandles(c.time, {f: c.column(f) for f in ("open", "high", "low", "close", "volume")})
    assert find_problems(raw, tf) == [] and count_gaps(c) == 0


def test_ensure_sample_market_generates_once_and_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    root = ensure_sample_market()
    assert root == tmp_path / "sample-market"
    files = sorted(root.glob("synthetic/*/1m.parquet"))
    assert len(files) == len(SAMPLE_SYMBOLS)
    stamps = [p.stat().st_mtime_ns for p in files]
    assert ensure_sample_market() == root
    assert [p.stat().st_mtime_ns for p in files] == stamps       # reused, not regenerated
    btc = load_candles(root, "BTC/USDT", "1m", end="2024-01-02")
    assert len(btc) == 1440 and btc.symbol == "BTC/USDT"
