"""Test-suite settings that keep a run from writing into the checkout.

Hypothesis keeps an example database and a Unicode cache under ``.hypothesis/``
in the working directory. A test run must leave the repository as it found it
(CI compares ``git status`` before and after the suite), so the profile loaded
here has no database, and Hypothesis's home (where it caches the Unicode table
it would otherwise rebuild on every run) is the user's cache directory unless
``HYPOTHESIS_STORAGE_DIRECTORY`` names another. pytest's own cache is off
through ``-p no:cacheprovider`` in ``pyproject.toml``.
"""
from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

__all__: list[str] = []

settings.register_profile("superbot", database=None)
settings.load_profile("superbot")

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(_cache / "superbot" / "hypothesis")
