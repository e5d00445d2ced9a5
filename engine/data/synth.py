"""A synthetic market that behaves like crypto, so SuperBot runs offline.

Deterministic (same symbol, timeframe, days, seed and start: same bits on
every machine) and vectorized with numpy: one year of 1m candles (525,600)
takes a fraction of a second. Steps, each in one function:

1. volatility (`_volatility`): log-volatility is the sum of a slow (weeks),
   a daily and a fast (tens of minutes) AR(1) component, plus an EGARCH-like
   feedback term in which large past moves raise the next bars' volatility;
   times an intraday and weekend seasonality. This gives volatility
   clustering with a slowly decaying autocorrelation of |returns|.
2. shocks: Student-t with unit variance, 4 degrees of freedom on 1m bars
   (fat tails) up to 8 on daily bars (sums of many minutes are less fat).
3. regimes (`_regimes`): up trends, down trends and ranges, each lasting days
   to weeks. A trend adds a drift that moves the price 5-20 % (median 10 %)
   over the regime, so a trend follower on hourly candles has something to
   follow; a range replaces the random walk by a mean-reverting path (a move
   is half undone in 8 hours), so dips get bought back. Ranges are calmer
   (0.8x volatility), down trends wilder (1.2x); up and down trends balance
   out, so there is no built-in bull market. Volatility is scaled by regime
   before the shocks are drawn, so clusters and regimes compound.
4. candles (`_candles`): open = previous close; high and low are drawn from
   the exact distribution of a Brownian bridge's maximum and minimum between
   open and close, so high >= max(open, close) and low <= min(open, close)
   always hold; prices are rounded to a tick (rounding is monotone, so the
   order survives); volume grows with volatility and with the bar's move.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from compiler.timeframes import MINUTE_MS, timeframe_ms
from engine.data.candles import Candles
from engine.data.names import check_symbol
from engine.data.timeparse import parse_date

__all__ = ["DEFAULT_START", "MAX_ROWS", "SYNTH_EXCHANGE", "SynthSpec", "max_days", "synth_candles"]

SYNTH_EXCHANGE = "synthetic"
DEFAULT_START = "2024-01-01"
_MINUTES_PER_YEAR = 525_600
# base asset -> (first price, annual volatility, base volume per minute)
_PROFILES = {"BTC": (42_000.0, 0.55, 12.0), "ETH": (2_300.0, 0.70, 180.0),
             "SOL": (100.0, 0.95, 4_000.0), "BNB": (310.0, 0.60, 600.0)}
_DEFAULT_PROFILE = (100.0, 0.80, 5_000.0)
VERSION = "2"   # bump when the generator changes, so cached samples are regenerated
_RANGE_HALF_LIFE = 8 * 60   # minutes for a move inside a range to be half undone
# Generation holds about 30 float64 arrays of the series' length at once (~250 bytes a
# candle): five years of 1m candles peak near 700 MB. Longer series are refused, not swapped.
MAX_ROWS = 5 * _MINUTES_PER_YEAR


def max_days(timeframe: str) -> float:
    """The most days of `timeframe` candles one call generates (MAX_ROWS candles)."""
    return MAX_ROWS * timeframe_ms(timeframe) / 86_400_000


@dataclass(frozen=True)
class SynthSpec:
    """Everything that determines a synthetic series; `key` names it in the store's footer."""

    symbol: str = "BTC/USDT"
    timeframe: str = "1m"
    days: float = 365
    seed: int = 1
    start: str = DEFAULT_START

    @property
    def key(self) -> str:
        return f"v{VERSION};{self.symbol};{self.timeframe};{self.days};{self.seed};{self.start}"


def _rng(spec: SynthSpec) -> np.random.Generator:
    digest = hashlib.sha256(f"{spec.symbol}|{spec.timeframe}".encode()).digest()
    return np.random.default_rng([spec.seed, int.from_bytes(digest[:8], "little")])


def _ar1(eps: np.ndarray, phi: float) -> np.ndarray:
    """x[t] = phi * x[t-1] + eps[t], x[-1] = 0, without a Python loop over t.

    Inside blocks short enough that phi**-B stays finite, x is a scaled cumulative
    sum; the values carried from block to block are themselves an AR(1) with
    coefficient phi**B, solved by the same function.
    """
    n = len(eps)
    if n == 0 or phi <= 1e-3:
        return eps.astype(np.float64, copy=True)
    block = int(min(n, max(2, 200.0 / -np.log(phi))))
    rows = -(-n // block)
    flat = np.zeros(rows * block)
    flat[:n] = eps
    powers = phi ** np.arange(block)
    y = np.cumsum(flat.reshape(rows, block) / powers, axis=1) * powers        # each block started from 0
    if rows > 1:
        carry = _ar1(y[:, -1], phi**block)            # true value at each block's end
        y[1:] += carry[:-1, None] * (phi * powers)[None, :]
    return np.asarray(y.reshape(-1)[:n], dtype=np.float64)


def _phi(half_life_minutes: float, bar_minutes: float) -> float:
    return float(0.5 ** (bar_minutes / half_life_minutes))


def _volatility(rng: np.random.Generator, z: np.ndarray, time: np.ndarray, bar_min: float,
                annual_vol: float) -> np.ndarray:
    """Per-bar volatility of log returns: clustered, seasonal, reacting to past shocks."""
    n = len(z)
    logv = np.zeros(n)
    for half_life, std in ((20 * 1440, 0.30), (1440, 0.25), (30, 0.25)):   # minutes, stationary std
        phi = _phi(half_life, bar_min)
        logv += _ar1(rng.standard_normal(n) * std * np.sqrt(1 - phi**2), phi)
    # EGARCH-like feedback: |shock| above its mean raises the following bars' volatility
    phi = _phi(120, bar_min)
    feedback = _ar1((np.abs(z) - np.abs(z).mean()) * 0.12 * np.sqrt(1 - phi**2), phi)
    logv[1:] += feedback[:-1]
    minute_of_day = (time // MINUTE_MS) % 1440
    day = (time // 86_400_000 + 4) % 7                  # 0 = Monday (1970-01-01 was a Thursday)
    logv += 0.25 * np.cos(2 * np.pi * (minute_of_day - 15 * 60) / 1440)
    logv -= np.where(day >= 5, 0.25, 0.0)
    logv -= np.log(np.mean(np.exp(2 * logv))) / 2       # mean variance = the base variance
    return np.asarray(annual_vol * np.sqrt(bar_min / _MINUTES_PER_YEAR) * np.exp(logv))


# Regimes: (probability, mean days, least days, volatility multiplier). Trends last weeks
# and move the price by 5-20 % (median 10 %); ranges last days to weeks at calmer volatility;
# up and down trends balance out over a year (no built-in bull market).
_UP, _DOWN, _RANGE = 0, 1, 2
_REGIMES = {_UP: (0.28, 12.0, 4.0, 1.0), _DOWN: (0.27, 10.0, 3.0, 1.2), _RANGE: (0.45, 9.0, 2.0, 0.8)}
_TREND_MOVE = (np.log(0.10), 0.35)       # lognormal total log move of a trend (log mean, log std)


def _regimes(rng: np.random.Generator, n: int,
             bar_min: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(drift per bar, is-range mask, volatility multiplier) of alternating regimes."""
    kinds = tuple(_REGIMES)
    days_per_bar = bar_min / 1440
    count = int(n * days_per_bar / 2.0) + 8                 # more regimes than can fit
    kind = rng.choice(len(kinds), size=count, p=[_REGIMES[k][0] for k in kinds])
    mean_days = np.array([_REGIMES[k][1] for k in kinds])[kind]
    least_days = np.array([_REGIMES[k][2] for k in kinds])[kind]
    days = np.maximum(least_days, rng.exponential(mean_days))
    lengths = np.maximum(1, days / days_per_bar).astype(np.int64)
    count = min(count, int(np.searchsorted(np.cumsum(lengths), n)) + 1)
    kind, lengths = kind[:count], lengths[:count]
    move = rng.lognormal(*_TREND_MOVE, size=count) * np.where(kind == _UP, 1.0, -1.0)
    drift = np.where(kind == _RANGE, 0.0, move / lengths)    # log move spread over the regime
    vol = np.array([_REGIMES[k][3] for k in kinds])[kind]
    regime = np.repeat(np.arange(count), lengths)[:n]
    return drift[regime], (kind == _RANGE)[regime], vol[regime]


def _candles(rng: np.random.Generator, spec: SynthSpec, time: np.ndarray, returns: np.ndarray,
             sigma: np.ndarray, z: np.ndarray, bar_min: float) -> Candles:
    first, _, base_volume = _PROFILES.get(spec.symbol.split("/")[0], _DEFAULT_PROFILE)
    decimals = max(0, 6 - int(np.floor(np.log10(first))))   # ~7 significant digits
    scale = 10.0**decimals
    n = len(returns)
    log_close = np.log(first) + np.cumsum(returns)
    log_open = np.concatenate(([np.log(first)], log_close[:-1]))
    # Brownian bridge from 0 to r with volatility s: max = (r + sqrt(r^2 - 2 s^2 ln U)) / 2
    r = returns
    up = (r + np.sqrt(r * r - 2 * sigma**2 * np.log(rng.random(n)))) / 2
    down = (r - np.sqrt(r * r - 2 * sigma**2 * np.log(rng.random(n)))) / 2

    def rnd(x: np.ndarray) -> np.ndarray:          # monotone, so OHLC order survives
        return np.asarray(np.round(x * scale) / scale)

    close = rnd(np.exp(log_close))
    open_ = np.concatenate((rnd(np.array([first])), close[:-1]))
    high = np.maximum(rnd(np.exp(log_open + up)), np.maximum(open_, close))
    low = np.minimum(rnd(np.exp(log_open + down)), np.minimum(open_, close))
    rel_vol = sigma / np.median(sigma)
    volume = (base_volume * bar_min * rel_vol**1.2 * (0.6 + 0.5 * np.abs(z))
              * rng.lognormal(-0.5 * 0.4**2, 0.4, n))
    return Candles.from_arrays(spec.symbol, spec.timeframe, time, open_, high, low, close,
                               np.round(volume, 5))


def synth_candles(symbol: str = "BTC/USDT", timeframe: str = "1m", days: float = 365,
                  seed: int = 1, start: str | int = DEFAULT_START) -> Candles:
    """A deterministic synthetic market: `days` of `timeframe` candles from `start` (UTC)."""
    spec = SynthSpec(check_symbol(symbol), timeframe, days, seed,
                     start if isinstance(start, str) else str(start))
    step = timeframe_ms(timeframe)
    if days <= 0:
        raise ValueError(f"days must be positive, was {days}")
    t0 = parse_date(spec.start) if isinstance(start, str) else int(start)
    t0 -= t0 % step if step <= 86_400_000 else 0
    n = int(days * 86_400_000 // step)
    if n > MAX_ROWS:
        raise ValueError(f"{days:g} days of {timeframe} candles are {n:,} candles; at most "
                         f"{MAX_ROWS:,} ({max_days(timeframe):g} days of {timeframe}) are generated at once")
    bar_min = step / MINUTE_MS
    rng = _rng(spec)
    time = t0 + np.arange(n, dtype=np.int64) * step
    df = 4.0 + 4.0 * min(1.0, np.log(bar_min) / np.log(1440)) if bar_min > 1 else 4.0
    z = rng.standard_t(df, n) / np.sqrt(df / (df - 2))  # unit variance; fat tails, less so per day
    annual_vol = _PROFILES.get(spec.symbol.split("/")[0], _DEFAULT_PROFILE)[1]
    drift, in_range, vol_mult = _regimes(rng, n, bar_min)
    sigma = _volatility(rng, z, time, bar_min, annual_vol) * vol_mult
    shocks = sigma * z
    ou = _ar1(shocks, _phi(_RANGE_HALF_LIFE, bar_min))   # mean-reverting path for ranges
    d_ou = np.diff(ou, prepend=0.0)
    returns = np.where(in_range, d_ou, shocks + drift) - 0.5 * sigma**2
    return _candles(rng, spec, time, returns, sigma, z, bar_min)
