"""The stored studies: list them, and find one by name with a suggestion when it is missing.

`superbot optimize list` and `superbot params apply STUDY` read studies
written by earlier runs, from the local journals (one file per study, plus
the single file older versions wrote) or from a `--storage` database. A
study is named `RUN.STAGE` (`RUN.foldK.STAGE` in walk-forward), so a run's
stages are grouped back under its name here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import optuna

from dsl.errors import UsageError
from dsl.suggest import closest
from engine.optimize.storage import journal_path, open_storage, studies_dir

__all__ = ["StoredStudy", "StudyNotFoundError", "find_study", "list_studies", "run_name"]

_STAGE = re.compile(r"\.(?:fold\d+\.)?(?:all|indicators|exit|risk)$")


class StudyNotFoundError(UsageError, KeyError):
    """No study of that name in the storage: the hint names the closest ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class StoredStudy:
    name: str                    # what `params apply` takes
    trials: int                  # completed trials
    best_value: float | None     # the best finite objective value
    last: datetime | None        # when its last trial finished
    source: str                  # the journal file or the database URL it was read from

    @property
    def run(self) -> str:
        return run_name(self.name)

    @property
    def stage(self) -> str:
        return self.name[len(self.run) + 1:]


def run_name(study: str) -> str:
    """`rsi-20250101-120000.fold1.exit` -> `rsi-20250101-120000`: the optimization run it belongs to."""
    return _STAGE.sub("", study)


def _summaries(storage: optuna.storages.BaseStorage, source: str) -> list[StoredStudy]:
    out = []
    done = (optuna.trial.TrialState.COMPLETE,)
    for study in storage.get_all_studies():
        study_id = storage.get_study_id_from_name(study.study_name)
        trials = storage.get_all_trials(study_id, deepcopy=False, states=done)
        finite = [t.value for t in trials if t.value is not None and t.value != float("-inf")]
        ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
        out.append(StoredStudy(study.study_name, len(trials), max(finite) if finite else None,
                               max(ends) if ends else None, source))
    return out


def list_studies(url: str | None = None) -> list[StoredStudy]:
    """Every stored study, oldest last trial first (the local journals, or the database at `url`)."""
    if url is not None:
        studies = _summaries(open_storage(url), url)
    else:
        studies = []
        legacy = journal_path(None)
        for path in sorted(studies_dir().glob("*.journal")):
            if path == legacy and not path.stat().st_size:
                continue
            studies.extend(_summaries(open_storage(f"journal:{path}"), str(path)))
    return sorted(studies, key=lambda s: (s.last or datetime.min, s.name))


def find_study(name: str, url: str | None = None) -> optuna.Study:
    """The study called `name`; a `StudyNotFoundError` naming the closest stored names otherwise.

    Locally: the study's own journal, then the single file older versions wrote.
    """
    if url is not None:
        storages = [open_storage(url)]
    else:  # only existing files: opening a journal creates it
        storages = [open_storage(None, n) for n in (name, None) if journal_path(n).exists()]
    for storage in storages:
        try:
            return optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            continue
    names = [s.name for s in list_studies(url)]
    where = url or "the local journals"
    near = closest(name, names, n=3)
    if near:
        hint = "did you mean " + " or ".join(f"'{n}'" for n in near) + "?"
    elif names:
        hint = "stored studies: " + ", ".join(names[-10:]) + ("" if len(names) <= 10 else " (newest 10; "
                                                               "`superbot optimize list` shows all)")
    else:
        hint = "no study is stored there yet: run `superbot optimize` first"
    raise StudyNotFoundError(f"no study named '{name}' in {where}", location="STUDY", hint=hint)
