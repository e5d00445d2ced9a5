"""docs/dsl.md and docs/validate.md stay true: grammar quoted, examples valid, every code listed."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from compiler.validate import validate_text
from dsl.diagnostics import Severity
from superbot import main

ROOT = Path(__file__).resolve().parent.parent
DSL = (ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")
VALIDATE = (ROOT / "docs" / "validate.md").read_text(encoding="utf-8")
_CODE = re.compile(r'"([A-Z][0-9]{3})"')

_STRATEGY = """\
apiVersion: superbot/v1
kind: Strategy
metadata: {name: doc}
spec:
  timeframe: 5m
"""


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)


_DEPLOYMENT = """\
apiVersion: superbot/v1
kind: Deployment
metadata: {name: doc}
spec:
  mode: backtest
  strategies: [{path: ../strategies/rsi_mean_reversion.yaml}]
  symbols: [BTC/USDT]
"""


def _errors(text: str) -> list[tuple[str, int, str]]:
    report = validate_text(text, str(ROOT / "deployments" / "doc.yaml"))
    return [(d.code, d.line, d.message) for d in report.diagnostics if d.severity is Severity.ERROR]


def test_dsl_reference_quotes_the_grammar_file() -> None:
    grammar = (ROOT / "dsl" / "grammar.lark").read_text(encoding="utf-8")

    assert f"```lark\n{grammar}```" in DSL


def test_dsl_reference_full_manifests_validate() -> None:
    manifests = [b for b in _yaml_blocks(DSL) if b.startswith("# yaml-language-server") and "entry:" in b]

    assert manifests
    assert [_errors(b) for b in manifests] == [[]] * len(manifests)


def test_dsl_reference_condition_examples_validate() -> None:
    lists = [b for b in _yaml_blocks(DSL) if all(line.startswith("- ") for line in b.strip().splitlines())]
    body = "".join(lists)

    assert body.count("\n") >= 10
    assert _errors(_STRATEGY + "  entry:\n    long:\n      all:\n" + textwrap.indent(body, " " * 8)) == []


@pytest.mark.parametrize("key", [pytest.param(k, id=k) for k in ("entry:", "params:", "risk:")])
def test_dsl_reference_spec_fragments_validate(key: str) -> None:
    fragments = [b for b in _yaml_blocks(DSL) if b.startswith(key)]
    entry = "" if key == "entry:" else "  entry:\n    long: ['close', '>', 1]\n"

    assert fragments
    for fragment in fragments:
        manifest = _DEPLOYMENT if "rules:" in fragment else _STRATEGY + entry  # risk rules: a deployment
        assert _errors(manifest + textwrap.indent(fragment, "  ")) == []


def test_validate_page_lists_every_diagnostic_code() -> None:
    emitted = set()
    for path in [*ROOT.glob("dsl/*.py"), *ROOT.glob("compiler/*.py")]:
        emitted |= set(_CODE.findall(path.read_text(encoding="utf-8")))
    listed = set(re.findall(r"^\| `([A-Z][0-9]{3})` \|", VALIDATE, re.MULTILINE))

    assert emitted - {"C000"} <= listed
    assert listed <= emitted


def test_validate_page_text_sample_is_what_superbot_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    numbered = re.search(r"line numbers added\):\n\n```\n(.*?)```", VALIDATE, re.DOTALL)
    assert numbered
    (tmp_path / "strategies").mkdir()
    source = "".join(line[4:] + "\n" for line in numbered.group(1).splitlines())
    (tmp_path / "strategies" / "rsi_dip.yaml").write_text(source)
    monkeypatch.chdir(tmp_path)

    for fmt in ("text", "github"):
        sample = re.search(rf"\$ superbot validate {'--format github ' if fmt == 'github' else ''}strategies/\n"
                           r"(.*?)```", VALIDATE, re.DOTALL)
        assert sample
        assert main(["validate", "--format", fmt, "strategies/"]) == 1
        assert capsys.readouterr().out == sample.group(1)


def _schema_rows(schema: dict[str, Any], root: dict[str, Any], path: str, required: bool) -> list[str]:
    """One table row per field of a schema, nested fields after their parent, `$ref`s followed."""
    if "$ref" in schema:
        schema = {**root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    words = {"object": "mapping", "array": "list", "boolean": "true/false"}
    types = [schema["type"]] if isinstance(schema.get("type"), str) else schema.get("type", [])
    kind = " or ".join(words.get(t, t) for t in types)
    if "enum" in schema or "const" in schema:
        kind = " \\| ".join(f"`{v}`" for v in schema.get("enum", [schema.get("const")]))
    bounds = [f"{word} {schema[key]:g}" for key, word in (("exclusiveMinimum", ">"), ("minimum", ">="),
                                                         ("exclusiveMaximum", "<"), ("maximum", "<="))
              if key in schema]
    rows = [f"| `{path}` | {' '.join([kind, *bounds[:1], *(f'and {b}' for b in bounds[1:])])} "
            f"| {'yes' if required else ''} | {schema.get('description', '')} |"] if path else []
    if isinstance(schema.get("items"), dict):  # the fields of each item: `spec.strategies[].path`
        rows += _schema_rows(schema["items"], root, f"{path}[]", False)[1:]
    for name, sub in schema.get("properties", {}).items():
        rows += _schema_rows(sub, root, f"{path}.{name}" if path else name, name in schema.get("required", []))
    return rows


def test_deployment_reference_lists_every_schema_field() -> None:
    schema = json.loads((ROOT / "schemas" / "deployment.schema.json").read_text(encoding="utf-8"))
    table = "\n".join(["| field | type | required | meaning |", "|---|---|---|---|",
                       *_schema_rows(schema, schema, "", True)])
    page = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")

    assert table in page
    assert [validate_text(b, str(ROOT / "docs" / "example.yaml")).diagnostics for b in _yaml_blocks(page)] == [[]]


def test_validate_page_json_sample_is_what_superbot_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    numbered = re.search(r"line numbers added\):\n\n```\n(.*?)```", VALIDATE, re.DOTALL)
    sample = re.search(r"\$ superbot validate --format json strategies/\n(.*?)```", VALIDATE, re.DOTALL)
    assert numbered and sample
    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "rsi_dip.yaml").write_text("".join(line[4:] + "\n" for line in
                                                                  numbered.group(1).splitlines()))
    monkeypatch.chdir(tmp_path)

    main(["validate", "--format", "json", "strategies/"])

    shown = json.loads(sample.group(1).replace(",\n  ...\n", "\n"))  # the sample elides the rest
    assert json.loads(capsys.readouterr().out)[:len(shown)] == shown
