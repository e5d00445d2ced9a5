"""Exit codes and error messages: the one place an exception becomes what the user sees.

Every error SuperBot raises on purpose sits in one tree rooted in
`dsl/errors.py` (the lowest layer, so `compiler` and `engine` raise its
classes without importing upward). Its name says what the operator does next;
this module maps each branch to an exit code (DESIGN §7: 0 ok, 1 invalid input
or failed check, 2 usage) and prints it as a message with its location and
hint, never a traceback.

    exception                                       exit  the user should
    SuperbotError                   dsl.errors
    ├── UserError                   dsl.errors       1    fix an input
    │   ├── ManifestError           dsl.diagnostics  1    fix the manifest (file:line:column diagnostics)
    │   ├── ParseError              dsl.parse        1    fix the condition text
    │   ├── EditError               dsl.edit         1    fix the values written into a file
    │   ├── SettingsError           engine.backtest.settings
    │   ├── KernelConfigError       engine.kernel.config
    │   ├── DataError               engine.data.errors (BadRowsError, NotCandlesError, NoDataError, DownloadError)
    │   ├── GapError                engine.data.gaps
    │   ├── RunLookupError          engine.store.runs (RunNotFoundError, AmbiguousRunIdError)
    │   ├── StoreUnavailableError   engine.store.runs   fix the database URL or start the server
    │   ├── SpaceError              engine.optimize.space
    │   ├── ObjectiveError          engine.optimize.objective
    │   └── UsageError              dsl.errors       2    fix the command line or an option's value
    ├── TemporaryError              dsl.errors       1    retry (after `delay` seconds, when known)
    └── PermanentError              dsl.errors       1    stop and report: retrying cannot help
    click.UsageError                click            2    (click's own: unknown option, bad choice, ...)
    KeyboardInterrupt                              130
    anything else                                    1    a bug: one line, SUPERBOT_DEBUG=1 for the traceback

The classes keep their older bases too (`ValueError`, `LookupError`,
`RuntimeError`) because library code catches those.
"""
from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING

import click

from dsl.errors import PermanentError, SuperbotError, TemporaryError, UsageError, UserError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "PermanentError",
    "SuperbotError",
    "TemporaryError",
    "UsageError",
    "UserError",
    "exit_code",
    "format_error",
    "print_error",
]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def exit_code(exc: BaseException) -> int:
    """The process exit code for an exception that ended a command."""
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code or 0)
    if isinstance(exc, UsageError | click.UsageError):
        return EXIT_USAGE
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_INVALID


def format_error(exc: BaseException) -> str:
    """The plain text shown for `exc`: `[location: ]error: message` then `hint: ...`.

    Manifest diagnostics use the diagnostics renderer (every error of every
    file, with its source line); anything that is not a `SuperbotError` is a
    bug and says how to see its traceback.
    """
    from dsl.diagnostics import ManifestError
    if isinstance(exc, ManifestError):
        from dsl.formats import render
        return render(exc.diagnostics, "text", len({d.file for d in exc.diagnostics}))
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, UserError):
        label = "usage error" if isinstance(exc, UsageError) else "error"
        text = f"{exc.location}: {label}: {exc}" if exc.location else f"{label}: {exc}"
        return text + (f"\nhint: {exc.hint}" if exc.hint else "")
    if isinstance(exc, TemporaryError):
        when = f"in {exc.delay:g} s" if exc.delay is not None else "later"
        return f"error: {exc}\nhint: this may pass; try again {when}"
    if isinstance(exc, PermanentError):
        return f"error: {exc}\nhint: retrying will not help; check the account or the request"
    if isinstance(exc, SuperbotError):
        return f"error: {exc}"
    return f"error: {type(exc).__name__}: {exc}\n(set SUPERBOT_DEBUG=1 for the traceback)"


def print_error(exc: BaseException, console: Console) -> None:
    """Print `exc` for the user on `console` (stderr); a traceback only for a bug under SUPERBOT_DEBUG."""
    if isinstance(exc, click.ClickException):
        exc.show()  # click's own format, with the usage line for usage errors
        return
    if not isinstance(exc, SuperbotError | KeyboardInterrupt) and os.environ.get("SUPERBOT_DEBUG"):
        traceback.print_exception(exc)
    from rich.text import Text
    text = Text(format_error(exc))
    first_line = text.plain.split("\n", 1)[0]
    word = "usage error:" if "usage error:" in first_line else "error:"
    at = first_line.find(word)
    if at >= 0:
        text.stylize("red", at, at + len(word))
    console.print(text, soft_wrap=True, highlight=False)
