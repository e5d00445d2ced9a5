"""The one error hierarchy: each class names what the operator must do next.

It lives in the lowest layer (`dsl`) so that `compiler` and `engine` can raise
its classes without importing upward; `engine/errors.py` maps it to exit codes
in one place.

    SuperbotError                 root: anything SuperBot raises on purpose
    ├── UserError                 fix your input (a file, a value): exit 1
    │   ├── ManifestError         (dsl.diagnostics) diagnostics of manifests
    │   └── UsageError            a bad command line or option value: exit 2
    ├── TemporaryError            retry later (`delay` seconds, if known)
    └── PermanentError            stop and report: retrying cannot help

A `UserError` may carry where the bad value came from (`location`, e.g.
`deployments/x.yaml:12:7` or `--fee`) and what to do instead (`hint`); the CLI
prints both, never a traceback.
"""
from __future__ import annotations

__all__ = ["PermanentError", "SuperbotError", "TemporaryError", "UsageError", "UserError"]


class SuperbotError(Exception):
    """Root of every error SuperBot raises on purpose."""


class UserError(SuperbotError):
    """The user must fix an input: a message, exit 1, never a traceback."""

    def __init__(self, message: str, *, location: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.location = location
        self.hint = hint


class UsageError(UserError):
    """Wrong command-line usage or option value: exit 2."""


class TemporaryError(SuperbotError):
    """Something outside us failed for now (network, rate limit): it may be retried."""

    def __init__(self, message: str, *, delay: float | None = None):
        super().__init__(message)
        self.delay = delay


class PermanentError(SuperbotError):
    """Something outside us refused for good (a rejected order, a bad key): stop and report."""
