"""Where trials are kept, chosen so bookkeeping never dominates a millisecond trial.

* Default (local): the trial loop runs on Optuna's in-memory storage (about
  0.1 ms a trial); finished trials are copied in bulk into a journal file
  under the user's data directory every couple of seconds, at the end, and on
  Ctrl-C. So every finished trial is kept, and `superbot params apply STUDY`
  can read any study later.
* `--storage URL` (PostgreSQL, or any SQLAlchemy URL): Optuna's RDB storage
  is used directly in the loop, so workers on several machines share one study.
* `--jobs N` (local processes): the workers share the journal file directly
  (it is safe for several processes on one machine).
"""
from __future__ import annotations

import time
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from engine.data.home import data_home

__all__ = ["TrialMirror", "journal_path", "local_storage", "open_storage"]


def journal_path() -> Path:
    path = data_home() / "optuna" / "studies.journal"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def local_storage() -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(journal_path())))


def open_storage(url: str | None) -> BaseStorage:
    """The persistent storage: the local journal by default, else the given database URL."""
    if url is None:
        return local_storage()
    if url.startswith("journal:"):
        return JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
    from sqlalchemy.exc import ArgumentError, OperationalError

    from engine.store.errors import unreachable
    try:
        return RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
    except (OperationalError, ArgumentError) as error:   # server down, wrong URL or driver
        raise unreachable(url, error, source="--storage") from None


class TrialMirror:
    """Copies finished trials of a fast in-memory study into a persistent study in bulk."""

    def __init__(self, source: optuna.Study, target: optuna.Study, every_s: float = 2.0):
        self.source, self.target, self.every_s = source, target, every_s
        self._copied = 0
        self._last = time.monotonic()

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        pending = self.source.get_trials(deepcopy=False)[self._copied:]
        done = []
        for t in pending:  # a finished prefix only, so trial order is preserved
            if not t.state.is_finished():
                break
            done.append(t)
        if done:
            self.target.add_trials(done)
            self._copied += len(done)
        self._last = time.monotonic()

