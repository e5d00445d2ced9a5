"""The two terminals every command writes to: results on stdout, messages and progress on stderr.

Kept apart from `engine.cli.app` so that command modules never import the
command group that loads them (no import cycle).
"""
from __future__ import annotations

from rich.console import Console

__all__ = ["console", "err_console"]

console = Console()
err_console = Console(stderr=True)
