"""The trade kernel: what happens to a position and the account on each bar.

One compiled step function (`_step.step_bars`), driven two ways:
`simulate` loops over a whole history in compiled code (backtest, optimize);
`Stepper` feeds it closed bars one by one (paper, demo, live, replay).
The fill model and its options are documented in docs/backtest.md.

`jit_cache.configure()` runs first, before any module here imports numba (numba
reads NUMBA_CACHE_DIR on import). `simulate` and `Stepper` load on first use, so
importing the configuration or the result types (`superbot validate`, the CLI
group, the results store) never imports numba.
"""
import importlib as _importlib
import typing as _typing

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
from engine.kernel.trades import EXIT_REASONS, SimResult, Trades  # noqa: E402

if _typing.TYPE_CHECKING:
    from engine.kernel.simulate import simulate
    from engine.kernel.stepper import Stepper

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


_LAZY = {"simulate": "engine.kernel.simulate", "Stepper": "engine.kernel.stepper"}


def __getattr__(name: str) -> _typing.Any:
    """`simulate` and `Stepper` import numba: load them when first asked for.

    Importing the submodule `simulate` binds the module to this package's name
    `simulate`; the function is bound over it, as an eager import would.
    """
    if name not in _LAZY:
        raise AttributeError(f"module 'engine.kernel' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
