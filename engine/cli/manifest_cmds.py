"""`superbot validate | schema | compile | indicators`: the manifest-facing verbs.

`validate` must stay fast (it runs in editors and CI on every push): this
module imports nothing that computes; `compile` and `indicators NAME` import
the compiler's evaluators and TA-Lib inside their functions.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from compiler.validate import validate_paths
from dsl.diagnostics import Severity
from dsl.formats import FORMATS, render
from engine.errors import UsageError
from schemas import KINDS, schema_path

__all__ = ["compile_cmd", "indicators", "schema", "validate"]


@click.command()
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


@click.command()
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


@click.command("compile")
@click.argument("strategy", type=click.Path(path_type=Path))
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def compile_cmd(strategy: Path, json_out: bool) -> None:
    """Show what STRATEGY needs: indicators (deduplicated), timeframes and warm-up."""
    from rich.table import Table

    from compiler.compile import compile_strategy
    from compiler.validate import load_strategy
    from engine.cli.console import console
    if not strategy.is_file():
        raise UsageError(f"no such file: {strategy}")
    compiled = compile_strategy(load_strategy(strategy))
    info: dict[str, Any] = {"strategy": compiled.bound.strategy.name, **compiled.plan.describe()}
    if json_out:
        click.echo(json.dumps(info, indent=2))
        return
    table = Table(title=f"{info['strategy']} on {info['timeframe']}")
    for col in ("indicator", "output", "timeframe", "params", "look-back"):
        table.add_column(col)
    for ind in info["indicators"]:
        params = ", ".join(f"{k}={v}" for k, v in ind["params"].items())
        table.add_row(ind["name"], ind["output"], ind["timeframe"], params, str(ind["lookback"]))
    console.print(table)
    console.print(f"timeframes: {', '.join(info['timeframes'])}")
    per_tf = ", ".join(f"{tf}: {n}" for tf, n in info["warmup_by_timeframe"].items())
    console.print(f"warm-up: {info['warmup_bars']} bars of {info['timeframe']} (per timeframe: {per_tf})")
    window = info["window_bars"]
    console.print(f"live window: {window if window is not None else 'whole history (path-dependent indicator)'}")


@click.command()
@click.argument("name", required=False)
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output.")
def indicators(name: str | None, json_out: bool) -> None:
    """List the indicator registry, or describe NAME: inputs, parameters, outputs, look-back.

    The registry holds every TA-Lib function plus SuperBot's own.
    """
    from compiler import indicators as reg
    if name is None:
        rows = [_indicator_row(reg.REGISTRY[n], lookback=False) for n in reg.names()]
        if json_out:
            click.echo(json.dumps(rows, indent=2))
        else:
            _print_registry(rows)
        return
    spec = reg.get(name)
    if spec is None:
        from dsl.suggest import did_you_mean
        raise UsageError(f"unknown indicator '{name}'",
                         hint=did_you_mean(name, reg.names()) or "`superbot indicators` lists them all")
    row = _indicator_row(spec, lookback=True)
    if json_out:
        click.echo(json.dumps(row, indent=2))
    else:
        _print_indicator(row)


def _indicator_row(spec: Any, *, lookback: bool) -> dict[str, Any]:
    """One indicator as data; the look-back at the defaults asks TA-Lib, so only when describing one."""
    row: dict[str, Any] = {
        "name": spec.name, "group": spec.group, "description": spec.description,
        "inputs": list(spec.inputs),
        "params": [{"name": p.name, "default": p.default, "type": "int" if p.integer else "float",
                    "min": p.low, "max": p.high} for p in spec.params],
        "outputs": spec.output_choices(), "unstable": spec.unstable,
    }
    if lookback:
        row["lookback"] = spec.lookback(spec.defaults())
    return row


def _print_registry(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from engine.cli.console import console
    table = Table(title=f"{len(rows)} indicators (superbot indicators NAME for one)", title_justify="left")
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("params (defaults)", overflow="fold")
    table.add_column("outputs", overflow="fold")
    table.add_column("description", overflow="fold", ratio=1)
    for r in rows:
        table.add_row(r["name"], " ".join(f"{p['name']}={p['default']:g}" for p in r["params"]),
                      " ".join(r["outputs"]), r["description"])
    console.print(table)


def _print_indicator(row: dict[str, Any]) -> None:
    from rich.table import Table

    from engine.cli.console import console
    def bound(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"
    console.print(f"[bold]{row['name']}[/bold] — {row['description']} ({row['group']})", highlight=False)
    console.print(f"inputs:   {', '.join(row['inputs'])}", highlight=False)
    if row["params"]:
        table = Table(title="parameters", title_justify="left")
        for col, justify in (("name", "left"), ("type", "left"), ("default", "right"), ("min", "right"),
                             ("max", "right")):
            table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for p in row["params"]:
            table.add_row(p["name"], p["type"], f"{p['default']:g}", bound(p["min"]), bound(p["max"]))
        console.print(table)
    else:
        console.print("parameters: none", highlight=False)
    console.print(f"outputs:  {', '.join(row['outputs'])}", highlight=False)
    unstable = " + an unstable period (recursive: more bars until it converges)" if row["unstable"] else ""
    console.print(f"look-back: {row['lookback']} bars at the defaults{unstable}", highlight=False)
