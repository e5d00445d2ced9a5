"""Where SuperBot keeps its files when the user names no place.

`SUPERBOT_HOME` wins; otherwise the XDG data directory
(`$XDG_DATA_HOME/superbot`, by default `~/.local/share/superbot`). Market
data lives in `<home>/market`, the generated sample market in
`<home>/sample-market` (its own store, so it never mixes with downloads).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_home", "default_store_root", "sample_store_root"]


def data_home() -> Path:
    explicit = os.environ.get("SUPERBOT_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "superbot"


def default_store_root() -> Path:
    return data_home() / "market"


def sample_store_root() -> Path:
    return data_home() / "sample-market"
