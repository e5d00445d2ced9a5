"""The trade kernel: what happens to a position and the account on each bar.

One compiled step function (`_step.step_bar`), driven two ways:
`simulate` loops over a whole history in compiled code (backtest, optimize);
`Stepper` feeds it closed bars one by one (paper, demo, live, replay).
The fill model and its options are documented in docs/backtest.md.
"""
from engine.kernel.config import (
    EndOfDataPrice,
    KernelConfig,
    KernelConfigError,
    Sizing,
    SizingMode,
    StopGapFill,
)
from engine.kernel.signals import SIGNAL_NAMES, Signals
from engine.kernel.simulate import simulate
from engine.kernel.stepper import Stepper
from engine.kernel.trades import EXIT_REASONS, SimResult, Trades

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
