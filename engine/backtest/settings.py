"""What a backtest run is given besides the strategy: data, range, account, costs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from compiler.risk import RiskPolicy
from dsl.errors import UserError
from engine.data.gaps import GAP_POLICIES
from engine.kernel.config import DEFAULT_BALANCE, DEFAULT_EXIT_TIMEOUT_MINUTES, DEFAULT_FEE

__all__ = ["BacktestSettings", "SettingsError"]


class SettingsError(UserError, ValueError):
    """A setting is out of range; the message names the option to fix."""


@dataclass(frozen=True, kw_only=True)
class BacktestSettings:
    data: str | None = None                  # store dir or candle file; None = sample market
    symbols: tuple[str, ...] = ()            # empty = what the data holds (sample: BTC/USDT)
    start: str | None = None                 # ISO-8601 UTC, inclusive
    end: str | None = None                   # ISO-8601 UTC, exclusive
    fee: float = DEFAULT_FEE                 # per side
    slippage_bps: float = 0.0
    balance: float = DEFAULT_BALANCE
    gaps: str = "fill"
    price_tick: float | None = None          # None: inferred per symbol from the candles; 0: no rounding
    extra: dict[str, Any] = field(default_factory=dict)
    risk: RiskPolicy = field(default_factory=RiskPolicy)   # a deployment's risk block (docs/risk.md)
    # fill-model choices (docs/backtest.md "Options"); the defaults are freqtrade's rules
    exit_timeout_minutes: float | None = DEFAULT_EXIT_TIMEOUT_MINUTES   # None: an exit order waits until filled
    reserve_fees: bool = False               # an entry needs its stake AND its fee free
    roi_on_red_entry_candle: bool = False    # take ROI on a red entry candle (freqtrade does not)
    # what a message calls `start`/`end`: the options, or a deployment's fields when the dates came from YAML
    date_names: tuple[str, str] = ("--from", "--to")

    def __post_init__(self) -> None:
        if not 0 <= self.fee < 0.1:
            raise SettingsError(f"--fee {self.fee} is a fraction per side; use e.g. 0.001 for 0.1%")
        if self.slippage_bps < 0:
            raise SettingsError(f"--slippage {self.slippage_bps} must be >= 0 basis points")
        if self.balance <= 0:
            raise SettingsError(f"--balance {self.balance} must be positive")
        if self.exit_timeout_minutes is not None and not self.exit_timeout_minutes >= 0:
            raise SettingsError(f"--exit-timeout {self.exit_timeout_minutes:g} must be minutes >= 0, or none")
        if self.gaps not in GAP_POLICIES:
            raise SettingsError(f"gap policy '{self.gaps}' is not one of {', '.join(GAP_POLICIES)}")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["symbols"] = list(self.symbols)
        del data["date_names"]   # how messages name the dates, not a setting of the run
        if self.risk == RiskPolicy():
            del data["risk"]
        else:
            data["risk"] = self.risk.to_dict()
        return data
