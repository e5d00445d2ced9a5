"""README stays true: every subcommand is documented, and CI runs the README's test command."""
from __future__ import annotations

import re
from pathlib import Path

import click

from engine.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        names.append(f"{prefix}{name}")
        if isinstance(cmd, click.Group):
            names.extend(_commands(cmd, f"{prefix}{name} "))
        names.extend(f"{prefix}{name} {sub}" for sub in getattr(cmd, "subcommands", {}))
    return names


def _quick_start_blocks() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.DOTALL)


def test_every_subcommand_is_in_readme() -> None:
    for name in _commands(app):
        top, _, sub = name.partition(" ")
        assert f"superbot {top}" in README, name
        if sub:
            assert re.search(rf"superbot {top}[^`]*\b{sub}\b", README), name


def test_quick_start_has_the_main_job_then_the_tests() -> None:
    main_job, tests = _quick_start_blocks()
    assert "superbot backtest strategies/" in main_job and "--report" in main_job
    assert tests.rstrip().endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, tests = _quick_start_blocks()
    assert "pip install -q -e '.[dev]'" in ci or "pip install -e '.[dev]'" in ci
    assert tests.split("&&")[-1].strip() in [line.strip() for line in ci.splitlines()]
