"""Kept backtest runs: SQLite in a temporary directory, and the real PostgreSQL server."""
from __future__ import annotations

import dataclasses
import importlib
import os
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy

from engine.kernel.trades import EXIT_REASONS, RECORD_FIELDS, TRADE_FIELDS, SimResult, Trades
from engine.metrics import compute_metrics
from engine.store import (
    AmbiguousRunIdError,
    RunNotFoundError,
    RunStore,
    StoreUnavailableError,
    data_dir,
    database_url,
)

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HOUR = 3_600_000


def make_result(profits: list[float]) -> SimResult:
    n = len(profits)
    entry = np.arange(n, dtype=np.int64) * 2
    ratio = np.asarray(profits, dtype=np.float64)
    trades = Trades(
        symbol=(np.arange(n) % 2).astype(np.int32), side=np.ones(n, np.int8),
        entry_index=entry, exit_index=entry + 1, entry_time=T0 + entry * HOUR,
        exit_time=T0 + (entry + 1) * HOUR, entry_price=np.full(n, 100.0),
        exit_price=100.0 * (1 + ratio), amount=np.ones(n), stake=np.full(n, 100.0),
        profit_ratio=ratio, profit_abs=ratio * 100.0, fees=np.full(n, 0.2),
        exit_reason=np.full(n, EXIT_REASONS.index("exit_signal"), np.int8))
    bars = 2 * n + 2
    equity = 1000.0 + np.cumsum(np.bincount(entry + 1, weights=ratio * 100.0, minlength=bars))
    return SimResult(("BTC/USDT", "ETH/USDT"), "1h",
                     T0 + np.arange(bars, dtype=np.int64) * HOUR, trades, equity, 1000.0)


def save(store: RunStore, profits: list[float], *, rsi_buy: int = 30,
         created_at: datetime | None = None, digest: str = "a1b2c3d4e5f60718") -> str:
    result = make_result(profits)
    return store.save_run(result, strategy_name="rsi_dip", strategy_hash=digest,
                          params={"rsi_buy": rsi_buy, "rsi_sell": 70},
                          metrics=compute_metrics(result),
                          settings={"fee": 0.001, "slippage_bps": 0},
                          created_at=created_at)


@pytest.fixture
def store(tmp_path):
    with RunStore(f"sqlite:///{tmp_path / 'runs' / 'superbot.db'}") as s:
        yield s


def test_save_run_then_get_run_round_trips(store):
    run_id = save(store, [0.1, -0.05, 0.02])
    run = store.get_run(run_id)
    assert (run.id, run.strategy_name, run.strategy_hash) == (run_id, "rsi_dip",
                                                              "a1b2c3d4e5f60718")
    assert (run.timeframe, run.symbols) == ("1h", ("BTC/USDT", "ETH/USDT"))
    assert (run.data_start, run.data_end) == ("2024-01-01T00:00:00Z", "2024-01-01T08:00:00Z")
    assert run.params == {"rsi_buy": 30, "rsi_sell": 70}
    assert run.settings == {"fee": 0.001, "slippage_bps": 0}
    assert run.metrics["n_trades"] == 3 and run.n_trades == 3
    assert run.total_return == pytest.approx(0.007)
    assert run.created_at.tzinfo is not None


def test_get_run_trades_match_the_kernel_records(store):
    result = make_result([0.1, -0.05])
    run_id = store.save_run(result, strategy_name="s", strategy_hash="h", params={},
                            metrics=compute_metrics(result))
    assert store.get_run(run_id).trades == result.trades.to_records(result.symbols)


def test_trade_record_keys_are_the_record_fields_in_order():
    result = make_result([0.1, -0.05])

    [record, _] = result.trades.to_records(result.symbols)

    assert tuple(record) == RECORD_FIELDS
    assert (record["symbol"], record["side"], record["entry_time"], record["exit_reason"]) == (
        "BTC/USDT", "long", "2024-01-01T00:00:00Z", "exit_signal")


def test_trade_table_has_one_column_per_trade_field():
    from engine.store.schema import TRADES

    assert [c.name for c in TRADES.columns] == ["run_id", "seq", *(f.column for f in TRADE_FIELDS)]
    assert [f.name for f in TRADE_FIELDS] == [f.name for f in dataclasses.fields(Trades)]
    assert {f.column for f in TRADE_FIELDS if f.kind == "time"} == {"entry_time_ms", "exit_time_ms"}


def test_get_run_accepts_a_unique_prefix(store):
    run_id = save(store, [0.1])
    assert store.get_run(run_id[:6].upper()).id == run_id


def test_get_run_unknown_id_names_the_next_step(store):
    with pytest.raises(RunNotFoundError) as error:
        store.get_run("deadbeef")
    assert str(error.value) == ("no backtest run matches 'deadbeef'; "
                                "`superbot backtest list` shows the kept runs")


def test_get_run_ambiguous_prefix_asks_for_more_characters(store):
    ids = [save(store, [0.01]) for _ in range(17)]  # 17 ids, 16 first digits: a clash
    first = {i[0] for i in ids}
    prefix = next(c for c in sorted(first) if sum(i.startswith(c) for i in ids) > 1)
    with pytest.raises(AmbiguousRunIdError, match="give more characters of the id"):
        store.get_run(prefix)


def test_list_runs_newest_first(store):
    now = datetime(2024, 5, 1, tzinfo=UTC)
    older = save(store, [0.1], created_at=now - timedelta(days=1))
    newer = save(store, [-0.1], created_at=now)
    runs = store.list_runs()
    assert [r.id for r in runs] == [newer, older]
    assert runs[0].total_return == pytest.approx(-0.01)
    assert runs[0].sharpe == runs[0].sharpe  # present, not NaN
    assert store.list_runs(limit=1)[0].id == newer
    assert store.list_runs(strategy="other") == []


def test_compare_runs_deltas_and_param_changes(store):
    a = save(store, [0.1, 0.1], rsi_buy=30)
    b = save(store, [0.1, -0.05], rsi_buy=25, digest="ffffffffffffffff")
    comparison = store.compare_runs(a[:10], b[:10])
    deltas = {m.key: m for m in comparison.metrics}
    assert deltas["total_return"].delta == pytest.approx(0.005 - 0.02)
    assert deltas["n_trades"].delta == 0
    assert [(c.op, c.path, c.old, c.new) for c in comparison.params] == [
        ("~", "rsi_buy", 30, 25)]
    assert comparison.notes == (("strategy content differs: a1b2c3d4e5f60718 vs "
                                "ffffffffffffffff"),)


def test_compare_runs_notes_settings_but_not_timings(store):
    result = make_result([0.1])
    ids = [store.save_run(result, strategy_name="s", strategy_hash="h", params={},
                          metrics=compute_metrics(result),
                          settings={"fee": fee, "timings_ms": {"simulate": ms}})
           for fee, ms in ((0.001, 5.0), (0.001, 7.0), (0.002, 5.0))]
    assert store.compare_runs(ids[0], ids[1]).notes == ()
    assert store.compare_runs(ids[0], ids[2]).notes == ("different settings: fee",)


def test_run_store_reopens_the_same_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'superbot.db'}"
    with RunStore(url) as first:
        run_id = save(first, [0.1])
    with RunStore(url) as second:
        assert second.get_run(run_id).n_trades == 1


def test_run_store_unreachable_server_names_the_masked_url_and_what_to_check():
    with pytest.raises(StoreUnavailableError) as err:
        RunStore("postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2")

    assert str(err.value).startswith("cannot reach the database "
                                     "postgresql+psycopg://nobody:***@127.0.0.1:1/none")
    assert "secret" not in str(err.value)
    assert err.value.location == "the database URL"
    assert err.value.hint is not None and err.value.hint.startswith(
        "check the URL given by the database URL (user, password, host, port, database name)")


def test_optimize_storage_unreachable_names_the_masked_url_and_the_option():
    from engine.optimize.storage import open_storage

    with pytest.raises(StoreUnavailableError) as err:
        open_storage("postgresql+psycopg://bob:hunter2@127.0.0.1:1/studies?connect_timeout=2")

    assert str(err.value).startswith("cannot reach the database "
                                     "postgresql+psycopg://bob:***@127.0.0.1:1/studies")
    assert "hunter2" not in str(err.value) + str(err.value.hint)
    assert err.value.location == "--storage"


def test_run_store_at_the_current_revision_runs_no_migration(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'superbot.db'}"
    RunStore(url).close()                                    # creates and migrates
    calls = []
    monkeypatch.setattr("engine.store.migrate.upgrade", lambda engine: calls.append(engine))

    with RunStore(url) as again:
        save(again, [0.1])

    assert calls == []


def test_run_store_behind_the_current_revision_migrates(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'superbot.db'}"
    RunStore(url).close()
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("update alembic_version set version_num = 'old'"))
    engine.dispose()
    calls = []
    monkeypatch.setattr("engine.store.migrate.upgrade", lambda engine: calls.append(engine))

    RunStore(url).close()

    assert len(calls) == 1


def test_migrate_head_is_the_newest_migration_script():
    from alembic.script import ScriptDirectory

    from engine.store.migrate import HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


def test_data_dir_prefers_superbot_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "home"


def test_data_dir_falls_back_to_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SUPERBOT_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "superbot"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir() == tmp_path / ".local" / "share" / "superbot"


def test_database_url_defaults_to_sqlite_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    monkeypatch.delenv("SUPERBOT_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'superbot.db'}"
    monkeypatch.setenv("SUPERBOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite://") == "sqlite://"


def test_open_store_default_creates_the_database_under_superbot_home(monkeypatch, tmp_path):
    from engine.store import open_store
    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path / "sb"))
    monkeypatch.delenv("SUPERBOT_DATABASE_URL", raising=False)
    with open_store() as store:
        save(store, [0.1])
    assert (tmp_path / "sb" / "superbot.db").is_file()


def _postgres_url() -> str | None:
    import psycopg
    for user in ("postgres", "root"):
        try:
            psycopg.connect(f"host=127.0.0.1 port=5432 dbname=test user={user}",
                            connect_timeout=3).close()
        except psycopg.OperationalError:
            continue
        return f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
    return None


@pytest.fixture
def postgres_store():
    url = _postgres_url()
    if url is None:
        reason = "PostgreSQL at 127.0.0.1:5432 (database test, user postgres or root) not reachable"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " and CI=true: this test must run")
        pytest.skip(reason)
    schema = f"superbot_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    engine = sqlalchemy.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield RunStore(engine=engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_run_store_on_postgresql_saves_lists_gets_and_compares(postgres_store):
    a = save(postgres_store, [0.1, -0.05, 0.02])
    b = save(postgres_store, [0.03], rsi_buy=25)
    assert {r.id for r in postgres_store.list_runs()} == {a, b}
    run = postgres_store.get_run(a[:8])
    assert run.trades == make_result([0.1, -0.05, 0.02]).trades.to_records(run.symbols)
    assert run.metrics["n_trades"] == 3
    comparison = postgres_store.compare_runs(a, b)
    assert [(c.op, c.path) for c in comparison.params] == [("~", "rsi_buy")]


@pytest.mark.parametrize("module", ["engine.store", "engine.store.runs", "engine.store.paths",
                                    "engine.store.records", "engine.store.compare",
                                    "engine.store.schema", "engine.store.errors",
                                    "engine.store.migrate", "engine.store.direct", "engine.store.rows"])
def test_store_modules_export_what_they_define(module):
    mod = importlib.import_module(module)
    assert all(hasattr(mod, name) for name in mod.__all__)
    public = {n for n, v in vars(mod).items() if not n.startswith("_")
              and getattr(v, "__module__", None) == mod.__name__}
    assert public <= set(mod.__all__)


def test_trade_records_equal_the_records_of_their_plain_values():
    from engine.kernel.trades import record_from_plain

    result = make_result([0.1, -0.05, 0.3])
    plain = result.trades.plain(result.symbols)
    rows = [dict(zip(plain, values, strict=True)) for values in zip(*plain.values(), strict=True)]

    assert result.trades.to_records(result.symbols) == [record_from_plain(r) for r in rows]


def test_keep_run_into_current_sqlite_never_imports_sqlalchemy(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'superbot.db'}"
    RunStore(url).close()                                    # the database exists, at the head
    code = (
        "import sys, numpy as np\n"
        "from engine.kernel.trades import SimResult, Trades\n"
        "from engine.store.direct import keep_run\n"
        "z = np.zeros(0)\n"
        "result = SimResult(('BTC/USDT',), '1h', np.arange(3, dtype=np.int64) * 3600000,\n"
        "                   Trades(*(z for _ in range(14))), np.ones(3), 1000.0)\n"
        f"run_id = keep_run(result, strategy_name='s', strategy_hash='h', params={{}}, metrics={{}}, url={url!r})\n"
        "print(run_id, any(m.split('.')[0] == 'sqlalchemy' for m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()

    assert out[1] == "False"
    with RunStore(url) as store:
        assert store.get_run(out[0]).strategy_name == "s"


def test_keep_run_direct_rows_read_back_like_runstore_rows(tmp_path):
    from engine.store.direct import keep_run

    url = f"sqlite:///{tmp_path / 'superbot.db'}"
    result = make_result([0.1, -0.05, 0.02])
    metrics = compute_metrics(result)
    with RunStore(url) as store:
        via_orm = store.get_run(store.save_run(result, strategy_name="rsi_dip", strategy_hash="h",
                                               params={"rsi_buy": 30}, metrics=metrics,
                                               settings={"fee": 0.001}))
    direct_id = keep_run(result, strategy_name="rsi_dip", strategy_hash="h", params={"rsi_buy": 30},
                         metrics=metrics, settings={"fee": 0.001}, url=url)
    with RunStore(url) as store:
        direct = store.get_run(direct_id)

    assert direct.created_at.tzinfo is not None
    assert abs((direct.created_at - via_orm.created_at).total_seconds()) < 60
    same = {"id", "created_at"}
    assert {k: v for k, v in direct.to_dict().items() if k not in same} == \
           {k: v for k, v in via_orm.to_dict().items() if k not in same}
    assert direct.trades == via_orm.trades == result.trades.to_records(result.symbols)


def test_keep_run_into_a_new_database_creates_it_through_runstore(tmp_path):
    from engine.store.direct import keep_run

    url = f"sqlite:///{tmp_path / 'new' / 'superbot.db'}"
    result = make_result([0.1])
    run_id = keep_run(result, strategy_name="s", strategy_hash="h", params={}, metrics=compute_metrics(result),
                      url=url)

    with RunStore(url) as store:
        assert store.get_run(run_id).n_trades == 1


def test_optimize_with_an_unreachable_storage_exits_1_naming_the_masked_url(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from engine.cli.app import main

    monkeypatch.setenv("SUPERBOT_HOME", str(tmp_path))
    strategy = Path(__file__).resolve().parent.parent / "strategies" / "rsi_mean_reversion.yaml"
    code = main(["optimize", str(strategy), "--storage",
                 "postgresql+psycopg://bob:hunter2@127.0.0.1:1/studies?connect_timeout=2",
                 "--study", "s", "--trials", "1"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "cannot reach the database postgresql+psycopg://bob:***@127.0.0.1:1/studies" in err
    assert "hunter2" not in err
