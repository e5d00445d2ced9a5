"""'Did you mean …?' hints, shared by every check that rejects a name."""
from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(word: str, candidates: Iterable[str], n: int = 1) -> list[str]:
    """The `n` candidates most like `word` (case-insensitive), best first."""
    pool = {c.lower(): c for c in candidates}
    return [pool[m] for m in difflib.get_close_matches(word.lower(), list(pool), n=n, cutoff=0.6)]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    found = closest(word, candidates)
    return f"did you mean '{found[0]}'?" if found else None
