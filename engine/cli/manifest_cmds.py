"""`superbot validate | schema | compile | indicators`: the manifest-facing verbs."""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from compiler import indicators as reg
from compiler.compile import compile_strategy
from compiler.validate import load_strategy, validate_paths
from dsl.diagnostics import Severity
from dsl.formats import FORMATS, render
from engine.cli.app import UsageError, app, console
from schemas import KINDS, schema_path


@app.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "-f", "fmt", default="text", show_default=True,
              type=click.Choice(FORMATS), help="Output format.")
def validate(paths: tuple[Path, ...], fmt: str) -> int:
    """Check manifests: YAML, schema, condition language and semantics.

    PATHS are files or directories (searched recursively). Every problem of
    every file is reported. Exit 0 when valid (warnings allowed), 1 on errors.
    """
    reports, missing = validate_paths(paths)
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    if not reports:
        raise UsageError("no .yaml or .yml files found in " + ", ".join(map(str, paths)))
    diags = [d for r in reports for d in r.diagnostics]
    text = render(diags, fmt, len(reports))
    if text:
        click.echo(text)
    return 1 if any(d.severity is Severity.ERROR for d in diags) else 0


@app.command()
@click.argument("kind", required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of a manifest KIND (Strategy, Deployment), or of all."""
    if kind is None:
        click.echo(json.dumps({k: json.loads(schema_path(k).read_text()) for k in KINDS}, indent=2))
        return
    match = next((k for k in KINDS if k.lower() == kind.lower()), None)
    if match is None:
        raise UsageError(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    click.echo(schema_path(match).read_text().rstrip())


@app.command("compile")
@click.argument("strategy", type=click.Path(path_type=Path))
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def compile_cmd(strategy: Path, json_out: bool) -> None:
    """Show what STRATEGY needs: indicators (deduplicated), timeframes and warm-up."""
    if not strategy.is_file():
        raise UsageError(f"no such file: {strategy}")
    compiled = compile_strategy(load_strategy(strategy))
    info = {"strategy": compiled.bound.strategy.name, **compiled.plan.describe()}
    if json_out:
        click.echo(json.dumps(info, indent=2))
        return
    table = Table(title=f"{info['strategy']} on {info['timeframe']}")
    for col in ("indicator", "output", "timeframe", "params", "look-back"):
        table.add_column(col)
    for ind in info["indicators"]:  # type: ignore[union-attr]
        params = ", ".join(f"{k}={v}" for k, v in ind["params"].items())
        table.add_row(ind["name"], ind["output"], ind["timeframe"], params, str(ind["lookback"]))
    console.print(table)
    console.print(f"timeframes: {', '.join(info['timeframes'])}")  # type: ignore[arg-type]
    per_tf = ", ".join(f"{tf}: {n}" for tf, n in info["warmup_by_timeframe"].items())  # type: ignore[union-attr]
    console.print(f"warm-up: {info['warmup_bars']} bars of {info['timeframe']} (per timeframe: {per_tf})")
    window = info["window_bars"]
    console.print(f"live window: {window if window is not None else 'whole history (path-dependent indicator)'}")


@app.command()
@click.argument("name", required=False)
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def indicators(name: str | None, json_out: bool) -> None:
    """List the indicator registry (every TA-Lib function plus SuperBot's own)."""
    specs = [reg.get(name)] if name else [reg.REGISTRY[n] for n in reg.names()]
    if name and specs[0] is None:
        raise UsageError(f"unknown indicator '{name}'")
    rows = [{"name": s.name, "inputs": list(s.inputs), "params": {p.name: p.default for p in s.params},
             "outputs": s.output_choices(), "group": s.group, "description": s.description}
            for s in specs if s is not None]
    if json_out:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table()
    for col in ("name", "params", "outputs", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], ", ".join(f"{k}={v}" for k, v in r["params"].items()),  # type: ignore[union-attr]
                      ", ".join(r["outputs"]), r["description"])  # type: ignore[arg-type]
    console.print(table)
