"""What goes wrong when a database cannot be reached, said the same way for every URL option.

The results store (`SUPERBOT_DATABASE_URL`) and the optimizer's shared
studies (`--storage`) both take SQLAlchemy URLs. When the server is down or
the URL is wrong, the driver's `OperationalError` names neither the URL nor
the fix; `unreachable` turns it into a `StoreUnavailableError` (exit 1) that
shows the URL with its password masked, where it came from, and what to check.
"""
from __future__ import annotations

from dsl.errors import UserError

__all__ = ["StoreUnavailableError", "mask_url", "unreachable"]


class StoreUnavailableError(UserError, RuntimeError):
    """The database cannot be opened: fix the URL or start the server."""


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***` (as SQLAlchemy renders it)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1] if "@" in url else url


def unreachable(url: str, error: BaseException, *, source: str) -> StoreUnavailableError:
    """The error to raise when the database at `url` (given by `source`) cannot be used."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    detail = reason[0] if reason else type(error).__name__
    return StoreUnavailableError(
        f"cannot reach the database {mask_url(url)} ({detail})", location=source,
        hint=f"check the URL given by {source} (user, password, host, port, database name) and "
             "that the server is running and accepts connections from this machine; a PostgreSQL "
             "URL reads postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE")
