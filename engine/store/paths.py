"""Where SuperBot keeps the user's things: one data directory, one default database.

The root is `SUPERBOT_HOME` when set (tests and containers point it at a
scratch directory), else `$XDG_DATA_HOME/superbot`, else
`~/.local/share/superbot`. The results database defaults to SQLite in that
directory; `SUPERBOT_DATABASE_URL` (or an explicit URL) selects another
server, e.g. `postgresql+psycopg://user@host/db`.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.data.home import data_home

__all__ = ["DATABASE_FILE", "data_dir", "database_url"]

DATABASE_FILE = "superbot.db"


def data_dir() -> Path:
    """The user's SuperBot data directory (not created here); one rule, in engine.data.home."""
    return data_home()


def database_url(url: str | None = None) -> str:
    """`url` if given, else `SUPERBOT_DATABASE_URL`, else SQLite in `data_dir()`."""
    if url:
        return url
    env = os.environ.get("SUPERBOT_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{data_dir() / DATABASE_FILE}"
