"""Reports of a backtest: the terminal summary, the HTML report, views of kept runs."""
from __future__ import annotations

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
