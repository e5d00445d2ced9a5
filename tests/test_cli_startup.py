"""Start-up: `superbot --help` and `validate` import no heavy library; commands load on demand; the parser is cached."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from engine.cli.app import COMMANDS, app, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "talib", "pandas", "optuna", "sqlalchemy", "pyarrow", "plotly")


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    """Run the CLI in a fresh interpreter; its exit code and the heavy modules it imported."""
    code = ("import json, sys\nfrom engine.cli.app import main\ncode = main(sys.argv[1:])\n"
            f"print(json.dumps([code, [m for m in {HEAVY!r} if m in sys.modules]]), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    result = json.loads(out.stderr.strip().splitlines()[-1])
    return int(result[0]), list(result[1])


@pytest.mark.parametrize("argv", [
    pytest.param(["--help"], id="help"),
    pytest.param(["validate", "strategies/"], id="validate-strategies"),
    pytest.param(["validate", "deployments/"], id="validate-deployments"),
    pytest.param(["validate", "--format", "sarif", "tests/invalid/"], id="validate-invalid"),
    pytest.param(["indicators"], id="indicators-list"),
    pytest.param(["schema", "Strategy"], id="schema"),
])
def test_cli_start_up_imports_no_heavy_library(argv: list[str]) -> None:
    code, heavy = _modules_after(*argv)
    assert heavy == [], f"superbot {' '.join(argv)} imported {heavy}"
    assert code in (0, 1)


def test_lazy_group_help_lists_every_command_without_importing_it() -> None:
    code = ("import sys\nfrom engine.cli.app import main\nmain(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('engine.cli.') and m.endswith('_cmds')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    for name, entry in COMMANDS.items():
        assert f"  {name} " in out.stdout and entry.short_help in out.stdout, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_lazy_group_table_names_the_command_it_loads(name: str) -> None:
    command = app.get_command(click.Context(app), name)
    assert isinstance(command, click.Command) and command.name == name
    assert command.get_short_help_str(200) == COMMANDS[name].short_help


def test_command_modules_do_not_import_the_command_group() -> None:
    """No cycle: command modules are loaded by the group, never the other way round at import."""
    names = sorted(target.partition(":")[0] for target, _ in COMMANDS.values())
    code = (f"import importlib, sys\nfor m in {sorted(set(names))!r}: importlib.import_module(m)\n"
            "print('engine.cli.app' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["valdate"]) == 2
    assert "No such command 'valdate'" in capsys.readouterr().err


def test_backtest_help_lists_every_backtest_option_and_the_kept_run_commands(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--data", "--symbols", "--from", "--to", "--fee", "--slippage", "--balance", "--gaps",
                   "--price-tick", "--json", "--trades", "--report", "--no-keep"):
        assert option in out, option
    for sub in ("backtest list", "backtest show ID", "backtest compare A B"):
        assert sub in out, sub


def test_backtest_subcommand_help_is_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "show", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: superbot backtest show [OPTIONS] RUN_ID" in out and "--fee" not in out


def test_parser_cache_is_kept_in_the_user_cache_and_reused(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dsl import parse
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    parse._parser.cache_clear()
    try:
        parse.parse_condition_text("rsi_14 < 30")
        files = list((tmp_path / "cache").glob("lark-*.pickle"))
        assert len(files) == 1 and not list((tmp_path / "cache").glob("*.tmp"))
        stamp = files[0].stat().st_mtime_ns
        parse._parser.cache_clear()
        parse.parse_condition_text("close > ema_200@1h")
        assert files[0].stat().st_mtime_ns == stamp  # loaded, not rebuilt
    finally:
        parse._parser.cache_clear()


def test_parser_cache_file_changes_with_the_grammar() -> None:
    from dsl import parse
    grammar = (ROOT / "dsl" / "grammar.lark").read_text(encoding="utf-8")
    assert parse._cache_file(grammar) != parse._cache_file(grammar + "\n// edited\n")
    assert ROOT / "dsl" not in parse._cache_file(grammar).parents


def test_parser_works_when_the_cache_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsl import parse
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SUPERBOT_HOME", str(blocker / "home"))
    parse._parser.cache_clear()
    try:
        assert parse.parse_condition_text("rsi_14 < 30") is not None
    finally:
        parse._parser.cache_clear()


@pytest.mark.parametrize(("module", "absent"), [
    pytest.param("engine.report.terminal", ("sqlalchemy", "plotly", "optuna"), id="summary"),
    pytest.param("engine.cli.backtest_cmds", HEAVY, id="backtest-command"),
    pytest.param("engine.cli.apply_cmds", HEAVY, id="apply-command"),
])
def test_module_imports_only_what_it_needs(module: str, absent: tuple[str, ...]) -> None:
    code = f"import importlib, sys; importlib.import_module({module!r}); print([m for m in {absent!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [
    "engine.errors", "engine.cli.app", "engine.cli.console", "engine.cli.manifest_cmds", "engine.cli.backtest_cmds",
    "engine.cli.apply_cmds", "engine.report.fit", "compiler.indicators", "compiler._talib_table",
])
def test_cli_modules_export_what_they_define(module: str) -> None:
    """`__all__` is the surface: every name in it exists, every public function or class is in it."""
    import importlib
    mod = importlib.import_module(module)
    assert all(hasattr(mod, name) for name in mod.__all__)
    public = {n for n, v in vars(mod).items() if not n.startswith("_") and getattr(v, "__module__", None) == module
              and callable(v)}
    assert public <= set(mod.__all__), public - set(mod.__all__)
