"""The `superbot` command group: commands load on demand, errors become exit codes in one place.

Why lazy: each command module imports what it needs (TA-Lib, numba, pandas,
optuna, SQLAlchemy), and importing all of them made `superbot --help` take
1.5 s. The table below names each command's module and function and keeps its
short help, so `--help` lists every command without importing any of them; a
test checks the table against the commands themselves.

Exit codes (DESIGN §7): 0 ok, 1 invalid input or failed check, 2 usage; the
mapping and the printing of errors live in `engine/errors.py`. Neither this
module nor `validate` imports rich: `--help` and a clean validation print
through click alone.
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

import click

from engine.errors import EXIT_INVALID, exit_code, print_error

__all__ = ["COMMANDS", "LazyCommand", "LazyGroup", "app", "main"]


class LazyCommand(NamedTuple):
    """Where a command lives (`module:function`) and the one line `superbot --help` shows for it."""

    target: str
    short_help: str


COMMANDS: dict[str, LazyCommand] = {
    "validate": LazyCommand("engine.cli.manifest_cmds:validate",
                            "Check manifests: YAML, schema, conditions, semantics."),
    "compile": LazyCommand("engine.cli.manifest_cmds:compile_cmd",
                           "Show what STRATEGY needs: indicators, timeframes and warm-up."),
    "schema": LazyCommand("engine.cli.manifest_cmds:schema",
                          "Print the JSON Schema of a manifest KIND, or of all."),
    "indicators": LazyCommand("engine.cli.manifest_cmds:indicators",
                              "List the indicator registry, or describe one indicator."),
    "data": LazyCommand("engine.cli.data_cmds:data",
                        "Market data: download, import, list, gaps, synth."),
    "backtest": LazyCommand("engine.cli.backtest_cmds:backtest",
                            "Backtest STRATEGY; `backtest list|show|compare` for kept runs."),
    "optimize": LazyCommand("engine.cli.optimize_cmds:optimize_cmd",
                            "Optimize STRATEGY's parameters with Optuna."),
    "params": LazyCommand("engine.cli.optimize_cmds:params_group",
                          "Write a stored study's best values into a strategy."),
    "apply": LazyCommand("engine.cli.apply_cmds:apply_cmd",
                         "Run a backtest or optimize deployment (PATH or -f FILE)."),
    "exchange-sim": LazyCommand("engine.cli.sim_cmds:exchange_sim",
                                "A Binance-compatible exchange simulator on 127.0.0.1."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are run (or their own help is asked for)."""

    def __init__(self, *args: object, lazy: dict[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # click.Group's own keyword arguments
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self.lazy.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry.target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.target} is not a click command")
        if command.short_help is None:  # one source for the line `--help` shows
            command.short_help = entry.short_help
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with the table's short help: listing them imports none."""
        rows = [(name, self.lazy[name].short_help if name in self.lazy and name not in self.commands
                 else self.commands[name].get_short_help_str(formatter.width or 80))
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(name="superbot", cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="superbot")
def app() -> None:
    """Declarative crypto trading engine: validate, compile, backtest, optimize and run YAML strategies."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; every exception becomes a message and an exit code (engine/errors.py)."""
    try:
        result = app.main(args=argv, prog_name="superbot", standalone_mode=False)
        return int(result or 0)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_INVALID
    except (Exception, KeyboardInterrupt) as exc:
        from engine.cli.console import err_console  # rich only when there is something to print
        print_error(exc, err_console)
        return exit_code(exc)
