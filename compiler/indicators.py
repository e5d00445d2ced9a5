"""The indicator registry, built from TA-Lib's abstract API at import.

Every TA-Lib function (names, inputs, parameters and defaults, outputs,
look-back, unstable-period flag) comes from the library itself, so the
language knows exactly what the installed TA-Lib can compute. Our own
indicators register through `register_custom` with the same record.
Parameter ranges are TA-Lib's own: a value is valid when TA-Lib's look-back
function accepts it (it returns -1 otherwise).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import talib
from talib import abstract

__all__ = [
    "COLUMNS",
    "DERIVED_PRICES",
    "REGISTRY",
    "IndicatorSpec",
    "ParamSpec",
    "get",
    "names",
    "register_custom",
]

COLUMNS = ("open", "high", "low", "close", "volume")
DERIVED_PRICES = {"hl2": ("high", "low"), "hlc3": ("high", "low", "close"),
                  "ohlc4": ("open", "high", "low", "close")}
_MA_TYPES = 9  # TA-Lib MA_Type 0..8 (SMA EMA WMA DEMA TEMA TRIMA KAMA MAMA T3)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: float | int
    integer: bool


@dataclass(frozen=True)
class IndicatorSpec:
    """What the language needs to know of one indicator."""

    name: str                       # lower-case name used in the language
    inputs: tuple[str, ...]         # default input series (OHLCV column names)
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]        # canonical output names
    aliases: Mapping[str, str]      # friendly output name -> canonical
    unstable: bool                  # recursive: needs extra bars to converge
    group: str = ""
    description: str = ""
    explicit_inputs: bool = False   # an input is not an OHLCV column (e.g. MAVP periods)
    compute: Callable[..., Any] | None = None
    lookback_fn: Callable[[dict[str, Any]], int] | None = None

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def output(self, selector: str | None) -> str | None:
        """Canonical output for a selector (TA-Lib name or friendly alias), None if unknown."""
        if selector is None:
            return self.outputs[0] if len(self.outputs) == 1 else None
        selector = selector.lower()
        if selector in self.outputs:
            return selector
        return self.aliases.get(selector)

    def output_choices(self) -> list[str]:
        friendly = [a for a in self.aliases if a not in self.outputs]
        return list(self.outputs) + friendly

    def lookback(self, params: Mapping[str, Any]) -> int:
        """Bars consumed before the first valid value; -1 when a parameter is out of range."""
        values = tuple(sorted((k, float(v)) for k, v in params.items()))
        return _lookback(self.name, values)

    def value_error(self, param: ParamSpec, value: float) -> str | None:
        """Why `value` is not valid for `param`, or None."""
        if param.integer and float(value) != int(value):
            return f"{param.name} must be a whole number, was {value}"
        if "matype" in param.name and not 0 <= value < _MA_TYPES:
            return f"{param.name} must be a TA-Lib MA type from 0 to {_MA_TYPES - 1}, was {value:g}"
        if self.lookback({**self.defaults(), param.name: value}) < 0:
            low, high = _valid_range(self.name, param.name)
            span = f" between {low} and {high}" if low is not None else ""
            return f"{param.name} must be{span or ' within TA-Lib range'}, was {value:g}"
        return None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _friendly(func: str, output: str) -> str:
    """`upperband` -> `upper`, `macdsignal` -> `signal`, `aroonup` -> `up`."""
    name = output
    if name.startswith(func) and len(name) > len(func):
        name = name[len(func):]
    if name.endswith("band") and len(name) > 4:
        name = name[:-4]
    return name


def _from_talib(func_name: str) -> IndicatorSpec:
    info = abstract.Function(func_name).info
    inputs: list[str] = []
    explicit = False
    for value in info["input_names"].values():
        for series in value if isinstance(value, list) else [value]:
            inputs.append(series)
            explicit |= series not in COLUMNS
    params = tuple(
        ParamSpec(name, default, isinstance(default, int) and not isinstance(default, bool))
        for name, default in info["parameters"].items()
    )
    lname = func_name.lower()
    outputs = tuple(o.lower() for o in info["output_names"])
    aliases = {_friendly(lname, o): o for o in outputs if _friendly(lname, o) != o}
    return IndicatorSpec(
        name=lname, inputs=tuple(inputs), params=params, outputs=outputs, aliases=aliases,
        unstable="Function has an unstable period" in info["function_flags"],
        group=info["group"], description=info["display_name"], explicit_inputs=explicit,
    )


REGISTRY: dict[str, IndicatorSpec] = {name.lower(): _from_talib(name) for name in talib.get_functions()}


def register_custom(spec: IndicatorSpec) -> None:
    """Add an indicator TA-Lib lacks; it must bring `compute` and `lookback_fn`."""
    if spec.compute is None or spec.lookback_fn is None:
        raise ValueError(f"custom indicator {spec.name} needs compute and lookback_fn")
    if spec.name in REGISTRY:
        raise ValueError(f"indicator {spec.name} already exists")
    REGISTRY[spec.name] = spec


def get(name: str) -> IndicatorSpec | None:
    return REGISTRY.get(name.lower())


def names() -> list[str]:
    return sorted(REGISTRY)


@lru_cache(maxsize=4096)
def _lookback(name: str, params: tuple[tuple[str, float], ...]) -> int:
    spec = REGISTRY[name]
    if spec.lookback_fn is not None:
        return spec.lookback_fn(dict(params))
    func = abstract.Function(name.upper())
    typed = {}
    for key, value in params:
        p = spec.param(key)
        typed[key] = int(value) if p is not None and p.integer else float(value)
    try:
        func.set_parameters(**typed)
        return int(func.lookback)
    except Exception:
        return -1


@lru_cache(maxsize=1024)
def _valid_range(name: str, param: str) -> tuple[int | None, int | None]:
    """TA-Lib's integer range for a parameter, found by asking its look-back function."""
    spec = REGISTRY[name]
    p = spec.param(param)
    if p is None or not p.integer:
        return None, None
    base = spec.defaults()
    ok = lambda v: spec.lookback({**base, param: v}) >= 0  # noqa: E731
    low = next((v for v in range(-1, 10) if ok(v)), None)
    high = next((v for v in (100000, 2**31 - 1) if ok(v) and not ok(v + 1)), None)
    return low, high


# --- our own indicators ---------------------------------------------------------------------

def _rolling_sum(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    if n <= len(values):
        csum = np.cumsum(np.concatenate(([0.0], values)))
        out[n - 1:] = csum[n:] - csum[:-n]
    return out


def _vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
          timeperiod: int = 14) -> np.ndarray:
    """Rolling volume-weighted average of the typical price over `timeperiod` bars."""
    n = int(timeperiod)
    typical = (high + low + close) / 3.0
    pv = _rolling_sum(typical * volume, n)
    vol = _rolling_sum(volume.astype(float), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(vol > 0, pv / vol, typical)


def _zscore(real: np.ndarray, timeperiod: int = 20) -> np.ndarray:
    """(x - SMA(x, n)) / STDDEV(x, n): how unusual the current value is."""
    n = int(timeperiod)
    mean = talib.SMA(real, n)
    std = talib.STDDEV(real, n, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(std > 0, (real - mean) / std, 0.0) * np.where(np.isnan(mean), np.nan, 1.0)


def _period_lookback(params: dict[str, Any]) -> int:
    n = int(params.get("timeperiod", 14))
    return n - 1 if 2 <= n <= 100000 else -1


register_custom(IndicatorSpec(
    name="rvwap", inputs=("high", "low", "close", "volume"),
    params=(ParamSpec("timeperiod", 14, True),), outputs=("real",), aliases={},
    unstable=False, group="SuperBot", description="Rolling volume-weighted average price",
    compute=_vwap, lookback_fn=_period_lookback,
))
register_custom(IndicatorSpec(
    name="zscore", inputs=("close",), params=(ParamSpec("timeperiod", 20, True),),
    outputs=("real",), aliases={}, unstable=False, group="SuperBot",
    description="Rolling z-score", compute=_zscore, lookback_fn=_period_lookback,
))
