"""`superbot validate` and `superbot schema`: output formats, exit codes, no tracebacks."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
BAD = "tests/invalid/unknown_indicator.yaml"        # C001 at 8:13
WARN = "tests/invalid/unused_param.yaml"            # W001 at 8:5
_TEXT_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|note)"
                        r"\[(?P<code>[A-Z]\d{3})\]: (?P<message>.+)$")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- text ------------------------------------------------------------------------------------------

def test_validate_text_output_is_pinned(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", BAD, WARN)

    assert code == 1
    assert out == (
        "tests/invalid/unknown_indicator.yaml:8:13: error[C001]: unknown indicator 'rsii_14' (spec.entry.long[0])\n"
        "   |     long: ['rsii_14', '<', 30]\n"
        "   |             ^^^^^^^\n"
        "   = hint: did you mean 'rsi_14'?\n"
        "tests/invalid/unused_param.yaml:8:5: warning[W001]: parameter 'rsi_sell' is never used"
        " (spec.params.rsi_sell)\n"
        "   |     rsi_sell: {default: 70, int: [60, 90]}\n"
        "   |     ^^^^^^^^\n"
        "   = hint: reference it as $rsi_sell in a condition or risk value, or remove it\n"
        "2 files checked: 1 error, 1 warning\n"
    )


def test_validate_text_lines_have_the_problem_matcher_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "tests/invalid")
    lines = out.splitlines()
    heads = [i for i, line in enumerate(lines) if _TEXT_LINE.match(line)]

    assert code == 1
    assert len(heads) >= len(list((ROOT / "tests" / "invalid").glob("*.yaml")))
    assert all(Path(_TEXT_LINE.match(lines[i])["file"]).is_file() for i in heads)  # type: ignore[index]
    details = [line for i, line in enumerate(lines[:-1]) if i not in heads]
    assert all(line.startswith(("   | ", "   = hint: ")) for line in details)
    assert re.fullmatch(r"\d+ files checked: \d+ errors, \d+ warnings?", lines[-1])


def test_validate_of_valid_examples_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "strategies", "deployments")

    assert code == 0
    files = len(list((ROOT / "strategies").glob("*.yaml"))) + len(list((ROOT / "deployments").glob("*.yaml")))
    assert out == f"{files} files checked: 0 errors, 0 warnings\n"


def test_validate_with_only_warnings_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", WARN)

    assert code == 0
    assert "warning[W001]" in out


def test_validate_searches_directories_recursively(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a" / "b" / "deep.yml").write_text((ROOT / BAD).read_text())
    (tmp_path / ".hidden" / "skipped.yaml").write_text("not: [valid\n")
    (tmp_path / "notes.txt").write_text("not: [yaml\n")

    code, out, _ = _run(capsys, "validate", str(tmp_path))

    assert code == 1
    assert out.startswith(f"{tmp_path / 'a' / 'b' / 'deep.yml'}:8:13: error[C001]")
    assert out.endswith("1 file checked: 1 error, 0 warnings\n")


# --- json, github, sarif -----------------------------------------------------------------------------

def test_validate_json_is_a_list_of_diagnostics(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "--format", "json", BAD, WARN)
    items = json.loads(out)

    assert code == 1
    assert items[0] == {
        "file": BAD, "line": 8, "column": 13, "severity": "error", "code": "C001",
        "message": "unknown indicator 'rsii_14'", "hint": "did you mean 'rsi_14'?", "path": "spec.entry.long[0]",
    }
    assert [(i["severity"], i["code"]) for i in items] == [("error", "C001"), ("warning", "W001")]
    for item in items:
        assert {"file", "line", "column", "severity", "code", "message", "hint"} <= set(item)


def test_validate_json_path_names_the_item_inside_the_condition(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "validate", "-f", "json", "tests/invalid/timeframe_smaller_than_strategy.yaml")

    assert [item["path"] for item in json.loads(out)] == ["spec.entry.long.all[0][3]"]


def test_validate_json_of_valid_files_is_an_empty_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "-f", "json", "strategies")

    assert (code, json.loads(out)) == (0, [])


def test_validate_github_prints_workflow_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "--format", "github", BAD, WARN)

    assert code == 1
    assert out.splitlines() == [
        f"::error file={BAD},line=8,col=13,title=C001::unknown indicator 'rsii_14'%0Ahint: did you mean 'rsi_14'?",
        (f"::warning file={WARN},line=8,col=5,title=W001::parameter 'rsi_sell' is never used"
         "%0Ahint: reference it as $rsi_sell in a condition or risk value, or remove it"),
    ]


def test_validate_sarif_is_a_2_1_0_log(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "--format", "sarif", BAD, WARN)
    log = json.loads(out)
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]

    assert code == 1
    assert log["version"] == "2.1.0"
    assert "sarif-2.1.0" in log["$schema"]
    assert run["tool"]["driver"]["name"] == "superbot"
    assert rules == ["C001", "W001"]
    first = run["results"][0]
    assert (first["ruleId"], first["level"], rules[first["ruleIndex"]]) == ("C001", "error", "C001")
    assert first["message"]["text"] == "unknown indicator 'rsii_14' (hint: did you mean 'rsi_14'?)"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == BAD
    assert location["region"] == {"startLine": 8, "startColumn": 13, "endColumn": 20}
    assert run["results"][1]["level"] == "warning"


def test_validate_sarif_locates_an_absolute_path_by_file_uri(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "my strategy.yaml").write_text((ROOT / BAD).read_text())

    _, out, _ = _run(capsys, "validate", "--format", "sarif", str(tmp_path / "my strategy.yaml"))

    location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == (tmp_path / "my strategy.yaml").as_uri()


UNCLOSED = "tests/invalid/yaml_unclosed_flow_sequence.yaml"  # E001 at 9:7, note at 8:11


def test_validate_github_prints_a_note_as_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "validate", "--format", "github", UNCLOSED)

    assert code == 1
    assert out.splitlines()[1] == (f"::notice file={UNCLOSED},line=8,col=11,title=E001::"
                                   "the '[' that is not closed starts here%0Ahint: close it before line 9")


def test_validate_sarif_gives_a_note_its_own_level(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "validate", "--format", "sarif", UNCLOSED)

    assert [r["level"] for r in json.loads(out)["runs"][0]["results"]] == ["error", "note"]


def test_validate_json_lists_a_note_after_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "validate", "--format", "json", UNCLOSED)

    assert [(d["severity"], d["line"], d["column"]) for d in json.loads(out)] == [("error", 9, 7), ("note", 8, 11)]


# --- usage errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    pytest.param(["validate"], id="no-path"),
    pytest.param(["validate", "does/not/exist.yaml"], id="missing-path"),
    pytest.param(["validate", "--format", "xml", "strategies"], id="bad-format"),
    pytest.param(["validate", "--nope", "strategies"], id="unknown-option"),
    pytest.param(["schema", "Portfolio"], id="unknown-kind"),
    pytest.param(["compile", "does/not/exist.yaml"], id="compile-missing-file"),
])
def test_usage_error_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *argv)

    assert code == 2
    assert out == ""
    assert err


def test_validate_of_a_directory_without_manifests_exits_2(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "validate", str(tmp_path))

    assert code == 2
    assert "no .yaml or .yml files found" in err


def test_validate_missing_path_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = _run(capsys, "validate", "strategies", "nope.yaml")

    assert "usage error: no such file or directory: nope.yaml" in err


def test_compile_of_an_invalid_strategy_prints_diagnostics_and_exits_1(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "compile", BAD)

    assert code == 1
    assert out == ""
    assert err.startswith(f"{BAD}:8:13: error[C001]: unknown indicator 'rsii_14'")


# --- no tracebacks, as a real process ----------------------------------------------------------------

def test_user_errors_never_print_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "control.yaml").write_text("a: \x07\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "huge.yaml").write_bytes(b"[" * 5 * 2 ** 20)
    (tmp_path / "nul.yaml").write_bytes(b"a: 1\nb: '" + b"x" * 60_000 + b"\x00'\n")  # a NUL in a 60 KB line

    done = subprocess.run([sys.executable, str(ROOT / "superbot.py"), "validate", "tests/invalid", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert (f"{tmp_path / 'binary.yaml'}:1:1: error[E001]: the file is not UTF-8 text: "
            "byte 0xff here is not valid UTF-8 (invalid start byte)") in done.stdout
    assert f"{tmp_path / 'huge.yaml'}:1:1: error[E007]: the file is larger than 64 KiB" in done.stdout
    assert f"{tmp_path / 'nul.yaml'}:2:60005: error[E001]: YAML syntax error: unacceptable character #x0000" \
        in done.stdout
    assert "\x00" not in done.stdout and max(map(len, done.stdout.splitlines())) < 300
    assert re.search(r"\n\d+ files checked: \d+ errors, \d+ warnings\n\Z", done.stdout)


def test_console_script_exit_code_is_the_process_status() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "superbot.py"), "validate", "--format", "json", WARN],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0
    assert [d["code"] for d in json.loads(done.stdout)] == ["W001"]


# --- schema ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [pytest.param(k, id=k) for k in ("strategy", "Strategy", "deployment")])
def test_schema_prints_the_published_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "schema", kind)

    assert code == 0
    assert json.loads(out) == json.loads((ROOT / "schemas" / f"{kind.lower()}.schema.json").read_text())


def test_schema_without_kind_prints_every_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "schema")

    assert code == 0
    assert sorted(json.loads(out)) == ["Deployment", "Strategy"]
