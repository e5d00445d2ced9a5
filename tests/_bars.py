"""Hand-written bars through the trade kernel, for tests whose prices are checked on paper."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.kernel import KernelConfig, SimResult, simulate

__all__ = ["MIN", "run_bars"]

MIN = 60_000  # bar k opens at k minutes


def run_bars(rows: Sequence[tuple[float, float, float, float]], *, el: Sequence[int] = (),
             xl: Sequence[int] = (), es: Sequence[int] = (), xs: Sequence[int] = (),
             **cfg: object) -> SimResult:
    """Simulate 1m bars `(o, h, l, c)` with entry/exit long/short signals on the listed bar indexes."""
    a = np.array(rows, dtype=float)
    n = len(a)

    def on(idx: Sequence[int]) -> np.ndarray:
        return np.isin(np.arange(n), list(idx))

    config = KernelConfig(timeframe="1m", **cfg)  # type: ignore[arg-type]  # the keywords are KernelConfig's
    sig = {"entry_long": on(el), "exit_long": on(xl), "entry_short": on(es), "exit_short": on(xs)}
    return simulate(np.arange(n, dtype=np.int64) * MIN, a[:, 0], a[:, 1], a[:, 2], a[:, 3], sig, config)
