"""The invalid-manifest corpus: every file in tests/invalid/ declares the one problem it holds.

First line `# expect: CODE LINE:COLUMN`; optional trailing lines `# message: ...` and
`# hint: ...` pin the full text, and `# note: LINE:COLUMN message` the note that must follow
the error (e.g. where an unclosed bracket opened); a file without one must produce no note. The position is that of the offending item itself
(the key, the value, the term), never its parent mapping.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.validate import validate_file
from dsl.diagnostics import Severity

CORPUS = Path(__file__).parent / "invalid"
FILES = sorted(CORPUS.glob("*.yaml"))
_EXPECT = re.compile(r"\A# expect: ([A-Z][0-9]{3}) ([0-9]+):([0-9]+)\n")

# every check `superbot validate` makes has at least one file in the corpus
CHECKED_CODES = {
    "E001", "E002", "E003", "E004", "E006", "E008", "E010", "K001",
    "S001", "S002", "S003", "S004", "S005", "S006",
    "P001", "P002", "P003", "P004", "P006", "P007",
    "C001", "C002", "C003", "C004", "C005", "C006", "C010", "C011", "C012", "C013", "C014", "C015",
    "T001", "D001", "D002", "D003", "D004", "D005", "D006", "R001", "R002", "W001", "W002", "W003",
}


def _expectation(path: Path) -> tuple[tuple[str, int, int], str | None, str | None]:
    text = path.read_text(encoding="utf-8")
    match = _EXPECT.match(text)
    assert match, f"{path.name} must start with '# expect: CODE LINE:COLUMN'"
    message = re.search(r"^# message: (.*)$", text, re.MULTILINE)
    hint = re.search(r"^# hint: (.*)$", text, re.MULTILINE)
    code, line, column = match.groups()
    return ((code, int(line), int(column)), message and message.group(1), hint and hint.group(1))


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in FILES])
def test_invalid_manifest_reports_its_error_at_the_offending_item(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPERBOT_TEST_UNSET_KEY", raising=False)
    (expected, message, hint) = _expectation(path)

    report = validate_file(path)

    if expected[0].startswith("W"):  # a warning alone: the file is valid
        found = report.diagnostics
        assert report.ok
    else:  # warnings that follow from the error (an unused parameter) may come along
        found = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    assert [(d.code, d.line, d.column) for d in found] == [expected]
    if message is not None:
        assert found[0].message == message
    if hint is not None:
        assert found[0].hint == hint
    notes = [f"{d.line}:{d.column} {d.message}" for d in report.diagnostics if d.severity is Severity.NOTE]
    assert notes == re.findall(r"^# note: (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)


def test_invalid_corpus_covers_every_check() -> None:
    codes = {_expectation(p)[0][0] for p in FILES}

    assert len(FILES) >= 35
    assert codes >= CHECKED_CODES
