"""The trade kernel: what happens to a position and the account on each bar.

One compiled step function (`_step.step_bars`), driven two ways:
`simulate` loops over a whole history in compiled code (backtest, optimize);
`Stepper` feeds it closed bars one by one (paper, demo, live, replay).
The fill model and its options are documented in docs/backtest.md.

`jit_cache.configure()` runs first, before any module here imports numba
(numba reads NUMBA_CACHE_DIR when it is imported).
"""
from engine.kernel import jit_cache

jit_cache.configure()

from engine.kernel.config import (  # noqa: E402  (after the cache directory is set)
    EndOfDataPrice,
    KernelConfig,
    KernelConfigError,
    Sizing,
    SizingMode,
    StopGapFill,
)
from engine.kernel.signals import SIGNAL_NAMES, Signals  # noqa: E402
from engine.kernel.simulate import simulate  # noqa: E402
from engine.kernel.stepper import Stepper  # noqa: E402
from engine.kernel.trades import EXIT_REASONS, SimResult, Trades  # noqa: E402

__all__ = [
    "EXIT_REASONS",
    "SIGNAL_NAMES",
    "EndOfDataPrice",
    "KernelConfig",
    "KernelConfigError",
    "Signals",
    "SimResult",
    "Sizing",
    "SizingMode",
    "Stepper",
    "StopGapFill",
    "Trades",
    "simulate",
]
