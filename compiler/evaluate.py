"""Evaluators: signals of a compiled strategy, over a whole history or for the newest bar.

Steps of the history form (`Evaluator.signals`):
1. the execution candles and each higher timeframe resampled from them
   (`_frame`, `compiler.resample`);
2. every DAG node in topological order, on its own timeframe's candles
   (`_series`): TA-Lib once per (function, inputs, params) for all outputs,
   arithmetic and lags as numpy expressions;
3. inputs on another timeframe aligned by close time (`_on`);
4. each condition tree as one fused boolean mask (`_predicate`).
Everything is vectorized along time; no Python loop over bars.

Results are cached by the node's structural key, so evaluating the same
strategy with other `$param` values (optimization) recomputes only the nodes
whose inputs or parameters changed: a threshold change re-runs the
comparison, not the RSI. `CacheStats` counts hits and misses.

The window form (`WindowEvaluator`) keeps the last `plan.window` bars and
evaluates the same code on them; the plan chooses the window so that
recursive indicators converge, and a test checks both forms agree.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import talib

from compiler import indicators as reg
from compiler.candles import Candles
from compiler.compile import SIGNALS, Compiled
from compiler.resample import Resampled, align, close_times
from compiler.terms import (
    Arith,
    Column,
    Comparison,
    Const,
    Crossing,
    Indicator,
    Lag,
    Logic,
    Negate,
    Predicate,
    Range,
    Term,
)

__all__ = ["CacheStats", "Evaluator", "WindowEvaluator"]

_DEFAULT_CACHE_BYTES = 1 << 30


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


def _lag(values: np.ndarray, bars: int) -> np.ndarray:
    out = np.empty(len(values))
    head = min(bars, len(values))
    out[:head] = np.nan
    out[head:] = values[: len(values) - head]
    return out


def _previous(values: Any) -> Any:
    """The value one bar earlier; a scalar is its own previous value."""
    return values if np.isscalar(values) else _lag(values, 1)


def _arith(op: str, a: Any, b: Any) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if op == "+":
            return a + b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == "-":
            return a - b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == "*":
            return a * b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        out = a / b
        return np.where(np.isfinite(out), out, np.nan)  # x/0 is undefined, not inf


def _compare(op: str, a: Any, b: Any) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "<":
            return a < b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == "<=":
            return a <= b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == ">":
            return a > b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == ">=":
            return a >= b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        if op == "==":
            return a == b  # type: ignore[no-any-return]  # operands are Any: a scalar or an array
        return (a != b) & ~np.isnan(a) & ~np.isnan(b)  # type: ignore[no-any-return]  # operands are Any: a scalar or an array


def _call_indicator(func: str, inputs: list[np.ndarray], params: dict[str, float]) -> tuple[np.ndarray, ...]:
    spec = reg.REGISTRY[func]
    typed = {p.name: (int(params[p.name]) if p.integer else float(params[p.name])) for p in spec.params}
    if spec.compute is not None:
        result = spec.compute(*inputs, **typed)
    else:
        result = getattr(talib, func.upper())(*inputs, **typed)
    if not isinstance(result, tuple):
        result = (result,)
    return tuple(np.asarray(r, dtype=np.float64) for r in result)


class Evaluator:
    """History-form evaluator bound to one symbol's execution candles (gap-filled)."""

    def __init__(self, candles: Candles, cache_bytes: int = _DEFAULT_CACHE_BYTES):
        self.candles = candles
        self.stats = CacheStats()
        self._frames: dict[str, Candles | Resampled] = {candles.timeframe: candles}
        self._close: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_bytes = 0
        self._cache_limit = cache_bytes

    # -- cache -------------------------------------------------------------------------
    def _get(self, key: Hashable) -> Any:
        value = self._cache.get(key)
        if value is not None:
            self._cache.move_to_end(key)
            self.stats.hits += 1
        return value

    def _put(self, key: Hashable, value: Any) -> Any:
        self.stats.misses += 1
        size = sum(a.nbytes for a in value) if isinstance(value, tuple) else value.nbytes
        self._cache[key] = value
        self._cache_bytes += size
        while self._cache_bytes > self._cache_limit and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= sum(a.nbytes for a in old) if isinstance(old, tuple) else old.nbytes
        return value

    # -- data --------------------------------------------------------------------------
    def _frame(self, tf: str) -> Candles | Resampled:
        frame = self._frames.get(tf)
        if frame is None:
            frame = self._frames[tf] = Resampled(self.candles, tf)
        return frame

    def _closes(self, tf: str) -> np.ndarray:
        closes = self._close.get(tf)
        if closes is None:
            closes = self._close[tf] = close_times(self._frame(tf))
        return closes

    # -- series ------------------------------------------------------------------------
    def _on(self, term: Term, tf: str) -> Any:
        """`term`'s values on `tf` candles: scalars stay scalars, other timeframes are aligned."""
        if isinstance(term, Const):
            return term.value
        values = self._series(term)
        if term.timeframe == tf:
            return values
        key = ("align", term, tf)
        cached = self._get(key)
        if cached is not None:
            return cached
        return self._put(key, align(values, self._closes(term.timeframe), self._closes(tf)))

    def _series(self, term: Term) -> np.ndarray:
        cached = self._get(term)
        if cached is not None:
            return cached  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any
        tf = term.timeframe  # type: ignore[union-attr]  # callers pass no Const: _on handles them
        if isinstance(term, Column):
            values = self._frame(tf).column(term.name)
        elif isinstance(term, Indicator):
            key = ("call", term.func, term.inputs, term.params, tf)
            outputs = self._get(key)
            if outputs is None:
                inputs = [np.ascontiguousarray(self._on(i, tf), dtype=np.float64) if not isinstance(i, Const)
                          else np.full(len(self._frame(tf)), i.value) for i in term.inputs]
                outputs = self._put(key, _call_indicator(term.func, inputs, dict(term.params)))
            values = outputs[reg.REGISTRY[term.func].outputs.index(term.output)]
        elif isinstance(term, Arith):
            values = _arith(term.op, self._on(term.left, tf), self._on(term.right, tf))
            if np.isscalar(values):
                values = np.full(len(self._frame(tf)), values)
        elif isinstance(term, Negate):
            values = -self._on(term.operand, tf)
        elif isinstance(term, Lag):
            values = _lag(self._on(term.operand, tf), term.bars)
        else:  # pragma: no cover - Const is handled by _on
            raise TypeError(f"cannot evaluate {term!r}")
        return self._put(term, values)  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any

    # -- predicates --------------------------------------------------------------------
    def _predicate(self, pred: Predicate, tf: str) -> np.ndarray:
        cached = self._get(("pred", pred))
        if cached is not None:
            return cached  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any
        n = len(self._frame(tf))
        if isinstance(pred, Logic):
            parts = [self._predicate(p, tf) for p in pred.items]
            if pred.op == "not":
                mask = ~parts[0]
            elif pred.op == "all":
                mask = np.logical_and.reduce(parts)
            else:
                mask = np.logical_or.reduce(parts)
        elif isinstance(pred, Range):
            x, lo, hi = (self._on(t, tf) for t in (pred.operand, pred.low, pred.high))
            mask = _compare(">=", x, lo) & _compare("<=", x, hi)
        elif isinstance(pred, Crossing):
            a, b = self._on(pred.left, tf), self._on(pred.right, tf)
            a_prev, b_prev = _previous(a), _previous(b)
            if pred.direction == "above":
                mask = _compare(">", a, b) & _compare("<=", a_prev, b_prev)
            else:
                mask = _compare("<", a, b) & _compare(">=", a_prev, b_prev)
        else:
            assert isinstance(pred, Comparison)
            mask = _compare(pred.op, self._on(pred.left, tf), self._on(pred.right, tf))
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), (n,))
        return self._put(("pred", pred), mask)  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any

    def _defined(self, pred: Predicate, tf: str) -> np.ndarray:
        """Bars at which every term of `pred` has a value (a cross: now and one bar earlier).

        A comparison with an undefined side is False, so `not` of it would be True:
        without this mask `not: [sma_500, '>', close]` would fire during the warm-up.
        Cached per term, so a threshold change costs nothing here.
        """
        if isinstance(pred, Logic):
            mask = self._defined(pred.items[0], tf)
            for item in pred.items[1:]:
                mask = mask & self._defined(item, tf)
            return mask
        terms = (pred.operand, pred.low, pred.high) if isinstance(pred, Range) else (pred.left, pred.right)
        mask = np.ones(len(self._frame(tf)), dtype=bool)
        for term in terms:
            if not isinstance(term, Const):
                mask = mask & self._term_defined(term, tf, isinstance(pred, Crossing))
        return mask

    def _term_defined(self, term: Term, tf: str, with_previous: bool) -> np.ndarray:
        key = ("defined", term, tf, with_previous)
        cached = self._get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any
        ok = ~np.isnan(self._on(term, tf))
        if with_previous and len(ok):
            ok[1:] &= ok[:-1].copy()
            ok[0] = False
        return self._put(key, ok)  # type: ignore[no-any-return]  # the cache holds arrays and tuples of arrays, typed Any

    def signals(self, compiled: Compiled) -> dict[str, np.ndarray]:
        """Boolean arrays over the execution candles for every signal of the strategy.

        A signal at bar t is known at the CLOSE of bar t; it is False wherever a term it
        uses has no value yet (warm-up) or at all (x / 0); missing sides are all False.
        """
        tf = compiled.graph.timeframe
        if tf != self.candles.timeframe:
            raise ValueError(f"strategy runs on {tf} candles, data is {self.candles.timeframe}")
        n = len(self.candles)
        out = {}
        for name in SIGNALS:
            pred = compiled.graph.signals.get(name)
            out[name] = (self._predicate(pred, tf) & self._defined(pred, tf) if pred is not None
                         else np.zeros(n, dtype=bool))
        return out

    def series(self, term: Term) -> np.ndarray:
        """A node's values aligned to the execution candles (reports plot these)."""
        return np.broadcast_to(self._on(term, self.candles.timeframe), (len(self.candles),))


class WindowEvaluator:
    """Signals of the newest closed bar from a rolling buffer (paper, demo, live, replay).

    The buffer is a numpy array with room for twice the window, so appending is
    amortized O(1): when it is full the newest `window` rows move to the front.
    """

    def __init__(self, compiled: Compiled, symbol: str = ""):
        self.compiled = compiled
        self.symbol = symbol
        self.window = compiled.plan.window
        self._data = np.empty((6, 2 * (self.window or 1024)))
        self._start = self._end = 0

    def push(self, time: int, open: float, high: float, low: float, close: float,
             volume: float) -> dict[str, bool]:
        """Add the newest closed candle; return the signals at that candle's close."""
        if self._end == self._data.shape[1]:
            keep = self._end - self._start if self.window is None else min(self.window - 1, self._end - self._start)
            if self.window is None:
                grown = np.empty((6, 2 * self._data.shape[1]))
                grown[:, :keep] = self._data[:, self._start:self._end]
                self._data = grown
            else:
                self._data[:, :keep] = self._data[:, self._end - keep:self._end]
            self._start, self._end = 0, keep
        self._data[:, self._end] = (time, open, high, low, close, volume)
        self._end += 1
        if self.window is not None and self._end - self._start > self.window:
            self._start = self._end - self.window
        return self.evaluate(self._buffer())

    def _buffer(self) -> Candles:
        d = self._data[:, self._start:self._end]
        return Candles(self.symbol, self.compiled.graph.timeframe, d[0].astype(np.int64),
                       d[1], d[2], d[3], d[4], d[5])

    def evaluate(self, buffer: Candles) -> dict[str, bool]:
        signals = Evaluator(buffer).signals(self.compiled)
        return {name: bool(mask[-1]) for name, mask in signals.items()}
