"""'Did you mean …?' hints, shared by every check that rejects a name."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice

__all__ = ["closest", "did_you_mean"]


MAX_CANDIDATES = 256  # the indicator registry has ~210 names; only a hostile file declares more parameters


def closest(word: str, candidates: Iterable[str], n: int = 1) -> list[str]:
    """The `n` candidates most like `word` (case-insensitive), best first.

    At most the first MAX_CANDIDATES are compared: difflib costs a comparison per candidate,
    and a file with a thousand parameters and a thousand misspellings must stay fast.
    """
    return list(_closest(word, tuple(islice(candidates, MAX_CANDIDATES)), n))


@lru_cache(maxsize=4096)
def _closest(word: str, candidates: tuple[str, ...], n: int) -> tuple[str, ...]:
    # cached: a file may repeat one misspelling thousands of times, and difflib compares it with
    # every candidate (the ~200 indicator names) each time
    pool = {c.lower(): c for c in candidates}
    return tuple(pool[m] for m in difflib.get_close_matches(word.lower(), list(pool), n=n, cutoff=0.6))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    found = closest(word, candidates)
    return f"did you mean '{found[0]}'?" if found else None
