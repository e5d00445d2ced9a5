"""Faults on demand: which request gets which failure, decided by a seeded draw.

`--faults` is a comma list of `NAME` or `NAME:RATE`, where RATE is a
probability (`0.2`) or `everyN` (every Nth eligible request, counted from 1),
default `every10`:

    429                   HTTP 429 {"code": -1003} with `Retry-After` (request not executed)
    418                   HTTP 418 {"code": -1003} ban with `Retry-After` (not executed)
    1021                  HTTP 400 {"code": -1021} on a signed request (not executed)
    5xx                   HTTP 500, 502 or 503 (drawn) (not executed)
    timeout_after_accept  a new order IS placed, the answer is held back (`hold` seconds)
    drop_response         the request is executed, then the connection is closed unanswered
    partial_fill          a resting LIMIT order fills in several pieces over candles
    disconnect            a WebSocket connection is closed after a message

Each fault draws from its own `random.Random(seed, name)` stream, so adding
one fault does not change when another one strikes; the same seed and the
same request sequence give the same faults.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from engine.sim.errors import SimConfigError

__all__ = ["FAULTS", "FaultPlan", "Rate", "parse_faults"]

FAULTS = ("429", "418", "1021", "5xx", "timeout_after_accept", "drop_response", "partial_fill",
          "disconnect")
DEFAULT_RATE = "every10"


@dataclass(frozen=True)
class Rate:
    """How often a fault strikes: `every` (every Nth) or `probability`."""

    every: int = 0
    probability: float = 0.0

    def __str__(self) -> str:
        return f"every{self.every}" if self.every else f"{self.probability:g}"


def _rate(name: str, text: str) -> Rate:
    hint = "write a probability (0.2) or every N (every5)"
    if text.startswith("every"):
        n = text[5:]
        if not n.isdigit() or int(n) < 1:
            raise SimConfigError(f"fault {name!r}: rate {text!r} is not every N with N >= 1",
                                 location="--faults", hint=hint)
        return Rate(every=int(n))
    try:
        p = float(text)
    except ValueError:
        raise SimConfigError(f"fault {name!r}: rate {text!r} is not a number", location="--faults",
                             hint=hint) from None
    if not 0 < p <= 1:
        raise SimConfigError(f"fault {name!r}: rate {text} is outside (0, 1]", location="--faults",
                             hint=hint)
    return Rate(probability=p)


def parse_faults(text: str) -> dict[str, Rate]:
    """`"429:0.1,5xx:every3"` -> {"429": Rate(probability=0.1), "5xx": Rate(every=3)}."""
    out: dict[str, Rate] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, rate = item.partition(":")
        if name not in FAULTS:
            from difflib import get_close_matches
            close = get_close_matches(name, FAULTS, n=1)
            raise SimConfigError(f"unknown fault {name!r}", location="--faults",
                                 hint=(f"did you mean {close[0]!r}? " if close else "")
                                 + "faults: " + ", ".join(FAULTS))
        if name in out:
            raise SimConfigError(f"fault {name!r} is given twice", location="--faults",
                                 hint="give each fault once")
        out[name] = _rate(name, rate or DEFAULT_RATE)
    return out


class FaultPlan:
    """Decides, request by request, whether a fault strikes (deterministic for a seed)."""

    def __init__(self, rates: dict[str, Rate], seed: int) -> None:
        self.rates = dict(rates)
        self._rng = {name: random.Random(f"{seed}:{name}") for name in rates}
        self._count = dict.fromkeys(rates, 0)
        self.struck: dict[str, int] = dict.fromkeys(rates, 0)

    def strikes(self, name: str) -> bool:
        """One eligible request (or order, or message) for fault `name`: does it strike?"""
        rate = self.rates.get(name)
        if rate is None:
            return False
        self._count[name] += 1
        hit = (self._count[name] % rate.every == 0 if rate.every
               else self._rng[name].random() < rate.probability)
        if hit:
            self.struck[name] += 1
        return hit

    def choice(self, name: str, options: tuple[int, ...]) -> int:
        """A seeded pick for a fault that has variants (the 5xx status)."""
        return self._rng[name].choice(options)
