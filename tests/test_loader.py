"""YAML loading: positions of every key and value, documents, duplicates, ${VAR} substitution."""
from __future__ import annotations

from pathlib import Path

import pytest

from compiler.validate import validate_file, validate_text
from dsl.diagnostics import Collector, Pos, Severity
from dsl.loader import Document, load_file, load_text, path_text, substitute_env

ROOT = Path(__file__).resolve().parent.parent

_TEXT = """\
apiVersion: superbot/v1
spec:
  timeframe: 5m
  entry:
    long:
      - 'rsi_14'
      - "<"
      - 30
"""


def _load(text: str) -> tuple[list[Document], Collector]:
    out = Collector("test.yaml")
    return load_text(text, "test.yaml", out), out


def test_load_text_keeps_the_position_of_every_key() -> None:
    (doc,), _ = _load(_TEXT)

    assert doc.source.key(("spec",)) == Pos(2, 1, 5)
    assert doc.source.key(("spec", "timeframe")) == Pos(3, 3, 12)
    assert doc.source.key(("spec", "entry", "long")) == Pos(5, 5, 9)


def test_load_text_keeps_the_position_of_every_value() -> None:
    (doc,), _ = _load(_TEXT)

    assert doc.source.value(("apiVersion",)) == Pos(1, 13, 24)
    assert doc.source.value(("spec", "timeframe")) == Pos(3, 14, 16)
    assert doc.source.value(("spec", "entry", "long", 0)) == Pos(6, 9, 17)
    assert doc.source.value(("spec", "entry", "long", 2)) == Pos(8, 9, 11)


def test_quoted_scalar_text_starts_after_its_quote() -> None:
    (doc,), _ = _load(_TEXT)

    assert doc.source.text_start(("spec", "entry", "long", 0)).column == 10
    assert doc.source.text_start(("spec", "entry", "long", 1)).column == 10
    assert doc.source.text_start(("spec", "entry", "long", 2)).column == 9  # plain: no quote


def test_unknown_path_falls_back_to_its_closest_ancestor() -> None:
    (doc,), _ = _load(_TEXT)

    assert doc.source.value(("spec", "timeframe", "nope")) == doc.source.value(("spec", "timeframe"))


def test_load_text_reads_yaml_1_2_scalars() -> None:
    (doc,), out = _load("a: yes\nb: 1_000\nc: 0x10\nd: ~\ne: 1.5e3\nf: '30'\ng: on\n")

    assert doc.data == {"a": "yes", "b": 1000, "c": 16, "d": None, "e": 1500.0, "f": "30", "g": "on"}
    assert out.items == []


def test_load_text_reads_every_document_with_file_positions() -> None:
    docs, out = _load("a: 1\n---\nb: 2\n---\n---\nc:\n  d: 3\n")

    assert [d.data for d in docs] == [{"a": 1}, {"b": 2}, {"c": {"d": 3}}]
    assert [d.index for d in docs] == [0, 1, 3]
    assert docs[2].source.value(("c", "d")) == Pos(7, 6, 7)
    assert out.items == []


def test_validate_ignores_an_empty_document_after_a_trailing_separator() -> None:
    text = (ROOT / "strategies" / "roi_scalper.yaml").read_text(encoding="utf-8")

    report = validate_text(text + "---\n" + text + "---\n", "two.yaml")

    assert report.diagnostics == []
    assert len(report.strategies) == 2


def test_duplicate_key_is_reported_at_the_second_key_with_the_first_line() -> None:
    (doc,), out = _load("spec:\n  timeframe: 5m\n  entry: {}\n  timeframe: 1h\n")

    (diag,) = out.items
    assert (diag.code, diag.line, diag.column) == ("E004", 4, 3)
    assert diag.message == "duplicate key 'timeframe' (first defined at line 2)"
    assert diag.path == "spec.timeframe"
    assert doc.data["spec"]["timeframe"] == "5m"  # the first one is kept


def test_duplicate_key_in_a_flow_mapping_is_reported() -> None:
    _, out = _load("labels: {a: 1, b: 2, a: 3}\n")

    assert [(d.code, d.line, d.column) for d in out.items] == [("E004", 1, 22)]


def test_syntax_error_becomes_a_positioned_diagnostic() -> None:
    docs, out = _load("a: [1, 2\nb: 3\n")

    (diag, note) = out.items
    assert docs == []
    assert (diag.code, diag.line, diag.column) == ("E001", 2, 2)
    assert diag.message == "YAML syntax error: expected ',' or ']', but got ':'"
    assert (note.severity, note.line, note.column) == (Severity.NOTE, 1, 4)
    assert note.message == "the '[' that is not closed starts here"
    assert note.hint == "close it before line 2"


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    out = Collector("x")

    assert load_file(tmp_path / "nope.yaml", out) == []
    assert [d.code for d in out.items] == ["E005"]


def test_path_text_joins_keys_and_indexes() -> None:
    assert path_text(("spec", "entry", "long", "all", 0)) == "spec.entry.long.all[0]"
    assert path_text(()) == ""


# --- ${VAR} substitution ---------------------------------------------------------------------------

def test_substitute_env_replaces_variables_and_defaults() -> None:
    (doc,), out = _load("key: ${KEY}\nsecret: '${SECRET:-none}'\nboth: ${KEY}-${MISSING:-x}\n")

    substitute_env(doc, out, {"KEY": "abc"})

    assert doc.data == {"key": "abc", "secret": "none", "both": "abc-x"}
    assert out.items == []


def test_substitute_env_prefers_the_environment_over_the_default() -> None:
    (doc,), out = _load("key: ${KEY:-fallback}\n")

    substitute_env(doc, out, {"KEY": "set"})

    assert doc.data == {"key": "set"}


def test_unset_variable_is_reported_at_its_own_place() -> None:
    (doc,), out = _load("exchange:\n  api_key: 'id-${API_KEY}'\n")

    substitute_env(doc, out, {})

    (diag,) = out.items
    assert (diag.code, diag.line, diag.column, diag.pos.end_column) == ("E010", 2, 16, 26)
    assert diag.message == "environment variable 'API_KEY' is not set"
    assert diag.hint == "export API_KEY=... before running, or write ${API_KEY:-default}"
    assert diag.path == "exchange.api_key"


_DEPLOYMENT = """\
apiVersion: superbot/v1
kind: Deployment
metadata: {name: env}
spec:
  mode: demo
  strategies:
    - path: strategy.yaml
  symbols: [BTC/USDT]
  exchange: {id: binance, testnet: true, api_key: '${SB_TEST_KEY}', api_secret: '${SB_TEST_SECRET:-s}'}
"""

_STRATEGY = """\
apiVersion: superbot/v1
kind: Strategy
metadata:
  name: env
  description: ${SB_TEST_KEY}
spec:
  timeframe: 5m
  entry:
    long: ['close', '>', 1]
"""


def test_deployment_values_are_substituted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SB_TEST_KEY", "k-123")
    monkeypatch.delenv("SB_TEST_SECRET", raising=False)
    (tmp_path / "strategy.yaml").write_text(_STRATEGY)
    (tmp_path / "deployment.yaml").write_text(_DEPLOYMENT)

    report = validate_file(tmp_path / "deployment.yaml")

    assert report.diagnostics == []
    assert report.deployments[0].spec["exchange"]["api_key"] == "k-123"
    assert report.deployments[0].spec["exchange"]["api_secret"] == "s"


def test_deployment_with_an_unset_variable_is_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SB_TEST_KEY", raising=False)
    (tmp_path / "strategy.yaml").write_text(_STRATEGY)
    (tmp_path / "deployment.yaml").write_text(_DEPLOYMENT)

    report = validate_file(tmp_path / "deployment.yaml")

    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("E010", 9, 52)]


def test_strategy_values_are_never_substituted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SB_TEST_KEY", "k-123")

    report = validate_text(_STRATEGY, "strategy.yaml")

    (strategy,) = report.strategies
    assert strategy.source.data["metadata"]["description"] == "${SB_TEST_KEY}"
