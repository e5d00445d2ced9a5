"""What a fired risk rule leaves in a simulation's result: when, which rule, why.

Kept apart from the compiled evaluation (`engine/kernel/risk.py`, numba) so
that results, reports and the store can read events without importing it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["RiskEvent"]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class RiskEvent:
    """Rule `rule` (`when`) became true at the close of bar `bar`; `action` takes effect from the next bar.

    time: that close, ms UTC (the open of the next bar). until: a timed pause's end, ms UTC.
    values: the portfolio terms the rule reads, at that close.
    """

    bar: int
    time: int
    rule: int
    when: str
    action: str
    pause_ms: int | None = None
    until: int | None = None
    values: dict[str, float] = field(default_factory=dict)

    @property
    def effect(self) -> str:
        """What the action does, in words (reports and the terminal)."""
        if self.action == "halt":
            return "closed every position and stopped entries for the rest of the run"
        if self.action == "close_all":
            return "closed every position"
        if self.action == "pause":
            return (f"paused entries until {_iso(self.until)}" if self.until is not None
                    else "paused entries while the condition held")
        return "alert only"

    def to_record(self) -> dict[str, Any]:
        return {"time": _iso(self.time), "bar": self.bar, "rule": self.when, "action": self.action,
                "until": None if self.until is None else _iso(self.until), "values": dict(self.values),
                "effect": self.effect}
