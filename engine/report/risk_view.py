"""When and why a deployment's risk rules fired, for the terminal and the HTML report.

A run whose rules fired traded differently from its strategy's signals; the
reader must see which rule, at which close, with which values, and what it
did. The events come from the kernel (`SimResult.risk_events`); the trades a
rule closed carry the exit reason `risk_halt` or `risk_close_all`.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from rich.console import Console

from engine.kernel.risk_events import RiskEvent

__all__ = ["render_risk_events", "risk_events_html"]


def _values(event: RiskEvent) -> str:
    return ", ".join(f"{name} {value:.4g}" for name, value in event.values.items())


def render_risk_events(events: Sequence[RiskEvent], console: Console, limit: int = 20) -> None:
    """One line per event, the first `limit` of them (nothing when no rule fired).

    Lines rather than a table: the rule's text must stay whole and greppable at any width.
    """
    if not events:
        return
    console.print(f"[bold]Risk rules fired: {len(events)}[/bold] (at a bar's close; effective from the next bar)",
                  highlight=False)
    for e in events[:limit]:
        console.print(f"  {e.to_record()['time']}  {e.action:<9} {e.when}  [{_values(e)}]: {e.effect}",
                      highlight=False, soft_wrap=True, markup=False)
    if len(events) > limit:
        console.print(f"  ... and {len(events) - limit} more (all of them in --json)", highlight=False)


def risk_events_html(events: Sequence[RiskEvent], limit: int = 1_000) -> str:
    """The report's "Risk rules" section; empty when no rule fired."""
    if not events:
        return ""
    rows = "".join(
        f'<tr><td class="l">{escape(e.to_record()["time"])}</td><td class="l"><code>{escape(e.when)}</code></td>'
        f'<td class="l">{escape(e.action)}</td><td class="l">{escape(_values(e))}</td>'
        f'<td class="l">{escape(e.effect)}</td></tr>'
        for e in events[:limit])
    more = (f"<p>{len(events) - limit:,} more events are not shown.</p>" if len(events) > limit else "")
    return (f'<h2 id="risk-rules">Risk rules fired ({len(events):,})</h2>'
            "<p>Each rule is evaluated on every bar's close; its action takes effect from the next bar. "
            "Trades it closed have the exit reason <code>risk_halt</code> or <code>risk_close_all</code> "
            "(docs/risk.md).</p>"
            '<div class="scroll"><table><thead><tr><th class="l">At close (UTC)</th><th class="l">Rule</th>'
            '<th class="l">Action</th><th class="l">Values</th><th class="l">Effect</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>{more}")
