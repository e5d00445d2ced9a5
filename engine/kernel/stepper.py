"""The event driver's handle on the kernel: one closed bar at a time.

paper, demo, live and replay get bars one by one; they call `Stepper.step`
with each bar and the signals of the previous close. It calls the very
compiled `step_bars` the vector driver runs (on a one-row slice), so a replay of a history
gives exactly the trades of `simulate` (tests/test_kernel_stepper.py).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.kernel._layout import (
    A_CASH,
    A_EQUITY,
    A_NEXT_BAR,
    A_OPEN,
    N_T,
    Q_ENTRY,
    Q_HAS_STOP,
    Q_SIDE,
    Q_STOP,
    new_state,
    pack_params,
    pack_roi,
    pack_ticks,
)
from engine.kernel.config import KernelConfig
from engine.kernel.jit_cache import announce_compile
from engine.kernel.risk_events import RiskEvent
from engine.kernel.simulate import trades_from_rows
from engine.kernel.trades import SimResult, Trades

__all__ = ["Stepper"]


class Stepper:
    """Kernel state for one account over `symbols`, advanced bar by bar."""

    def __init__(self, config: KernelConfig, symbols: Sequence[str], *,
                 price_ticks: Sequence[float] | None = None) -> None:
        self.config = config
        self.symbols = tuple(symbols)
        n = len(self.symbols)
        if n == 0:
            raise ValueError("a Stepper needs at least one symbol")
        announce_compile()
        self._params = pack_params(config)
        self._ticks = pack_ticks(config, n, price_ticks)
        self._roi_min, self._roi_ratio = pack_roi(config)
        self._pos, self._acct = new_state(config, n)
        self._rows = np.empty((max(64, 2 * n), N_T), dtype=np.float64)
        self._n_tr = 0
        self._times: list[int] = []
        self._equity: list[float] = []
        self._finished = False
        self._eq = np.zeros(1, dtype=np.float64)
        # numba loads with the first Stepper, not with the package (see simulate)
        from engine.kernel.risk import new_events, new_risk_state, pack_risk
        self._risk_p = pack_risk(config.risk)
        self._risk_s = new_risk_state(config.risk, config.starting_balance)
        self._events = new_events(config.risk, 64)

    # --- state a driver or UI reads ---------------------------------------------------
    @property
    def bar_index(self) -> int:
        """Index the next bar will get."""
        return int(self._acct[A_NEXT_BAR])

    @property
    def cash(self) -> float:
        return float(self._acct[A_CASH])

    @property
    def equity(self) -> float:
        return float(self._acct[A_EQUITY])

    @property
    def open_positions(self) -> int:
        return int(self._acct[A_OPEN])

    @property
    def risk_events(self) -> tuple[RiskEvent, ...]:
        """The risk rules that fired so far, in order (docs/risk.md)."""
        from engine.kernel.risk import RS_NEV, events_from_rows
        return events_from_rows(self._events[:int(self._risk_s[RS_NEV])], self.config.risk)

    def position(self, symbol: str) -> dict[str, float] | None:
        """Side, entry price and current stop of the symbol's open position, or None."""
        row = self._pos[self.symbols.index(symbol)]
        if row[Q_SIDE] == 0:
            return None
        return {"side": float(row[Q_SIDE]), "entry_price": float(row[Q_ENTRY]),
                "stop": float(row[Q_STOP]) if row[Q_HAS_STOP] else float("nan")}

    # --- driving ----------------------------------------------------------------------
    def step(self, time_ms: int, open: Sequence[float], high: Sequence[float],
             low: Sequence[float], close: Sequence[float], *,
             entry_long: Sequence[bool] | None = None, exit_long: Sequence[bool] | None = None,
             entry_short: Sequence[bool] | None = None, exit_short: Sequence[bool] | None = None,
             last: bool = False) -> Trades:
        """Process one closed bar; returns the trades it closed.

        Prices are per symbol (NaN: no candle for that symbol). The signals are
        those computed on the PREVIOUS bar's close. `last=True` on the final bar
        of a replay forbids entries on it, as the vector driver does.
        """
        if self._finished:
            raise RuntimeError("this Stepper is finished; create a new one to continue")
        n = len(self.symbols)
        o, h, lo, c = (self._row(v) for v in (open, high, low, close))
        el, xl, es, xs = (self._flags(v) for v in (entry_long, exit_long, entry_short, exit_short))
        if self._times and int(time_ms) <= self._times[-1]:
            raise ValueError(f"bar time {time_ms} is not after the previous bar {self._times[-1]}")
        if self._n_tr + n > self._rows.shape[0]:
            self._grow()
        from engine.kernel._step import step_bars
        from engine.kernel.risk import grow_events
        self._events = grow_events(self._events, self._risk_s, len(self.config.risk.rules))
        before = self._n_tr
        _, self._n_tr = step_bars(0, self.bar_index, np.array([time_ms], dtype=np.int64),
                                  o, h, lo, c, el, xl, es, xs, 0, 0 if last else -1,
                                  self._params, self._ticks, self._roi_min, self._roi_ratio,
                                  self._pos, self._acct, self._rows, self._n_tr, self._eq,
                                  self._risk_p, self._risk_s, self._events, False, False)
        self._times.append(int(time_ms))
        self._equity.append(float(self._acct[A_EQUITY]))
        return trades_from_rows(self._rows[before:self._n_tr])

    def finish(self) -> Trades:
        """End of data: close open positions at their last candle (reason end_of_data)."""
        if self._n_tr + len(self.symbols) > self._rows.shape[0]:
            self._grow()
        before = self._n_tr
        from engine.kernel._step import step_bars
        n = len(self.symbols)
        prices, flags = np.empty((0, n), dtype=np.float64), np.zeros((0, n), dtype=np.bool_)
        _, self._n_tr = step_bars(0, self.bar_index, np.empty(0, dtype=np.int64),   # no bar, then the closes
                                  prices, prices, prices, prices, flags, flags, flags, flags, 0, -1,
                                  self._params, self._ticks, self._roi_min, self._roi_ratio,
                                  self._pos, self._acct, self._rows, self._n_tr, self._eq,
                                  self._risk_p, self._risk_s, self._events, False, True)
        if self._equity:
            self._equity[-1] = float(self._acct[A_EQUITY])
        self._finished = True
        return trades_from_rows(self._rows[before:self._n_tr])

    def result(self) -> SimResult:
        return SimResult(symbols=self.symbols, timeframe=self.config.timeframe,
                         time=np.array(self._times, dtype=np.int64),
                         trades=trades_from_rows(self._rows[:self._n_tr]),
                         equity=np.array(self._equity, dtype=np.float64),
                         starting_balance=self.config.starting_balance, risk_events=self.risk_events)

    # --- helpers ----------------------------------------------------------------------
    def _row(self, values: Sequence[float]) -> np.ndarray:
        a = np.ascontiguousarray(np.atleast_1d(np.asarray(values, dtype=np.float64)))
        if a.shape != (len(self.symbols),):
            raise ValueError(f"a bar needs one price per symbol ({len(self.symbols)}), was {a.shape}")
        return a.reshape(1, -1)

    def _flags(self, values: Sequence[bool] | None) -> np.ndarray:
        if values is None:
            return np.zeros((1, len(self.symbols)), dtype=np.bool_)
        a = np.atleast_1d(np.asarray(values))
        if a.shape != (len(self.symbols),):
            raise ValueError(f"signals need one flag per symbol ({len(self.symbols)}), was {a.shape}")
        return np.ascontiguousarray(a.astype(np.bool_)).reshape(1, -1)

    def _grow(self) -> None:
        bigger = np.empty((self._rows.shape[0] * 2, N_T), dtype=np.float64)
        bigger[:self._n_tr] = self._rows[:self._n_tr]
        self._rows = bigger
