"""Generated hostile manifests, up to 5 MB: the corpus `validate` must answer quickly and in little memory.

Shared by `tests/test_hostile_inputs.py` (which checks the answer and the memory) and
`benchmarks/bench_validate.py` (which times it). Each case is built on demand, so that
the 5 MB files are never all in memory at once.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HEAD", "Case", "cases"]

HEAD = "apiVersion: superbot/v1\nkind: Strategy\nmetadata: {name: t}\nspec:\n  timeframe: 5m\n"
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    code: str | None           # the first error code `validate` must give; None: no error expected
    build: Callable[[], bytes]


def _strategy(entry_long: str, extra: str = "") -> bytes:
    return (HEAD + extra + f"  entry:\n    long: {entry_long}\n").encode()


def _billion_laughs() -> bytes:
    lines = ["  x:", '    a0: &a0 ["close", ">", 1]']
    lines += [f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 15)]
    return (HEAD + "\n".join(lines) + "\n  entry:\n    long: {all: *a14}\n").encode()


def _aliases_in_conditions() -> bytes:
    items = ["        - &c0 ['close', '>', 1]"]
    items += [f"        - &c{i} {{all: [" + ", ".join([f"*c{i - 1}"] * 10) + "]}" for i in range(1, 9)]
    return (HEAD + "  entry:\n    long:\n      any:\n" + "\n".join(items) + "\n").encode()


def _to_size(unit: str, size: int, head: str = HEAD + "  entry:\n    long: ") -> bytes:
    return (head + unit * ((size - len(head)) // len(unit))).encode()


def _random_bytes(size: int) -> bytes:
    return random.Random(9).randbytes(size)


def _not_utf8() -> bytes:
    # line 8, column 22: the byte 0xe9 of a Latin-1 'é' in a comment
    return _strategy("['close', '>', 1]") + b"  # stop when the caf" + b"\xe9 closes\n"


def _long_line() -> bytes:
    # a 60 KB condition with an unknown indicator at its end
    return _strategy("'" + "close > 1 and " * 4_300 + "rsii_14 < 30'")


def _many_strategies() -> bytes:
    one = (HEAD + "  params:\n    n: {default: 14, int: [2, 50]}\n  entry:\n"
           "    long: {all: ['rsi($n) < 30', ['close', 'crosses_above', 'ema_200', '1h']]}\n"
           "  risk: {stoploss: -0.05, roi: {0m: 0.1, 60m: 0.02}}\n---\n")
    return (one * 100).encode()


def _deep_expression() -> bytes:
    return _strategy("'" + "(" * 20_000 + "close" + ")" * 20_000 + " > 1'")


def _params_and_uses(prefix: str) -> bytes:
    # 850 parameters, each used (prefix "p") or misspelt (prefix "q") by its own condition: the checks per
    # parameter and the "did you mean" hints must not make the work quadratic
    params = "".join(f"    p{i}: {{default: 14, int: [2, 40]}}\n" for i in range(850))
    uses = "".join(f"        - 'rsi(${prefix}{i}) < 30'\n" for i in range(850))
    return (HEAD + "  params:\n" + params + "  entry:\n    long:\n      all:\n" + uses).encode()


def _deployment_refs() -> bytes:
    # one strategy listed 800 times with overrides: each file is read and each override bound once
    strategy = Path(__file__).resolve().parents[1] / "strategies" / "rsi_mean_reversion.yaml"
    head = "apiVersion: superbot/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  mode: backtest\n"
    ref = f"    - {{path: '{strategy}', params: {{rsi_buy: 25}}}}\n"
    return (head + "  symbols: [BTC/USDT]\n  strategies:\n" + ref * (60 * 1024 // len(ref) - 2)).encode()


def cases() -> Iterator[Case]:
    """Every hostile case, in a fixed order."""
    yield Case("billion_laughs", "E008", _billion_laughs)
    yield Case("aliases_in_conditions", "E008", _aliases_in_conditions)
    yield Case("recursive_alias", "E002", lambda: _strategy("&c {all: [*c]}"))
    yield Case("flow_sequences_10000_deep", "E006", lambda: _strategy("[" * 10_000 + "]" * 10_000))
    yield Case("flow_mappings_10000_deep", "E006", lambda: _strategy("{a: " * 10_000 + "1" + "}" * 10_000))
    yield Case("block_sequences_10000_deep", "E006", lambda: _strategy("\n" + "      " + "- " * 10_000 + "1"))
    yield Case("block_mappings_200_deep", "E006",
               lambda: _strategy("\n" + "".join(" " * (6 + i) + f"k{i}:\n" for i in range(200)) + " " * 206 + "1"))
    yield Case("flow_numbers_5mb", "E007", lambda: _to_size("1, ", 5 * MB))
    yield Case("nul_bytes_5mb", "E007", lambda: _to_size("\0", 5 * MB))
    yield Case("nul_bytes_60kb", "E001", lambda: _to_size("\0", 60 * 1024))
    yield Case("random_bytes_5mb", "E007", lambda: _random_bytes(5 * MB))
    yield Case("random_bytes_60kb", "E001", lambda: _random_bytes(60 * 1024))
    yield Case("one_byte_over_the_limit", "E007", lambda: _to_size(" ", 64 * 1024 + 1))
    yield Case("not_utf8_in_a_comment", "E001", _not_utf8)
    yield Case("line_of_60kb", "C001", _long_line)
    yield Case("line_of_170kb", "E007", lambda: _strategy("'" + "close > 1 and " * 12_000 + "rsii_14 < 30'"))
    yield Case("parentheses_20000_deep", None, _deep_expression)  # redundant, but valid
    yield Case("lookback_of_5000_digits", "P001", lambda: _strategy("'close[" + "9" * 5000 + "] > 1'"))
    yield Case("number_of_5000_digits", "C015", lambda: _strategy("['close', '>', " + "9" * 5000 + ".0]"))
    yield Case("integer_of_400_digits", "S006",
               lambda: _strategy("['close', '>', 1]", "  sizing: {stake: " + "9" * 400 + "}\n"))
    yield Case("empty_documents_60kb", "E007", lambda: _to_size("---\n", 60 * 1024, ""))
    yield Case("strategies_100_documents", None, _many_strategies)
    yield Case("list_conditions_60kb", None,
               lambda: _to_size("        - [close, '>', 1]\n", 60 * 1024, HEAD + "  entry:\n    long:\n      any:\n"))
    yield Case("errors_60kb", "C001",  # thousands of errors: each is located, none costs a pass over the file
               lambda: _to_size("        - [rsii_14, '>', 1]\n", 60 * 1024, HEAD + "  entry:\n    long:\n      any:\n"))
    yield Case("params_850_each_misspelt", "C004", lambda: _params_and_uses("q"))
    yield Case("params_850_each_used", None, lambda: _params_and_uses("p"))
    yield Case("deployment_listing_one_strategy_800_times", None, _deployment_refs)
    yield Case("choices_10000", None, lambda: _strategy(
        "['rsi($n)', '<', 30]", "  params:\n    n: {default: 14, choice: [" + ", ".join(map(str, range(14, 10_014))) + "]}\n"))
    yield Case("unicode_controls_in_keys", "S001",
               lambda: _strategy("['close', '>', 1]", "  \u202eparams\u200b: {}\n"))
