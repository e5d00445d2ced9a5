"""Tables that fit the terminal without cutting a number or an id.

Rich shrinks every column of a table that is too wide and ends what no longer
fits with an ellipsis: at 80 columns (a normal terminal, and any pipe) that
turned `-4,838.12` into `-4,838…` and run ids into prefixes `backtest show`
could not find. Here, in `fitted_table`:

1. number and id columns (`Col(keep=True)`) get a fixed width: their widest
   cell, and at least the longest word of their header, so they are never cut;
2. text columns fold (break inside a long word) instead of ending in `…`;
3. when the table is still wider than the console, the least important
   columns are left out, highest `drop` first, and their headers returned so
   the caller can say what is missing and how to see it (a wider terminal or
   `--json`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Cell", "Col", "fitted_table", "left_out_note"]

Cell = str | Text
_TEXT_MIN = 8   # a text column may be folded down to this many cells per line


@dataclass(frozen=True)
class Col:
    """One column: its header, alignment, whether it must never be cut, and its drop rank."""

    header: str
    justify: Literal["left", "right", "center"] = "left"
    keep: bool = False          # a number or an id: shown whole or not at all
    drop: int = 0               # 0: always shown; when too wide, the highest rank goes first
    style: str | None = None


def _width(cell: Cell) -> int:
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.splitlines()), default=0)


def _build(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], shown: list[int],
           table_kwargs: dict[str, Any]) -> Table:
    table = Table(**table_kwargs)
    for i in shown:
        col = columns[i]
        if col.keep:
            longest_word = max((cell_len(w) for w in col.header.split()), default=0)
            fixed = max([longest_word, *(_width(row[i]) for row in rows)])
            table.add_column(col.header, justify=col.justify, style=col.style, width=fixed, no_wrap=False)
        else:
            table.add_column(col.header, justify=col.justify, style=col.style, overflow="fold")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def _min_width(table: Table, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], shown: list[int]) -> int:
    """The narrowest the table can be with kept columns whole and text columns folded to _TEXT_MIN."""
    cells = 0
    for i in shown:
        if columns[i].keep:
            cells += table.columns[shown.index(i)].width or 0
        else:
            longest = max([cell_len(w) for w in columns[i].header.split()]
                          + [cell_len(w) for row in rows for w in str(row[i]).split()] + [1])
            cells += min(longest, _TEXT_MIN)
    n = len(shown)
    padding = (table.padding[1] + table.padding[3]) * n  # rich normalises padding to 4 sides
    if not table.pad_edge:
        padding -= table.padding[1] + table.padding[3]
    borders = (n + 1 if table.show_edge else n - 1) if table.box else 0
    return cells + padding + borders


def fitted_table(console: Console, columns: Sequence[Col], rows: Sequence[Sequence[Cell]],
                 **table_kwargs: Any) -> tuple[Table, list[str]]:
    """A table of `rows` that fits `console.width` with every kept cell whole, and the headers left out.

    When columns are left out, the table's caption says which (unless the
    caller gave a caption of its own).
    """
    shown = list(range(len(columns)))
    table = _build(columns, rows, shown, table_kwargs)
    left_out: list[str] = []
    while _min_width(table, columns, rows, shown) > console.width:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        victim = max(droppable, key=lambda i: (columns[i].drop, i))
        shown.remove(victim)
        left_out.append(columns[victim].header)
        table = _build(columns, rows, shown, table_kwargs)
    note = left_out_note(left_out)
    if note and table.caption is None:
        table.caption, table.caption_justify = note, "left"
    return table, left_out


def left_out_note(left_out: Sequence[str], hint: str = "--json has every column") -> str | None:
    """`not shown at this width: Avg duration, Buy & hold; --json has every column`."""
    if not left_out:
        return None
    return f"not shown at this width: {', '.join(left_out)}; {hint}"
