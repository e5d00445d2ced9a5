"""Where optimizer trials are kept: batched local journals, worker processes, shared PostgreSQL studies."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from _market import random_candles, write_candle_json
from _optimize import STAGED

from engine.optimize.storage import LocalJournal, TrialMirror, journal_path, local_storage

ROOT = Path(__file__).resolve().parents[1]
PG_BASE = os.environ.get("SUPERBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")



@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))


def _trial(number: int) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(params={"x": number}, value=float(number),
                                     distributions={"x": optuna.distributions.IntDistribution(0, 1000)})


# --- the local journal ------------------------------------------------------------------------

def test_each_study_has_its_own_journal_file() -> None:
    assert journal_path("a.all") != journal_path("b.all")
    assert journal_path("a/../b").parent == journal_path("x").parent  # a name never escapes the directory


def test_mirror_writes_a_batch_of_trials_as_one_append(monkeypatch: pytest.MonkeyPatch) -> None:
    target = optuna.create_study(study_name="batched", storage=local_storage("batched"))
    appends: list[int] = []
    original = optuna.storages.journal.JournalFileBackend.append_logs

    def counting(self: optuna.storages.journal.JournalFileBackend, logs: list[dict[str, object]]) -> None:
        appends.append(len(logs))
        original(self, logs)

    monkeypatch.setattr(optuna.storages.journal.JournalFileBackend, "append_logs", counting)
    trials = [_trial(k) for k in range(50)]
    mirror = TrialMirror(lambda: trials, target, every_s=3600)
    mirror.flush()
    trials += [_trial(k) for k in range(50, 60)]
    mirror.maybe_flush()  # not due yet
    assert appends == [50]
    mirror.flush()
    assert appends == [50, 10]
    reread = optuna.load_study(study_name="batched", storage=LocalJournal(journal_path("batched")))
    assert [t.params["x"] for t in reread.trials] == list(range(60))
    assert [t.value for t in reread.trials] == [float(k) for k in range(60)]


def test_a_journal_written_by_another_process_during_a_batch_stays_readable() -> None:
    mine = LocalJournal(journal_path("shared-file"))
    study = optuna.create_study(study_name="mine", storage=mine)
    with mine.file.batch():
        study.add_trials([_trial(k) for k in range(5)])
        other = optuna.create_study(study_name="other", storage=LocalJournal(journal_path("shared-file")))
        other.add_trial(_trial(99))
    fresh = LocalJournal(journal_path("shared-file"))
    assert [t.params["x"] for t in optuna.load_study(study_name="mine", storage=fresh).trials] == list(range(5))
    assert [t.params["x"] for t in optuna.load_study(study_name="other", storage=fresh).trials] == [99]


# --- worker processes -------------------------------------------------------------------------

def test_jobs_never_fork_this_process_and_pass_warnings_as_errors(tmp_path: Path) -> None:
    """`--jobs` workers start by forkserver/spawn: os.fork in this (threaded) process would fail here.

    Python 3.12 warns (DeprecationWarning) when a multi-threaded process forks; `-W error` makes
    that warning fail the run, and the patched os.fork fails it on any version.
    """
    script = textwrap.dedent(f"""
        import os, sys, threading, time
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()  # a threaded parent
        def no_fork():
            raise AssertionError("os.fork called in the optimizing process")
        os.fork = no_fork
        import optuna
        from _market import random_candles
        from compiler.validate import strategy_from_text
        from engine.backtest.market import Market
        from engine.backtest.session import BacktestSession
        from engine.backtest.settings import BacktestSettings
        from engine.optimize.objective import make_objective
        from engine.optimize.run import OptimizeOptions, optimize
        from engine.optimize.storage import local_storage
        strategy = strategy_from_text(open({str(tmp_path / 's.yaml')!r}).read())
        c = random_candles(2000, "5m", seed=5)
        market = Market((c.symbol,), c.timeframe, {{c.symbol: c}}, {{c.symbol: 0}}, "test")
        session = BacktestSession(strategy, market, BacktestSettings(fee=0.001), 0)
        if __name__ == "__main__":
            optimize(session, OptimizeOptions(objective=make_objective("profit"), trials=21, sampler="grid",
                                              stages="exit", jobs=2, study="forkless"))
            done = optuna.load_study(study_name="forkless.exit", storage=local_storage("forkless.exit")).trials
            print(sorted(t.params["sell"] for t in done if t.state.is_finished() and t.value is not None))
    """)
    (tmp_path / "s.yaml").write_text(STAGED)
    (tmp_path / "run.py").write_text(script)
    env = {**os.environ, "SUPERBOT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-W", "error", str(tmp_path / "run.py")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == list(range(60, 81))


# --- a study shared on PostgreSQL ---------------------------------------------------------------

@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A new, empty PostgreSQL database (no Optuna tables yet), dropped afterwards."""
    try:
        import sqlalchemy
        admin = sqlalchemy.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect():
            pass
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {PG_BASE}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run this test)")
        pytest.skip(reason)
    name = f"test_optuna_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_BASE.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_workers_opening_a_fresh_postgresql_database_at_once_all_succeed(fresh_pg: str) -> None:
    """Three processes create Optuna's schema together (without the lock, PostgreSQL rejects all but one)."""
    code = "import sys; from engine.optimize.storage import open_storage; open_storage(sys.argv[1]).engine.dispose()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, fresh_pg], stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e[-1500:] for e in errors]


def _candle_file(tmp_path: Path) -> Path:
    return write_candle_json(tmp_path / "TEST_USDT-5m.json", random_candles(2500, "5m", seed=31, symbol="TEST/USDT"))


def test_two_workers_share_one_study_on_a_fresh_postgresql_database_without_duplicates(
        tmp_path: Path, fresh_pg: str) -> None:
    strategy = tmp_path / "s.yaml"
    strategy.write_text(STAGED)
    data = _candle_file(tmp_path)
    cmd = [sys.executable, "-c", "import superbot,sys; sys.exit(superbot.main(sys.argv[1:]))", "optimize",
           str(strategy), "--data", str(data), "--stages", "exit", "--sampler", "grid", "--trials", "21",
           "--storage", fresh_pg, "--study", "shared", "--json"]
    env = {**os.environ, "SUPERBOT_HOME": str(tmp_path / "home")}
    workers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), [o[1][-2000:] for o in outputs]
    storage = optuna.storages.RDBStorage(fresh_pg)
    try:
        shared = optuna.load_study(study_name="shared.exit", storage=storage)
        done = [t for t in shared.trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert sorted(t.params["sell"] for t in done) == list(range(60, 81))
    finally:
        storage.engine.dispose()
