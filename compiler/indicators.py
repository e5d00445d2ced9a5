"""The indicator registry: every TA-Lib function plus our own, built on first use.

Every TA-Lib function (names, inputs, parameters with defaults and valid
ranges, outputs, unstable-period flag) is read from `_indicator_table.json`,
a snapshot of TA-Lib's abstract API written by `compiler/_talib_table.py`
and compared with the live library by a test, so it cannot drift. Reading
the snapshot instead of TA-Lib keeps `superbot validate` free of TA-Lib
(and the pandas it imports); TA-Lib is imported only to compute values and
look-backs. Parameter ranges are TA-Lib's own: the values its look-back
function accepts. Our own indicators register through `register_custom`
with the same record.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

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
    low: float | None = None        # smallest valid value (None: no bound below)
    high: float | None = None       # largest valid value (None: no bound above)


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
        """Why `value` is not valid for `param`, or None (TA-Lib functions: from the snapshot, no TA-Lib)."""
        if param.integer and float(value) != int(value):
            return f"{param.name} must be a whole number, was {value}"
        if "matype" in param.name and not 0 <= value < _MA_TYPES:
            return f"{param.name} must be a TA-Lib MA type from 0 to {_MA_TYPES - 1}, was {value:g}"
        if self.lookback_fn is not None:  # our own: its look-back function says -1 when out of range
            if self.lookback_fn({**self.defaults(), param.name: value}) >= 0:
                return None
        elif (param.low is None or value >= param.low) and (param.high is None or value <= param.high):
            return None
        return f"{param.name} must be {_span(param)}, was {value:g}"

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _span(param: ParamSpec) -> str:
    if param.low is not None and param.high is not None:
        return f"between {param.low:g} and {param.high:g}"
    if param.low is not None:
        return f"at least {param.low:g}"
    if param.high is not None:
        return f"at most {param.high:g}"
    return "within TA-Lib's range"


def _friendly(func: str, output: str) -> str:
    """`upperband` -> `upper`, `macdsignal` -> `signal`, `aroonup` -> `up`."""
    name = output
    if name.startswith(func) and len(name) > len(func):
        name = name[len(func):]
    if name.endswith("band") and len(name) > 4:
        name = name[:-4]
    return name


def _from_table(row: Mapping[str, Any]) -> IndicatorSpec:
    """One snapshot row (see `compiler/_talib_table.py`) as the language's record."""
    lname = row["name"]
    outputs = tuple(row["outputs"])
    aliases = {_friendly(lname, o): o for o in outputs if _friendly(lname, o) != o}
    return IndicatorSpec(
        name=lname, inputs=tuple(row["inputs"]),
        params=tuple(ParamSpec(p["name"], p["default"], p["integer"], p["min"],
                               # TA-Lib accepts MA types we do not offer (see value_error)
                               min(p["max"], _MA_TYPES - 1) if "matype" in p["name"] else p["max"])
                     for p in row["params"]),
        outputs=outputs, aliases=aliases, unstable=row["unstable"], group=row["group"],
        description=row["description"], explicit_inputs=any(i not in COLUMNS for i in row["inputs"]),
    )


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    """The TA-Lib snapshot (`compiler/_talib_table.py` writes it)."""
    from importlib import resources
    table: dict[str, Any] = json.loads(
        resources.files("compiler").joinpath("_indicator_table.json").read_text("utf-8"))
    return table


@lru_cache(maxsize=1)
def _abstract() -> Any:
    """TA-Lib's abstract API, imported on first use; warns once if it is not the TA-Lib the snapshot describes.

    Another TA-Lib may lack functions the snapshot lists (validation would
    accept them, computing would fail) or have others.
    """
    import talib
    from talib import abstract
    described = _table()["talib_version"]
    if talib.__version__ != described:
        warnings.warn(f"compiler/_indicator_table.json describes TA-Lib {described} but {talib.__version__} is "
                      "installed: run `python -m compiler._talib_table`", RuntimeWarning, stacklevel=3)
    return abstract


class _Registry(MutableMapping[str, IndicatorSpec]):
    """name -> spec, filled from the snapshot (and our own indicators) the first time it is read."""

    def __init__(self) -> None:
        self._specs: dict[str, IndicatorSpec] | None = None

    def _loaded(self) -> dict[str, IndicatorSpec]:
        if self._specs is None:
            table = _table()
            specs = {row["name"]: _from_table(row) for row in table["functions"]}
            for spec in _CUSTOM:
                if spec.name in specs:
                    raise ValueError(f"indicator {spec.name} already exists in TA-Lib")
                specs[spec.name] = spec
            self._specs = specs
        return self._specs

    @property
    def loaded(self) -> bool:
        return self._specs is not None

    def __getitem__(self, name: str) -> IndicatorSpec:
        return self._loaded()[name]

    def __setitem__(self, name: str, spec: IndicatorSpec) -> None:
        self._loaded()[name] = spec

    def __delitem__(self, name: str) -> None:
        del self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


REGISTRY = _Registry()
_CUSTOM: list[IndicatorSpec] = []   # registered before the registry was first read


def register_custom(spec: IndicatorSpec) -> None:
    """Add an indicator TA-Lib lacks; it must bring `compute` and `lookback_fn`."""
    if spec.compute is None or spec.lookback_fn is None:
        raise ValueError(f"custom indicator {spec.name} needs compute and lookback_fn")
    if any(c.name == spec.name for c in _CUSTOM) or (REGISTRY.loaded and spec.name in REGISTRY):
        raise ValueError(f"indicator {spec.name} already exists")
    _CUSTOM.append(spec)
    if REGISTRY.loaded:
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
    func = _abstract().Function(name.upper())
    typed = {}
    for key, value in params:
        p = spec.param(key)
        typed[key] = int(value) if p is not None and p.integer else float(value)
    try:
        func.set_parameters(**typed)
        return int(func.lookback)
    except Exception:
        return -1


# --- our own indicators ---------------------------------------------------------------------

def _rolling_sum(values: np.ndarray, n: int) -> np.ndarray:
    import numpy as np
    out = np.full(values.shape, np.nan)
    if n <= len(values):
        csum = np.cumsum(np.concatenate(([0.0], values)))
        out[n - 1:] = csum[n:] - csum[:-n]
    return out


def _vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
          timeperiod: int = 14) -> np.ndarray:
    """Rolling volume-weighted average of the typical price over `timeperiod` bars."""
    import numpy as np
    n = int(timeperiod)
    typical = (high + low + close) / 3.0
    pv = _rolling_sum(typical * volume, n)
    vol = _rolling_sum(volume.astype(float), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap: np.ndarray = np.where(vol > 0, pv / vol, typical)
    return vwap


def _zscore(real: np.ndarray, timeperiod: int = 20) -> np.ndarray:
    """(x - SMA(x, n)) / STDDEV(x, n): how unusual the current value is."""
    import numpy as np
    import talib
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
    params=(ParamSpec("timeperiod", 14, True, 2, 100000),), outputs=("real",), aliases={},
    unstable=False, group="SuperBot", description="Rolling volume-weighted average price",
    compute=_vwap, lookback_fn=_period_lookback,
))
register_custom(IndicatorSpec(
    name="zscore", inputs=("close",), params=(ParamSpec("timeperiod", 20, True, 2, 100000),),
    outputs=("real",), aliases={}, unstable=False, group="SuperBot",
    description="Rolling z-score", compute=_zscore, lookback_fn=_period_lookback,
))
