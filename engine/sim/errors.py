"""Errors of the exchange simulator: Binance's error answers, and bad simulator settings.

`ApiError` is not a SuperbotError: it is the *answer* the simulated exchange
sends (HTTP status, Binance code, message), raised inside a request handler and
turned into JSON by the server; the client on the other side sees it exactly as
it would see Binance's. `SimConfigError` is ours: a bad `--faults`, `--speed`
or `--data` value, exit 2 with the option's name and a hint.
"""
from __future__ import annotations

from dsl.errors import UsageError

__all__ = ["ApiError", "SimConfigError"]


class ApiError(Exception):
    """A Binance error answer: `{"code": code, "msg": msg}` with HTTP `status`."""

    def __init__(self, code: int, msg: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}


class SimConfigError(UsageError):
    """A simulator setting is wrong (exit 2): the option is in `location`, the fix in `hint`."""
