"""An optimization: stages in order, optionally walk-forward, with one report.

Each stage optimizes its own parameters while the ones of earlier stages are
frozen at their best values (and later ones stay at their defaults); `all`
optimizes every parameter at once. With walk-forward, the whole stage
sequence runs on each fold's in-sample window and the result is measured
out of sample.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler.strategy import Strategy
from engine.backtest.session import BacktestSession
from engine.optimize.objective import Objective
from engine.optimize.space import SpaceError, dimensions, stage_plan
from engine.optimize.study import StageResult, TrialRunner, run_stage
from engine.optimize.walkforward import collapse_warning, make_folds

__all__ = ["FoldResult", "OptimizeOptions", "OptimizeResult", "check_space", "optimize"]


@dataclass(frozen=True, kw_only=True)
class OptimizeOptions:
    objective: Objective
    trials: int | None = 100
    timeout: float | None = None
    sampler: str = "tpe"
    seed: int | None = None
    stages: str = "all"
    storage: str | None = None
    study: str | None = None
    jobs: int = 1
    walk_forward: int | None = None
    anchored: bool = False


@dataclass
class FoldResult:
    index: int
    in_sample: dict[str, str]
    out_of_sample: dict[str, str]
    params: dict[str, Any]
    in_sample_value: float | None
    out_of_sample_value: float | None
    warning: str | None


@dataclass
class OptimizeResult:
    strategy: str
    best_params: dict[str, Any]
    best_value: float | None
    stages: list[StageResult] = field(default_factory=list)
    folds: list[FoldResult] = field(default_factory=list)
    elapsed_ms: float = 0.0
    interrupted: bool = False
    run: str = ""                 # the run's name: its studies are RUN.STAGE (RUN.foldK.STAGE)
    chosen_by: str = "best trial of the last stage"

    @property
    def n_trials(self) -> int:
        return sum(s.n_trials for s in self.stages)

    @property
    def apply_study(self) -> str | None:
        """The stored study whose best trial, with the stages frozen before it, is `best_params`."""
        return self.stages[-1].study if self.stages and self.best_params else None


def check_space(strategy: Strategy, used: set[str]) -> None:
    """Reject what cannot be searched: no dimension at all, or a ranged param nothing uses."""
    dims = dimensions(strategy)
    if not dims:
        raise SpaceError(f"strategy '{strategy.name}' has no parameter with a range or choices to optimize")
    unused = [p.name for p in dims if p.name not in used]
    if unused:
        raise SpaceError(f"parameter(s) {', '.join(unused)} have a range but no condition or risk value "
                         "uses them; reference them as $name or remove the range")


def _stages(session: BacktestSession, options: OptimizeOptions, span: tuple[int, int] | None,
            run: str, progress: Callable[[int, float | None], None] | None,
            ) -> tuple[list[StageResult], dict[str, Any], bool]:
    strategy = session.strategy
    best: dict[str, Any] = {}
    results: list[StageResult] = []
    for dims in stage_plan(strategy, options.stages):
        stage = dims[0].stage if options.stages != "all" else "all"
        runner = TrialRunner(session, options.objective, best, span)
        result = run_stage(runner, dims, stage=stage, study_name=f"{run}.{stage}", sampler=options.sampler,
                           seed=options.seed, trials=options.trials, timeout=options.timeout,
                           storage_url=options.storage, jobs=options.jobs, on_progress=progress)
        results.append(result)
        best = {**best, **result.best_params}
        if result.interrupted:
            return results, best, True
    return results, best, False


def optimize(session: BacktestSession, options: OptimizeOptions,
             progress: Callable[[int, float | None], None] | None = None) -> OptimizeResult:
    """Run the stages (on each walk-forward fold) and say which parameters are the result.

    Walk-forward result: the parameters of the LAST fold, optimized on the most
    recent in-sample window (what one would trade next), reported with that
    fold's out-of-sample value; `chosen_by` says so. The other folds measure
    how well the procedure generalizes; their parameters are in `folds`.
    """
    t0 = time.perf_counter()
    name = session.strategy.name
    run = options.study or f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not options.walk_forward:
        stages, best, interrupted = _stages(session, options, None, run, progress)
        value = stages[-1].best_value if stages else None
        return OptimizeResult(name, best, value, stages, [], (time.perf_counter() - t0) * 1e3, interrupted, run)
    result = OptimizeResult(name, {}, None, run=run)
    times = session.market.time
    from engine.metrics.metrics import iso_time
    for fold in make_folds(session.start, session.bars, options.walk_forward, options.anchored):
        stages, best, interrupted = _stages(session, options, fold.in_sample, f"{run}.fold{fold.index}", progress)
        result.stages.extend(stages)
        is_value = stages[-1].best_value if stages else None
        oos: float | None = options.objective(session.result(best, fold.out_of_sample))
        oos = None if oos == float("-inf") else oos

        def span(s: tuple[int, int]) -> dict[str, str]:
            return {"from": iso_time(int(times[s[0]])) or "", "to": iso_time(int(times[s[1] - 1])) or ""}

        result.folds.append(FoldResult(fold.index, span(fold.in_sample), span(fold.out_of_sample), best,
                                       is_value, oos, collapse_warning(is_value, oos)))
        result.best_params, result.best_value = best, oos
        result.chosen_by = (f"fold {fold.index} (the most recent in-sample window, "
                            f"{result.folds[-1].in_sample['from'][:10]}..{result.folds[-1].in_sample['to'][:10]}); "
                            "value: its out-of-sample objective")
        if interrupted:
            result.interrupted = True
            break
    result.elapsed_ms = (time.perf_counter() - t0) * 1e3
    return result
