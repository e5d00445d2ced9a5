"""Where trials are kept, chosen so bookkeeping never dominates a millisecond trial.

* Default (local): the trial loop runs on Optuna's in-memory storage (or,
  for a grid, on no storage at all); finished trials are copied in bulk into
  the study's own journal file under the user's data directory
  (`$SUPERBOT_HOME/optuna/STUDY.journal`) every couple of seconds, at the
  end, and on Ctrl-C, as ONE append per batch (Optuna's journal would
  otherwise lock, write and fsync the file once per trial, which costs as much
  as the trial). So every finished trial is kept, and `superbot params apply
  STUDY` can read any study later (`superbot optimize list` lists them).
* `--storage URL` (PostgreSQL, or any SQLAlchemy URL): Optuna's RDB storage
  is used directly in the loop, so workers on several machines share one
  study. Workers that start together on a fresh database would race to create
  Optuna's tables (PostgreSQL then rejects one with a duplicate `pg_type`
  key), so the schema is created under a PostgreSQL advisory lock, and
  retried on other databases.
* `--jobs N` (local processes): the workers share the journal file directly
  (it is safe for several processes on one machine).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import quote

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from engine.data.home import data_home

__all__ = ["LocalJournal", "TrialMirror", "journal_path", "local_storage", "open_storage", "studies_dir"]


def studies_dir() -> Path:
    path = data_home() / "optuna"
    path.mkdir(parents=True, exist_ok=True)
    return path


def journal_path(study: str | None = None) -> Path:
    """The journal file of one local study (or, for None, the shared file older versions wrote).

    One file per study: opening a journal replays every line of it, so a
    single file holding every past study would make each new run slower.
    """
    if study is None:
        return studies_dir() / "studies.journal"
    return studies_dir() / f"{quote(study, safe='-_.')}.journal"


class _BatchingFile(JournalFileBackend):
    """A journal file whose appends inside `batch()` reach the file as one append (one fsync).

    While batching, reads see the file as it was at the batch's first read,
    then the batch's own logs: the journal's replay (which looks up the id of
    each trial it creates) stays consistent without touching the file again.
    Only `TrialMirror` batches, and it only writes complete trials, whose logs
    name no trial id: a process appending to the same file meanwhile cannot
    be confused by it.
    """

    def __init__(self, path: str):
        super().__init__(path)
        self._pending: list[dict[str, Any]] | None = None
        self._file_logs: int | None = None

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if self._pending is None:
            super().append_logs(logs)
        else:
            self._pending.extend(logs)

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        if self._pending is None:
            yield from super().read_logs(log_number_from)
            return
        if self._file_logs is None:  # the batch's first read: the file as it is now
            count = log_number_from
            for log in super().read_logs(log_number_from):
                count += 1
                yield log
            self._file_logs = count
        yield from self._pending[max(0, log_number_from - self._file_logs):]

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._pending, self._file_logs = [], None
        try:
            yield
        finally:
            logs, self._pending = self._pending, None
            if logs:
                super().append_logs(logs)


class LocalJournal(JournalStorage):
    """Optuna's journal storage on one file, with batched writes for `TrialMirror`."""

    def __init__(self, path: str | Path):
        self.file = _BatchingFile(str(path))
        super().__init__(self.file)


def local_storage(study: str | None = None) -> LocalJournal:
    return LocalJournal(journal_path(study))


def open_storage(url: str | None, study: str | None = None) -> BaseStorage:
    """The persistent storage: the study's local journal by default, else the given database URL."""
    if url is None:
        return local_storage(study)
    if url.startswith("journal:"):
        return LocalJournal(url.removeprefix("journal:"))
    from sqlalchemy.exc import ArgumentError, OperationalError

    from engine.store.errors import unreachable
    try:
        return _rdb_storage(url)
    except (OperationalError, ArgumentError) as error:   # server down, wrong URL or driver
        raise unreachable(url, error, source="--storage") from None


_SCHEMA_LOCK = 0x5375706572426F74  # pg_advisory_lock key: "SuperBot" in ASCII


def _rdb_storage(url: str, attempts: int = 5) -> RDBStorage:
    """Optuna's RDB storage, its schema created by one worker at a time.

    `RDBStorage(url)` creates Optuna's tables when they are missing; two
    processes doing so at once on PostgreSQL fail with a unique violation in
    `pg_type`. On PostgreSQL a session-level advisory lock serializes the
    creation (held only while the storage is opened); elsewhere the creation
    is retried, since the loser finds the tables made by the winner.
    """
    import sqlalchemy
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    kwargs = {"pool_pre_ping": True}
    if sqlalchemy.engine.make_url(url).get_backend_name() == "postgresql":
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK})
                try:
                    return RDBStorage(url, engine_kwargs=kwargs)
                finally:
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK})
                    conn.commit()
        finally:
            engine.dispose()
    for attempt in range(attempts - 1):
        try:
            return RDBStorage(url, engine_kwargs=kwargs)
        except (IntegrityError, ProgrammingError):
            time.sleep(0.1 * (attempt + 1))  # another worker is creating the same tables
    return RDBStorage(url, engine_kwargs=kwargs)


class TrialMirror:
    """Copies finished trials of a fast loop into a persistent study in bulk.

    `source()` returns the loop's trials so far (in order); a finished prefix
    is copied at most every `every_s` seconds, in one batched journal append.
    """

    def __init__(self, source: Callable[[], Sequence[optuna.trial.FrozenTrial]], target: optuna.Study,
                 every_s: float = 2.0):
        self.source, self.target, self.every_s = source, target, every_s
        self._copied = 0
        self._last = time.monotonic()

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        pending = self.source()[self._copied:]
        done = []
        for t in pending:  # a finished prefix only, so trial order is preserved
            if not t.state.is_finished():
                break
            done.append(t)
        if done:
            storage = self.target._storage  # the study's own storage: Study has no public accessor
            file = storage.file if isinstance(storage, LocalJournal) else None
            with file.batch() if file is not None else nullcontext():
                self.target.add_trials(done)
            self._copied += len(done)
        self._last = time.monotonic()
