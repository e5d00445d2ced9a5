"""The candle clock: what is closed, what is open, gaps, the self-running clock and seeded faults end to end."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from _sim import T0, make_market, sim_server

from dsl.errors import UsageError
from engine.data.candles import Candles
from engine.data.synth import synth_candles
from engine.sim import ExchangeSim, Market

MIN = 60_000


def _with_gap(n: int, gap: range) -> Candles:
    c = synth_candles("BTC/USDT", "1m", days=n / 1440, seed=2, start=T0)
    keep = np.array([i not in gap for i in range(len(c))])
    return Candles(c.symbol, c.timeframe, c.time[keep], c.open[keep], c.high[keep], c.low[keep],
                   c.close[keep], c.volume[keep])


def test_market_open_candle_shows_only_its_open_and_the_price_is_that_open():
    m = make_market()
    c = m.candles["BTCUSDT"]
    bar = m.open_bar("BTCUSDT")
    assert bar is not None
    assert (bar.time, bar.high, bar.low, bar.close, bar.volume) == (m.now, bar.open, bar.open, bar.open, 0.0)
    assert float(m.price("BTCUSDT")) == c.open[1000] == bar.open


def test_market_closed_candles_stop_before_now_whatever_the_end_asked():
    m = make_market()
    rows = m.closed("BTCUSDT", None, m.now + 100 * MIN, 1000)
    assert (len(rows), rows[-1].time) == (1000, m.now - MIN)


def test_market_price_in_a_gap_is_the_last_close():
    c = _with_gap(100, range(50, 60))
    m = Market([c], start=T0 + 55 * MIN)
    assert m.open_bar("BTCUSDT") is None
    assert float(m.price("BTCUSDT")) == c.close[49]


def test_market_tick_in_a_gap_closes_nothing_for_that_symbol_but_moves_the_clock():
    m = Market([_with_gap(100, range(50, 60))], start=T0 + 55 * MIN)
    assert (m.tick(), m.now) == ({}, T0 + 56 * MIN)


@pytest.mark.parametrize(("candles", "start", "text"), [
    pytest.param([], None, "the simulator needs candles of at least one symbol", id="none"),
    pytest.param([synth_candles("BTC/USDT", "1m", 1, 1, T0), synth_candles("ETH/USDT", "5m", 1, 1, T0)],
                 None, "candles of one timeframe are needed, were 1m, 5m", id="timeframes"),
    pytest.param([synth_candles("BTC/USDT", "1m", 1, 1, T0)], T0 - MIN, "is outside the data", id="start"),
])
def test_market_bad_settings_are_usage_errors(candles, start, text):
    with pytest.raises(UsageError, match=text):
        Market(candles, start=start)


def test_sim_speed_max_plays_to_the_end_by_itself():
    with ExchangeSim(Market([synth_candles("BTC/USDT", "1m", 0.2, 3, T0)], start=T0), speed="max") as sim:
        deadline = time.monotonic() + 20
        while not sim.call(lambda: sim.state.market.finished):
            assert time.monotonic() < deadline, "the clock did not reach the end within 20 s"
            time.sleep(0.01)
        assert sim.call(lambda: sim.state.market.now) == T0 + 288 * MIN


def test_sim_without_speed_moves_only_on_advance():
    with sim_server() as sim:
        before = sim.call(lambda: sim.state.market.now)
        urllib.request.urlopen(sim.url + "/api/v3/ping", timeout=5).close()
        assert sim.call(lambda: sim.state.market.now) == before
        assert sim.advance(2) == 2
        assert sim.call(lambda: sim.state.market.now) == before + 2 * MIN


@pytest.mark.parametrize("speed", [0, -1, "fast"])
def test_sim_bad_speed_is_refused(speed):
    with pytest.raises(UsageError, match="is not a positive number of candles per second"):
        ExchangeSim(make_market(), speed=speed)


def _statuses(seed: int) -> list[int]:
    out = []
    with sim_server(faults="429:0.3,5xx:0.2,418:0.05", seed=seed) as sim:
        for _ in range(40):
            try:
                with urllib.request.urlopen(sim.url + "/api/v3/time", timeout=5) as resp:
                    out.append(resp.status)
            except urllib.error.HTTPError as err:
                with err:
                    out.append(err.code)
    return out


def test_sim_same_seed_same_requests_give_the_same_faults():
    first = _statuses(5)
    assert first == _statuses(5)
    assert first != _statuses(6)
    assert {200, 429} <= set(first)


@pytest.mark.parametrize("interval", ["5m", "15m", "1h"])
def test_sim_coarse_klines_are_the_resampled_closed_candles_then_the_open_one(interval):
    from _sim import ccxt_client

    from compiler.resample import resample
    from compiler.timeframes import timeframe_ms

    size = timeframe_ms(interval)
    market = make_market(start=T0 + 1007 * MIN)     # inside a 5m, 15m and 1h candle
    with ExchangeSim(market) as sim:
        rows = ccxt_client(sim.url).fetch_ohlcv("BTC/USDT", interval, limit=6)
    c = market.candles["BTCUSDT"]
    closed = c.between(None, market.now - market.now % size)
    ref = resample(closed, interval)
    expect = [[int(ref.time[i]), ref.open[i], ref.high[i], ref.low[i], ref.close[i], pytest.approx(ref.volume[i])]
              for i in range(len(ref) - 5, len(ref))]
    assert rows[:5] == expect
    current = market.now - market.now % size
    part = c.between(current, market.now)
    price = float(market.price("BTCUSDT"))
    assert rows[5] == [current, part.open[0], max(part.high.max(), price), min(part.low.min(), price), price,
                       pytest.approx(part.volume.sum())]


def test_sim_klines_of_a_week_or_a_smaller_interval_are_invalid():
    import ccxt
    from _sim import ccxt_client

    with ExchangeSim(Market([synth_candles("BTC/USDT", "5m", 2, 1, T0)])) as sim:
        ex = ccxt_client(sim.url)
        for interval in ("1m", "1w"):
            with pytest.raises(ccxt.BadRequest, match="-1120"):
                ex.fetch_ohlcv("BTC/USDT", interval)


def test_sim_start_on_a_port_in_use_raises_and_leaves_nothing_running():
    import socket
    import threading

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sim = ExchangeSim(make_market(), port=taken.getsockname()[1])
        with pytest.raises(OSError):
            sim.start()
    assert not [t for t in threading.enumerate() if t.name == "exchange-sim"]


def test_sim_weight_over_the_limit_is_429_until_the_minute_ends():
    import ccxt
    from _sim import ccxt_client

    clock = [T0 + 15_000]                        # 45 s before the minute ends
    with ExchangeSim(make_market(), weight_limit=45, wall_ms=lambda: clock[0]) as sim:
        ex = ccxt_client(sim.url, enableRateLimit=False, apiKey="", secret="")   # public calls only
        ex.load_markets()                        # 20 + 1 + 1 (spot and futures exchangeInfo)
        ex.fetch_ohlcv("BTC/USDT", "1m", limit=5)   # 2
        ex.fetch_ticker("BTC/USDT")              # 2: 26
        ex.fetch_order_book("BTC/USDT", 5)       # 5: 31
        used = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
        with pytest.raises(ccxt.DDoSProtection, match=r"limit of IP\(127\.0\.0\.1\) request weight per minute is 45"):
            for _ in range(10):
                ex.fetch_ticker("BTC/USDT")
        assert ex.last_response_headers["Retry-After"] == "45"
        clock[0] += 45_000                       # the next minute
        assert ex.fetch_ticker("BTC/USDT")["last"] > 0
        assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert used == 31


def test_sim_speed_moves_the_clock_by_itself():
    with ExchangeSim(make_market(), speed=200.0) as sim:
        start = sim.call(lambda: sim.state.market.now)
        deadline = time.monotonic() + 20
        while sim.call(lambda: sim.state.market.now) < start + 3 * MIN:
            assert time.monotonic() < deadline, "the clock did not move 3 candles within 20 s"
            time.sleep(0.01)
