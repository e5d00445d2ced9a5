"""Running a study: trials through the compiled strategy, bookkeeping kept out of the way.

Steps of `run_stage`:
1. the sampler: Optuna's TPE, random or CMA-ES; the grid is enumerated here
   (Optuna's own GridSampler rescans every trial for each new one), and a
   local grid runs without Optuna in the loop at all (`_grid_loop`): its
   points are known, so asking and telling would be pure bookkeeping;
2. the trial loop (`_grid_loop`, `_sampler_loop`): params -> `TrialRunner`
   (compile with the trial's params, evaluate through the session's cached
   DAG, run the kernel, objective) -> a finished trial; Ctrl-C ends it
   cleanly between trials;
3. bookkeeping (`engine.optimize.storage`): finished trials mirrored in bulk
   to the local journal, or an RDB study shared by workers on other machines;
   with `jobs > 1`, worker processes (`_shared_worker`) started by forkserver
   (or spawn), never by a bare fork of this possibly multi-threaded process
   (Optuna, numba and the database driver start threads; a forked child can
   inherit a lock held by one of them and deadlock). Each worker receives the
   strategy, the candles and the settings, rebuilds its session once
   (`TrialRunner.__reduce__`) and opens its own storage.
"""
from __future__ import annotations

import multiprocessing
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import optuna

from compiler.strategy import ParamDef, Strategy
from engine.backtest.market import Market
from engine.backtest.session import BacktestSession
from engine.backtest.settings import BacktestSettings
from engine.optimize.objective import Objective
from engine.optimize.space import distribution, grid_points
from engine.optimize.storage import TrialMirror, journal_path, open_storage

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

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to a worker process as its inputs; the worker rebuilds the session (and its caches)."""
        s = self.session
        return (_rebuild_runner, (s.strategy, s.market, s.settings, s.start, self.objective, self.fixed,
                                  self.span))


def _rebuild_runner(strategy: Strategy, market: Market, settings: BacktestSettings, start: int,
                    objective: Objective, fixed: dict[str, Any], span: tuple[int, int] | None) -> TrialRunner:
    return TrialRunner(BacktestSession(strategy, market, settings, start), objective, fixed, span)


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
    cpu_ms: float = 0.0  # this thread's CPU time over the same span as elapsed_ms (benchmarks)


class _Progress:
    """Counts finished trials for the caller's progress bar, with the best value so far."""

    def __init__(self, report: Callable[[int, float | None], None] | None):
        self.report = report
        self.best: float | None = None

    def __call__(self, value: float | None) -> None:
        if value is not None and value != float("-inf") and (self.best is None or value > self.best):
            self.best = value
        if self.report:
            self.report(1, self.best)


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


def _finished(number: int, params: dict[str, Any], dists: dict[str, Any], value: float, n_trades: int,
              started: datetime) -> optuna.trial.FrozenTrial:
    return optuna.trial.FrozenTrial(
        number=number, state=optuna.trial.TrialState.COMPLETE, value=value, datetime_start=started,
        datetime_complete=datetime.now(), params=params, distributions=dists,
        user_attrs={"n_trades": n_trades}, system_attrs={}, intermediate_values={}, trial_id=number)


def _grid_loop(points: list[dict[str, Any]], dists: dict[str, Any], runner: Callable[..., tuple[float, int]],
               deadline: float | None, out: list[optuna.trial.FrozenTrial],
               on_trial: Callable[[float | None], None]) -> bool:
    """Each point once, in order, into `out`; True when interrupted (Ctrl-C)."""
    try:
        for number, point in enumerate(points):
            if deadline is not None and time.monotonic() >= deadline:
                break
            started = datetime.now()
            value, n_trades = runner(point)
            out.append(_finished(number, point, dists, value, n_trades, started))
            on_trial(value)
    except KeyboardInterrupt:
        return True
    return False


def _sampler_loop(study: optuna.Study, dists: dict[str, Any], runner: Callable[..., tuple[float, int]],
                  n: int | None, deadline: float | None, on_trial: Callable[[float | None], None]) -> bool:
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
            on_trial(value)
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


def _complete(trials: Sequence[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    return [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]


def _records(trials: Sequence[optuna.trial.FrozenTrial]) -> list[dict[str, Any]]:
    out = []
    for t in _complete(trials):
        value = t.value if t.value is not None and t.value != float("-inf") else None
        out.append({"number": t.number, "params": dict(t.params), "value": value,
                    "n_trades": t.user_attrs.get("n_trades")})
    return out


def _importance(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, float]:
    finite = [t for t in _complete(trials) if t.value is not None and t.value != float("-inf")]
    if len(finite) < 4:
        return {}
    try:
        clean = optuna.create_study(direction="maximize")
        clean.add_trials(finite)
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        return {k: float(v) for k, v in optuna.importance.get_param_importances(clean, evaluator=evaluator).items()}
    except Exception:  # importance is a courtesy; too few distinct values make it undefined
        return {}


def _best(records: list[dict[str, Any]]) -> tuple[dict[str, Any], float | None]:
    finite = [r for r in records if r["value"] is not None]
    if not finite:
        return {}, None
    best = max(finite, key=lambda r: r["value"])
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
    progress = _Progress(on_progress)
    frozen = _json_params(getattr(runner, "fixed", {}))

    t0, cpu0 = time.perf_counter(), time.thread_time()
    notes: list[str] = []
    finished: Sequence[optuna.trial.FrozenTrial]
    if storage_url is not None or jobs > 1:
        # several workers, maybe on several machines: a common seed would make them all draw
        # the same points, so shared studies sample without one
        persistent = open_storage(storage_url, study_name)
        study, created = _create(persistent, study_name, _sampler(sampler, None))
        if created:
            study.set_user_attr("frozen", frozen)
        if not created and study.user_attrs.get("grid_ready") and _waiting(study) == 0:
            done = len(_complete(study.get_trials(deepcopy=False)))
            notes.append(f"study '{study_name}' has no trials left to run ({done} finished): its results "
                         "are shown; start workers with a new --study name to run more")
        if n is not None:
            # one WAITING slot per trial (grid points, or empty ones the sampler fills): workers
            # pop them atomically, so N trials are run exactly once however many workers join
            _enqueue_grid(study, points if points is not None else [{} for _ in range(n)], created)
        interrupted = _run_shared(study, storage_url, dists, runner, n, deadline, jobs, sampler, progress)
        finished = study.get_trials(deepcopy=False)
    else:
        target, _ = _create(open_storage(None, study_name), study_name, _sampler(sampler, seed))
        target.set_user_attr("frozen", frozen)
        grid_trials: list[optuna.trial.FrozenTrial] = []
        local = (None if points is not None
                 else optuna.create_study(sampler=_sampler(sampler, seed), direction="maximize"))

        def trials_so_far() -> Sequence[optuna.trial.FrozenTrial]:
            return grid_trials if local is None else local.get_trials(deepcopy=False)

        mirror = TrialMirror(trials_so_far, target)

        def on_trial(value: float | None) -> None:
            progress(value)
            mirror.maybe_flush()

        try:
            if local is None:
                interrupted = _grid_loop(points or [], dists, runner, deadline, grid_trials, on_trial)
            else:
                interrupted = _sampler_loop(local, dists, runner, n, deadline, on_trial)
        finally:
            mirror.flush()
        finished = trials_so_far()
    elapsed, cpu = (time.perf_counter() - t0) * 1e3, (time.thread_time() - cpu0) * 1e3
    records = _records(finished)
    params, value = _best(records)
    return StageResult(stage, study_name, params, value, len(records), elapsed, interrupted, records,
                       _importance(finished), notes, cpu)


def _json_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters frozen by earlier stages, kept with the study so `params apply` can use them."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()}


def _shared_worker(name: str, storage_url: str, dists: dict[str, Any], runner: Callable[..., tuple[float, int]],
                   n: int | None, deadline: float | None, sampler: str, seed: int | None,
                   on_trial: Callable[[float | None], None] | None = None) -> bool:
    """One worker of a shared study: pop slots until none is left; True when interrupted.

    Run in this process (`--jobs 1` with `--storage`) or in a worker process,
    which opens its own storage: a journal's worker identity (which decides
    who owns a popped trial) and a database connection are never shared.
    """
    s = optuna.load_study(storage=open_storage(storage_url), study_name=name, sampler=_sampler(sampler, seed))
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
        if on_trial:
            on_trial(value)
    return False


def _run_shared(study: optuna.Study, storage_url: str | None, dists: dict[str, Any], runner: TrialRunner,
                n: int | None, deadline: float | None, jobs: int, sampler: str, progress: _Progress) -> bool:
    """Workers on a shared storage: stop when the study holds `n` finished trials (or no grid is left)."""
    name = study.study_name
    # the journal by its path, not through $SUPERBOT_HOME: a forkserver keeps the environment it
    # started with, which need not be this process's current one
    url = storage_url or f"journal:{journal_path(name)}"
    if jobs <= 1:
        return _shared_worker(name, url, dists, runner, n, deadline, sampler, None, progress)
    # forkserver where the platform has it (a clean single-threaded parent for every fork), else spawn
    ctx = (multiprocessing.get_context("forkserver") if "forkserver" in multiprocessing.get_all_start_methods()
           else multiprocessing.get_context("spawn"))
    procs = [ctx.Process(target=_shared_worker, args=(name, url, dists, runner, n, deadline, sampler, i + 1),
                         daemon=True) for i in range(jobs)]
    for p in procs:
        p.start()
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    seen = len(study.get_trials(deepcopy=False, states=finished))
    try:
        while any(p.is_alive() for p in procs):  # the workers' trials, shown by this process
            for p in procs:
                p.join(timeout=0.5 / len(procs))
            trials = study.get_trials(deepcopy=False, states=finished)
            for t in trials[seen:]:
                progress(t.value)
            seen = len(trials)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()
        return True
    return False
