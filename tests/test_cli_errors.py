"""One error tree, one exit-code map: 0 ok, 1 bad input or file content, 2 bad command line or option value."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from dsl.diagnostics import Diagnostic, ManifestError, Pos
from dsl.edit import EditError
from dsl.errors import PermanentError, SuperbotError, TemporaryError, UsageError, UserError
from dsl.parse import ParseError
from engine.backtest.settings import SettingsError
from engine.cli.app import main
from engine.data.errors import BadRowsError, DataError, DownloadError, NoDataError, NotCandlesError
from engine.data.gaps import GapError
from engine.errors import exit_code, format_error
from engine.kernel.config import KernelConfigError
from engine.optimize.objective import ObjectiveError
from engine.optimize.space import SpaceError
from engine.store.runs import AmbiguousRunIdError, RunLookupError, RunNotFoundError, StoreUnavailableError

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = str(ROOT / "strategies" / "ema_cross_trend.yaml")
DEPLOYMENT = str(ROOT / "deployments" / "backtest.yaml")


@pytest.mark.parametrize("cls", [
    ManifestError, ParseError, EditError, SettingsError, KernelConfigError, DataError, BadRowsError,
    NotCandlesError, NoDataError, DownloadError, GapError, RunLookupError, RunNotFoundError,
    AmbiguousRunIdError, StoreUnavailableError, SpaceError, ObjectiveError, UsageError,
], ids=lambda c: c.__name__)
def test_error_tree_every_user_error_is_a_user_error(cls: type[Exception]) -> None:
    assert issubclass(cls, UserError) and issubclass(cls, SuperbotError)


@pytest.mark.parametrize(("cls", "base"), [
    (SettingsError, ValueError), (DataError, ValueError), (RunLookupError, LookupError),
    (StoreUnavailableError, RuntimeError), (SpaceError, ValueError), (EditError, ValueError),
], ids=lambda c: c.__name__)
def test_error_tree_keeps_the_older_bases(cls: type[Exception], base: type[Exception]) -> None:
    assert issubclass(cls, base)


@pytest.mark.parametrize(("exc", "code"), [
    pytest.param(UserError("x"), 1, id="user"),
    pytest.param(ManifestError([]), 1, id="manifest"),
    pytest.param(SettingsError("x"), 1, id="settings"),
    pytest.param(UsageError("x"), 2, id="usage"),
    pytest.param(click.UsageError("x"), 2, id="click-usage"),
    pytest.param(click.BadParameter("x"), 2, id="click-bad-parameter"),
    pytest.param(TemporaryError("x", delay=5), 1, id="temporary"),
    pytest.param(PermanentError("x"), 1, id="permanent"),
    pytest.param(RuntimeError("x"), 1, id="bug"),
    pytest.param(KeyboardInterrupt(), 130, id="interrupt"),
])
def test_exit_code_maps_each_branch(exc: BaseException, code: int) -> None:
    assert exit_code(exc) == code


def test_format_error_shows_location_message_and_hint() -> None:
    exc = UserError("unknown indicator 'rsii'", location="s.yaml:14:11", hint="did you mean 'rsi'?")
    assert format_error(exc) == "s.yaml:14:11: error: unknown indicator 'rsii'\nhint: did you mean 'rsi'?"


def test_format_error_of_a_usage_error_names_the_option() -> None:
    exc = UsageError("0 is not a number of folds", location="--walk-forward", hint="use 2 or more")
    assert format_error(exc) == "--walk-forward: usage error: 0 is not a number of folds\nhint: use 2 or more"


def test_format_error_of_a_temporary_error_says_when_to_retry() -> None:
    assert format_error(TemporaryError("rate limited", delay=30)) == (
        "error: rate limited\nhint: this may pass; try again in 30 s")


def test_format_error_of_a_manifest_error_lists_its_diagnostics() -> None:
    diag = Diagnostic("s.yaml", Pos(3, 5), "K001", "unknown kind 'Stratgy'", "did you mean 'Strategy'?")
    text = format_error(ManifestError([diag]))
    assert text.startswith("s.yaml:3:5: error[K001]: unknown kind 'Stratgy'") and "did you mean" in text


def test_format_error_of_a_bug_is_one_line_and_says_how_to_see_more() -> None:
    assert format_error(ZeroDivisionError("division by zero")) == (
        "error: ZeroDivisionError: division by zero\n(set SUPERBOT_DEBUG=1 for the traceback)")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(("argv", "needle"), [
    pytest.param(["backtest", STRATEGY, "--fee", "-1"], "--fee -1.0 is a fraction per side", id="backtest-fee"),
    pytest.param(["backtest", STRATEGY, "--balance", "0"], "--balance 0.0 must be positive", id="backtest-balance"),
    pytest.param(["backtest", STRATEGY, "--slippage", "-3"], "--slippage", id="backtest-slippage"),
    pytest.param(["backtest", STRATEGY, "--from", "yesterday-ish"], "--from 'yesterday-ish' is not", id="backtest-from"),
    pytest.param(["backtest", STRATEGY, "--price-tick", "-0.1"], "--price-tick -0.1", id="backtest-tick"),
    pytest.param(["backtest", STRATEGY, "--gaps", "ignore"], "'ignore' is not one of", id="backtest-gaps"),
    pytest.param(["backtest", "list", "--limit", "0"], "--limit", id="backtest-list-limit"),
    pytest.param(["optimize", STRATEGY, "--trials", "0"], "--trials", id="optimize-trials"),
    pytest.param(["optimize", STRATEGY, "--fee", "-1"], "--fee -1.0", id="optimize-fee"),
    pytest.param(["optimize", STRATEGY, "--objective", "sharpe +"], "objective 'sharpe +'", id="optimize-objective"),
    pytest.param(["optimize", STRATEGY, "--stages", "risk,exits"], "unknown stage 'exits'", id="optimize-stages"),
    pytest.param(["optimize", STRATEGY, "--timeout", "0"], "--timeout", id="optimize-timeout"),
    pytest.param(["optimize", STRATEGY, "--walk-forward", "1"], "--walk-forward 1", id="optimize-walk-forward"),
    pytest.param(["data", "synth", "--days", "0"], "--days", id="data-synth-days"),
    pytest.param(["data", "gaps", "--symbol", "BTCUSDT"], "BTCUSDT", id="data-symbol"),
    pytest.param(["data", "download", "--exchange", "binanse", "--symbols", "BTC/USDT", "--since", "2024-01-01"],
                 "did you mean 'binance'", id="data-exchange"),
    pytest.param(["apply"], "give the deployment file once", id="apply-no-file"),
    pytest.param(["indicators", "rsii"], "unknown indicator 'rsii'", id="indicators-unknown"),
])
def test_bad_option_value_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, argv: list[str], needle: str) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    code, err = _run(capsys, *argv)
    assert code == 2, err
    assert needle in err


def test_bad_file_content_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: x}\nspec: {timeframe: 7m}\n")
    for command in ("backtest", "optimize", "compile"):
        code, err = _run(capsys, command, str(bad))
        assert code == 1 and f"{bad}:4:" in err, (command, err)


def test_bad_candle_file_content_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = tmp_path / "BTC_USDT-1h.csv"
    csv.write_text("time,open,high,low,close,volume\n2024-01-01,1,0.5,1,1,1\n")
    code, err = _run(capsys, "data", "import", str(csv), "--store", str(tmp_path / "store"))
    assert code == 1 and "bad row" in err


@pytest.mark.parametrize("command", ["backtest", "optimize", "compile"])
def test_deployment_given_to_a_strategy_command_points_to_apply(capsys: pytest.CaptureFixture[str],
                                                                command: str) -> None:
    code, err = _run(capsys, command, DEPLOYMENT)
    assert code == 1
    assert "this file is a Deployment; this command takes a Strategy" in err
    assert f"superbot apply {DEPLOYMENT}" in err


def test_strategy_given_to_apply_points_to_backtest(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "apply", STRATEGY)
    assert code == 1 and f"superbot backtest {STRATEGY}" in err


def test_apply_with_bad_account_in_the_file_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.cli.apply_cmds import _settings

    dep = SimpleNamespace(file=str(tmp_path / "dep.yaml"), spec={"account": {"fee": 0.5}}, risk=None)
    with pytest.raises(UserError) as info:
        _settings(dep, ())  # type: ignore[arg-type]  # a stub with the fields _settings reads
    assert exit_code(info.value) == 1 and info.value.location == str(tmp_path / "dep.yaml")
