"""SuperBot command-line entry point (console script `superbot`)."""
from __future__ import annotations

import sys

from engine.cli.app import main

if __name__ == "__main__":
    sys.exit(main())


def _console_script() -> None:  # pragma: no cover - thin wrapper for the entry point
    sys.exit(main())
