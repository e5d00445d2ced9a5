"""The user's cache directory for SuperBot: files that are costly to rebuild and safe to delete.

Built artefacts (the Lark parser table, numba's machine code for the trade
kernel) never go inside the package: it may be read-only, or an editable
install that another user runs. One definition, here at the bottom layer, so
dsl, compiler and engine all put their caches in the same place.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["user_cache_dir"]


def user_cache_dir() -> Path:
    """`$SUPERBOT_HOME/cache` when SUPERBOT_HOME is set (tests, containers), else
    `$XDG_CACHE_HOME/superbot`, else `~/.cache/superbot`. Not created here."""
    home = os.environ.get("SUPERBOT_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "superbot"
