"""Running a study: trials through the compiled strategy, bookkeeping kept out of the way.

Steps of `run_stage`:
1. the sampler: Optuna's TPE, random or CMA-ES; the grid is enumerated here
   and enqueued, so picking the next point costs nothing (Optuna's own
   GridSampler rescans every trial for each new one);
2. the trial loop (`_loop`): ask -> `TrialRunner` (compile with the trial's
   params, evaluate through the session's cached DAG, run the kernel,
   objective) -> tell; Ctrl-C ends it cleanly between trials;
3. bookkeeping (`engine.optimize.storage`): in-memory study mirrored in bulk
   to the local journal, or an RDB study shared by workers on other machines;
   with `jobs > 1`, forked workers share the candles copy-on-write and the
   journal file.
"""
from __future__ import annotations

import multiprocessing
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from compiler.strategy import ParamDef
from engine.backtest.session import BacktestSession
from engine.optimize.objective import Objective
from engine.optimize.space import distribution, grid_points
from engine.optimize.storage import TrialMirror, open_storage

__all__ = ["SAMPLERS", "StageResult", "TrialRunner", "run_stage"]

SAMPLERS = ("tpe", "random", "grid", "cmaes")
optuna.logging.set_verbosity(optuna.logging.WARNING)


class TrialRunner:
    """Params -> objective value, on one span of a session's history."""

    def __init__(self, session: BacktestSession, objective: Objective, fixed: Mapping[str, Any],
                 span: tuple[int, int] | None = None):
        self.session, self.objective, self.fixed, self.span = session, objective, dict(fixed), span

    def __call__(self, params: Mapping[str, Any]) -> tuple[float, int]:
        result = self.session.result({**self.fixed, **params}, self.span)
        return self.objective(result), len(result.trades)


@dataclass
class StageResult:
    stage: str
    study: str
    best_params: dict[str, Any]
    best_value: float | None
    n_trials: int
    elapsed_ms: float
    interrupted: bool
    trials: list[dict[str, Any]] = field(default_factory=list)
    importance: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.RandomSampler(seed=seed)  # also serves enqueued grid points


def _grid(dims: list[ParamDef], trials: int | None, seed: int | None) -> list[dict[str, Any]]:
    points = list(grid_points(dims))
    if trials is not None and trials < len(points):
        random.Random(seed).shuffle(points)  # a partial grid still spans the space
        points = points[:trials]
    return points


def _loop(study: optuna.Study, dists: dict[str, Any], runner: TrialRunner, n: int | None,
          deadline: float | None, on_trial: Callable[[optuna.Study], None]) -> bool:
    """Ask/tell until `n` trials, the deadline or Ctrl-C; True when interrupted."""
    done = 0
    try:
        while (n is None or done < n) and (deadline is None or time.monotonic() < deadline):
            trial = study.ask(dists)
            try:
                value, n_trades = runner(trial.params)
            except Exception:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            trial.set_user_attr("n_trades", n_trades)
            study.tell(trial, value)
            done += 1
            on_trial(study)
    except KeyboardInterrupt:
        return True
    return False


def _create(storage: Any, name: str, sampler: optuna.samplers.BaseSampler) -> tuple[optuna.Study, bool]:
    """(study, created here) — the creator is the one worker that enqueues a grid."""
    try:
        return optuna.create_study(storage=storage, study_name=name, sampler=sampler, direction="maximize"), True
    except optuna.exceptions.DuplicatedStudyError:
        return optuna.load_study(storage=storage, study_name=name, sampler=sampler), False


def _enqueue_grid(study: optuna.Study, points: list[dict[str, Any]], created: bool) -> None:
    if created:
        for point in points:
            study.enqueue_trial(point, skip_if_exists=False)
        study.set_user_attr("grid_ready", True)
        return
    deadline = time.monotonic() + 60
    while not study.user_attrs.get("grid_ready") and time.monotonic() < deadline:
        time.sleep(0.2)  # another worker is enqueueing the grid


def _waiting(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


def _records(study: optuna.Study) -> list[dict[str, Any]]:
    out = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        value = t.value if t.value is not None and t.value != float("-inf") else None
        out.append({"number": t.number, "params": dict(t.params), "value": value,
                    "n_trades": t.user_attrs.get("n_trades")})
    return out


def _importance(study: optuna.Study) -> dict[str, float]:
    finite = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
              if t.value is not None and t.value != float("-inf")]
    if len(finite) < 4:
        return {}
    try:
        clean = optuna.create_study(direction="maximize")
        clean.add_trials(finite)
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        return {k: float(v) for k, v in optuna.importance.get_param_importances(clean, evaluator=evaluator).items()}
    except Exception:  # importance is a courtesy; too few distinct values make it undefined
        return {}


def _best(study: optuna.Study) -> tuple[dict[str, Any], float | None]:
    records = [r for r in _records(study) if r["value"] is not None]
    if not records:
        return {}, None
    best = max(records, key=lambda r: r["value"])
    return best["params"], best["value"]


def run_stage(runner: TrialRunner, dims: list[ParamDef], *, stage: str, study_name: str,
              sampler: str = "tpe", seed: int | None = None, trials: int | None = 100,
              timeout: float | None = None, storage_url: str | None = None, jobs: int = 1,
              on_progress: Callable[[int, float | None], None] | None = None) -> StageResult:
    """Optimize `dims` (the other params fixed in `runner`) and return the stage's best."""
    dists = {p.name: distribution(p) for p in dims}
    points = _grid(dims, trials, seed) if sampler == "grid" else None
    n = len(points) if points is not None else trials
    if n is None and timeout is None:
        raise ValueError("give --trials or --timeout (or both)")
    deadline = None if timeout is None else time.monotonic() + timeout
    persistent = open_storage(storage_url)
    shared = storage_url is not None or jobs > 1
    best_seen: list[float | None] = [None]

    def progress(study: optuna.Study) -> None:
        last = study.get_trials(deepcopy=False)[-1]
        if last.value is not None and last.value != float("-inf") and (best_seen[0] is None or last.value > best_seen[0]):
            best_seen[0] = last.value
        if on_progress:
            on_progress(1, best_seen[0])

    t0 = time.perf_counter()
    notes: list[str] = []
    if shared:
        # several workers, maybe on several machines: a common seed would make them all draw
        # the same points, so shared studies sample without one
        seed = None
        study, created = _create(persistent, study_name, _sampler(sampler, seed))
        if created:
            study.set_user_attr("frozen", _json_params(getattr(runner, "fixed", {})))
        if not created and study.user_attrs.get("grid_ready") and _waiting(study) == 0:
            done = len(_records(study))
            notes.append(f"study '{study_name}' has no trials left to run ({done} finished): its results "
                         "are shown; start workers with a new --study name to run more")
        if n is not None:
            # one WAITING slot per trial (grid points, or empty ones the sampler fills): workers
            # pop them atomically, so N trials are run exactly once however many workers join
            _enqueue_grid(study, points if points is not None else [{} for _ in range(n)], created)
        interrupted = _run_shared(study, storage_url, dists, runner, n, deadline, jobs, sampler, progress)
    else:
        study = optuna.create_study(sampler=_sampler(sampler, seed), direction="maximize")
        for point in points or ():
            study.enqueue_trial(point)
        target, _ = _create(persistent, study_name, _sampler(sampler, seed))
        target.set_user_attr("frozen", _json_params(getattr(runner, "fixed", {})))
        mirror = TrialMirror(study, target)

        def local_progress(s: optuna.Study) -> None:
            progress(s)
            mirror.maybe_flush()

        try:
            interrupted = _loop(study, dists, runner, n, deadline, local_progress)
        finally:
            mirror.flush()
    elapsed = (time.perf_counter() - t0) * 1e3
    params, value = _best(study)
    return StageResult(stage, study_name, params, value, len(_records(study)), elapsed, interrupted,
                       _records(study), _importance(study), notes)


def _json_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters frozen by earlier stages, kept with the study so `params apply` can use them."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()}


def _run_shared(study: optuna.Study, storage_url: str | None, dists: dict[str, Any], runner: TrialRunner,
                n: int | None,
                deadline: float | None, jobs: int, sampler: str,
                progress: Callable[[optuna.Study], None]) -> bool:
    """Workers on a shared storage: stop when the study holds `n` finished trials (or no grid is left)."""
    name = study.study_name

    def worker(seed_offset: int) -> bool:
        # a storage opened in this process: a journal's worker identity (which decides who owns
        # a popped trial) and a database connection must not be shared with a forked parent
        storage = open_storage(storage_url) if seed_offset else study._storage
        s = optuna.load_study(storage=storage, study_name=name, sampler=_sampler(sampler, seed_offset or None))
        while deadline is None or time.monotonic() < deadline:
            if n is not None and _waiting(s) == 0:
                break
            try:
                trial = s.ask(dists)
            except KeyboardInterrupt:
                return True
            if n is not None and trial.number >= n:
                # not one of the enqueued slots (numbered 0..n-1): another worker took the
                # last slot between our check and our ask
                s.tell(trial, state=optuna.trial.TrialState.FAIL)
                break
            try:
                value, n_trades = runner(trial.params)
            except KeyboardInterrupt:
                s.tell(trial, state=optuna.trial.TrialState.FAIL)
                return True
            trial.set_user_attr("n_trades", n_trades)
            s.tell(trial, value)
            progress(s)
        return False

    if jobs <= 1:
        return worker(0)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker, args=(i + 1,), daemon=True) for i in range(jobs)]
    for p in procs:
        p.start()
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    seen = len(study.get_trials(deepcopy=False, states=finished))
    try:
        while any(p.is_alive() for p in procs):  # the workers' trials, shown by this process
            for p in procs:
                p.join(timeout=0.5 / len(procs))
            now = len(study.get_trials(deepcopy=False, states=finished))
            for _ in range(now - seen):
                progress(study)
            seen = now
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        return True
    return False
