"""The snapshot of TA-Lib's abstract API that `compiler.indicators` reads without importing TA-Lib.

Why: `superbot validate` needs every indicator's inputs, parameters (defaults
and valid ranges), outputs and flags, but importing TA-Lib costs ~0.7 s (it
pulls in pandas and pyarrow). So the registry is read from
`_indicator_table.json`, and TA-Lib is imported only to compute.

Steps of `build_table`:
1. every function of `talib.get_functions()`, described by its abstract `info`;
2. each parameter's valid range found by asking TA-Lib's look-back function,
   which returns -1 (or raises) for an out-of-range value: a bisection between
   the default (valid) and the most extreme value of its type, on integers
   for whole-number parameters and on the ordered bit patterns of doubles for
   real ones, so the bounds are exact;
3. `None` as a bound when even the most extreme value is accepted.

Regenerate after upgrading TA-Lib with `python -m compiler._talib_table`;
`tests/test_indicator_table.py` compares the file with the live library.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

__all__ = ["TABLE_FILE", "build_table", "main"]

TABLE_FILE = Path(__file__).with_name("_indicator_table.json")

_INT_MIN, _INT_MAX = -(2**31) + 1, 2**31 - 1      # TA-Lib's optional integer inputs are C ints
_REAL_MAX = sys.float_info.max


def _order(x: float) -> int:
    """Doubles -> integers in the same order, so bisection ends on adjacent doubles."""
    bits: int = struct.unpack("<q", struct.pack("<d", abs(x)))[0]
    return bits if x >= 0 else -bits


def _unorder(k: int) -> float:
    value: float = struct.unpack("<d", struct.pack("<q", abs(k)))[0]
    return value if k >= 0 else -value


def _bound(valid: int, invalid: int, ok: Any) -> int:
    """The last valid integer going from `valid` towards `invalid` (ok(valid), not ok(invalid))."""
    while abs(invalid - valid) > 1:
        mid = (valid + invalid) // 2
        if ok(mid):
            valid = mid
        else:
            invalid = mid
    return valid


def _param_range(func: Any, name: str, default: float, integer: bool) -> tuple[float | None, float | None]:
    defaults = dict(func.parameters)

    def valid(value: float) -> bool:
        try:
            func.set_parameters(**{**defaults, name: value})
            return int(func.lookback) >= 0
        except Exception:  # TA-Lib refuses some values by raising instead of returning -1
            return False
        finally:
            func.set_parameters(**defaults)

    def ok(k: int) -> bool:
        return valid(k if integer else _unorder(k))

    if integer:
        lo_end, hi_end, start = _INT_MIN, _INT_MAX, int(default)
        to_value: Any = int
    else:
        lo_end, hi_end, start = _order(-_REAL_MAX), _order(_REAL_MAX), _order(float(default))
        to_value = _unorder
    if not ok(start):
        raise RuntimeError(f"TA-Lib rejects the default {name}={default} of {func.info['name']}")
    low = None if ok(lo_end) else to_value(_bound(start, lo_end, ok))
    high = None if ok(hi_end) else to_value(_bound(start, hi_end, ok))
    return low, high


def _describe(func_name: str) -> dict[str, Any]:
    from talib import abstract
    func = abstract.Function(func_name)  # type: ignore[attr-defined]  # talib's stubs omit the abstract API
    info = func.info
    inputs: list[str] = []
    for value in info["input_names"].values():
        inputs.extend(value if isinstance(value, list) else [value])
    params = []
    for name, default in info["parameters"].items():
        integer = isinstance(default, int) and not isinstance(default, bool)
        low, high = _param_range(func, name, default, integer)
        params.append({"name": name, "default": default, "integer": integer, "min": low, "max": high})
    return {
        "name": func_name.lower(),
        "inputs": inputs,
        "params": params,
        "outputs": [o.lower() for o in info["output_names"]],
        "unstable": "Function has an unstable period" in info["function_flags"],
        "group": info["group"],
        "description": info["display_name"],
    }


def build_table() -> dict[str, Any]:
    """The live TA-Lib's functions as the JSON-ready snapshot (imports TA-Lib)."""
    import talib
    return {"talib_version": talib.__version__,
            "functions": [_describe(name) for name in sorted(talib.get_functions())]}  # type: ignore[no-untyped-call]  # untyped in talib's stubs


def main() -> None:
    TABLE_FILE.write_text(json.dumps(build_table(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TABLE_FILE}")


if __name__ == "__main__":
    main()
