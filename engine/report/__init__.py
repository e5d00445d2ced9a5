"""Reports of a backtest: the terminal summary, the HTML report, views of kept runs.

The names load on first use (PEP 562): printing a backtest's summary must not
import plotly (the HTML report) or SQLAlchemy (the kept runs).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.report.html import write_html_report
    from engine.report.runs_view import render_comparison, render_run, render_run_list
    from engine.report.terminal import render_summary

__all__ = [
    "render_comparison",
    "render_run",
    "render_run_list",
    "render_summary",
    "write_html_report",
]

_WHERE = {"render_comparison": "runs_view", "render_run": "runs_view", "render_run_list": "runs_view",
          "render_summary": "terminal", "write_html_report": "html"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'engine.report' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.report.{_WHERE[name]}"), name)
