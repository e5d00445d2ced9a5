"""The suite's own settings hold: a run writes nothing into the checkout, a warning fails a test,
Hypothesis asserts no wall-clock deadline, and under CI=true a skip fails.

Each test runs pytest in a subprocess on a throw-away project made of this
repository's ``pyproject.toml`` (the pytest configuration), optionally its
``tests/conftest.py``, and one small test, then looks at what that run left.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROPERTY_TEST = '''
from hypothesis import given, settings, strategies as st


@settings(max_examples=10)
@given(st.text())
def test_text_is_text(s):
    assert isinstance(s, str)
'''

SLOW_PROPERTY_TEST = '''
import time

from hypothesis import given, settings, strategies as st


@settings(max_examples=2)
@given(st.integers())
def test_slow(n):
    time.sleep(0.3)  # past Hypothesis's default deadline of 200 ms per example
'''

WARNING_TEST = '''
import warnings


def test_warns():
    warnings.warn("this API is going away", DeprecationWarning, stacklevel=1)
'''

SKIPPING_TEST = '''
import pytest


def test_needs_a_server():
    pytest.skip("PostgreSQL not reachable")


@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    raise AssertionError
'''


def _project(where: Path, test: str, *, conftest: bool) -> Path:
    (where / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    if conftest:
        shutil.copy(ROOT / "tests" / "conftest.py", where / "tests" / "conftest.py")
    (where / "tests" / "test_it.py").write_text(test, encoding="utf-8")
    return where


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _pytest(project: Path, storage: Path, **env_vars: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS_", "PYTEST_")) and k != "CI"}
    env.update(PYTHONDONTWRITEBYTECODE="1", XDG_CACHE_HOME=str(storage), **env_vars)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    return run.returncode


@pytest.mark.parametrize(("conftest", "writes"), [
    pytest.param(True, False, id="with-our-conftest-nothing-is-written"),
    pytest.param(False, True, id="without-it-hypothesis-writes-its-directory"),
])
def test_hypothesis_run_writes_into_the_checkout_only_without_conftest(tmp_path: Path, conftest: bool,
                                                                        writes: bool) -> None:
    project = _project(tmp_path / "project", PROPERTY_TEST, conftest=conftest)
    before = _files(project)
    assert _pytest(project, tmp_path / "cache") == 0
    new = _files(project) - before
    assert (".hypothesis" in new) is writes, sorted(new)
    assert new == ({p for p in new if p.startswith(".hypothesis")} if writes else set()), sorted(new)


@pytest.mark.parametrize(("conftest", "exit_code"), [
    pytest.param(True, pytest.ExitCode.OK, id="with-our-conftest-a-slow-example-passes"),
    pytest.param(False, pytest.ExitCode.TESTS_FAILED, id="without-it-the-deadline-fails-it"),
])
def test_hypothesis_profile_has_no_wall_clock_deadline(tmp_path: Path, conftest: bool, exit_code: int) -> None:
    project = _project(tmp_path / "project", SLOW_PROPERTY_TEST, conftest=conftest)
    assert _pytest(project, tmp_path / "cache") == exit_code


def test_pytest_config_turns_a_warning_into_a_failure(tmp_path: Path) -> None:
    project = _project(tmp_path / "project", WARNING_TEST, conftest=True)
    assert _pytest(project, tmp_path / "cache") == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(("ci", "exit_code"), [
    pytest.param("true", pytest.ExitCode.TESTS_FAILED, id="ci-a-skip-fails"),
    pytest.param("", pytest.ExitCode.OK, id="developer-a-skip-is-a-skip"),
])
def test_conftest_fails_a_skip_only_under_ci(tmp_path: Path, ci: str, exit_code: int) -> None:
    project = _project(tmp_path / "project", SKIPPING_TEST, conftest=True)
    assert _pytest(project, tmp_path / "cache", CI=ci) == exit_code


def test_ci_script_parses_and_checks_before_it_tests() -> None:
    script = ROOT / ".ci" / "run"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, check=False).returncode == 0
    lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    ruff, mypy = lines.index('ruff check . || fail "ruff check ."'), lines.index('mypy || fail "mypy"')
    assert ruff < mypy < lines.index('run_tests "Python $version"')
    assert 'for version in 3.11 3.12; do' in lines
