"""Optimize: Optuna over compiled strategies — search space, objectives, stages, walk-forward."""
