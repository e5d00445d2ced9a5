"""The typer application and the one place where errors become exit codes.

Exit codes (DESIGN §7): 0 ok, 1 invalid input or failed check, 2 usage.
A user error is printed as diagnostics, never as a traceback; set
SUPERBOT_DEBUG=1 to see the traceback of an internal error.
"""
from __future__ import annotations

import os
import sys
import traceback

import click
from rich.console import Console

from dsl.diagnostics import ManifestError
from dsl.formats import render

__all__ = ["UsageError", "app", "console", "err_console", "main"]

@click.group(name="superbot", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="superbot")
def app() -> None:
    """Declarative crypto trading engine: validate, compile, backtest, optimize and run YAML strategies."""

console = Console()
err_console = Console(stderr=True)


class UsageError(Exception):
    """Wrong command-line usage: exit 2."""


def _register() -> None:
    from engine.cli import manifest_cmds  # noqa: F401  (registers validate, schema, compile, indicators)
    for module in ("engine.cli.data_cmds", "engine.cli.backtest_cmds", "engine.cli.optimize_cmds",
                   "engine.cli.apply_cmds"):
        try:
            __import__(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean "fix your input": a message, exit 1, never a traceback."""
    from dsl.edit import EditError
    from engine.backtest.settings import SettingsError
    from engine.data.errors import DataError
    from engine.data.gaps import GapError
    from engine.kernel.config import KernelConfigError
    from engine.optimize.objective import ObjectiveError
    from engine.optimize.space import SpaceError
    from engine.store.runs import RunLookupError, StoreUnavailableError
    return (DataError, GapError, SettingsError, KernelConfigError, RunLookupError, StoreUnavailableError,
            ObjectiveError, SpaceError, EditError)


def main(argv: list[str] | None = None) -> int:
    _register()
    try:
        result = app.main(args=argv, prog_name="superbot", standalone_mode=False)
        return int(result or 0)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 1
    except UsageError as exc:
        err_console.print(f"[red]usage error:[/red] {exc}", highlight=False)
        return 2
    except ManifestError as exc:
        print(render(exc.diagnostics, "text", len({d.file for d in exc.diagnostics})), file=sys.stderr)
        return 1
    except _user_errors() as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # an internal error: short message, traceback on request
        if os.environ.get("SUPERBOT_DEBUG"):
            traceback.print_exc()
        err_console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False)
        err_console.print("(set SUPERBOT_DEBUG=1 for the traceback)", style="dim")
        return 1
