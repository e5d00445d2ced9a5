"""Hand-computed trades for every exit reason and the exit priorities.

Bars are 1m candles (o, h, l, c) at t = k minutes; fee 0 unless a test says
otherwise, so every price below can be checked on paper.
"""
from __future__ import annotations

from collections.abc import Sequence

import pytest
from _bars import MIN, run_bars

from engine.kernel import EXIT_REASONS, EndOfDataPrice, SimResult


def run(rows: Sequence[tuple[float, float, float, float]], *, el: Sequence[int] = (),
        xl: Sequence[int] = (), es: Sequence[int] = (), xs: Sequence[int] = (),
        **cfg: object) -> SimResult:
    cfg.setdefault("fee", 0.0)  # prices below are checked on paper without fees
    return run_bars(rows, el=el, xl=xl, es=es, xs=xs, **cfg)


def only(result: SimResult) -> dict[str, object]:
    assert len(result.trades) == 1, result.trades
    t = result.trades
    return {"entry_i": int(t.entry_index[0]), "exit_i": int(t.exit_index[0]),
            "entry": float(t.entry_price[0]), "exit": float(t.exit_price[0]),
            "reason": EXIT_REASONS[t.exit_reason[0]], "profit": float(t.profit_ratio[0])}


FLAT = (100.0, 101.0, 99.0, 100.0)


def test_exit_signal_fills_at_next_open() -> None:
    r = run([FLAT, (100, 102, 99, 101), (101, 104, 100, 103), (104, 105, 103, 104), FLAT],
            el=[0], xl=[2])
    t = only(r)
    assert (t["entry_i"], t["exit_i"], t["entry"], t["exit"], t["reason"]) == \
        (1, 3, 100.0, 104.0, "exit_signal")
    assert t["profit"] == pytest.approx(0.04)
    assert r.trades.entry_time[0] == 1 * MIN and r.trades.exit_time[0] == 3 * MIN


def test_stop_loss_fills_at_stop_price() -> None:
    t = only(run([FLAT, FLAT, (98, 99, 89, 92), FLAT], el=[0], stoploss=-0.10))
    assert (t["exit_i"], t["exit"], t["reason"]) == (2, 90.0, "stop_loss")


def test_stop_loss_candle_entirely_below_stop_fills_at_open() -> None:
    t = only(run([FLAT, FLAT, (85, 88, 84, 86), FLAT], el=[0], stoploss=-0.10))
    assert (t["exit"], t["reason"]) == (85.0, "stop_loss")


def test_stop_loss_gap_open_default_fills_at_stop_like_freqtrade() -> None:
    # opens below the stop but trades back above it: freqtrade assumes the stop price
    t = only(run([FLAT, FLAT, (85, 95, 84, 94), FLAT], el=[0], stoploss=-0.10))
    assert t["exit"] == 90.0


def test_stop_loss_gap_open_option_fills_at_open() -> None:
    t = only(run([FLAT, FLAT, (85, 95, 84, 94), FLAT], el=[0], stoploss=-0.10,
                 stop_gap_fill="open"))
    assert (t["exit"], t["reason"]) == (85.0, "stop_loss")


def test_stop_loss_can_hit_on_the_entry_candle() -> None:
    t = only(run([FLAT, (100, 100.5, 89, 95), FLAT], el=[0], stoploss=-0.10))
    assert (t["entry_i"], t["exit_i"], t["exit"], t["reason"]) == (1, 1, 90.0, "stop_loss")


def test_trailing_stop_trails_the_high_then_fills_at_the_stop() -> None:
    # trigger 2 %, distance 1 %: high 110 moves the stop to 108.9; low 109 keeps it
    rows = [FLAT, FLAT, (104, 110, 109, 109.5), (109, 109.5, 108, 108.5), FLAT]
    t = only(run(rows, el=[0], stoploss=-0.10, trailing=(0.02, 0.01)))
    assert (t["exit_i"], t["exit"], t["reason"]) == (3, pytest.approx(108.9), "trailing_stop")


def test_trailing_stop_below_trigger_keeps_the_initial_stop() -> None:
    rows = [FLAT, FLAT, (100, 101.5, 99.5, 101), (100, 100.5, 89, 90), FLAT]
    t = only(run(rows, el=[0], stoploss=-0.10, trailing=(0.02, 0.01)))
    assert (t["exit"], t["reason"]) == (90.0, "stop_loss")


def test_trailing_stop_on_entry_candle_assumes_rise_to_trigger_then_fall() -> None:
    # freqtrade: exit at max(low, open * (1 + trigger - distance)) = 101
    rows = [FLAT, (100, 105, 99, 100), FLAT]
    t = only(run(rows, el=[0], stoploss=-0.10, trailing=(0.02, 0.01)))
    assert (t["exit_i"], t["exit"], t["reason"]) == (1, pytest.approx(101.0), "trailing_stop")


def test_roi_fills_at_the_roi_price_when_the_high_reaches_it() -> None:
    t = only(run([FLAT, FLAT, (101, 106, 100, 104), FLAT], el=[0], roi=[(0, 0.05)]))
    assert (t["exit_i"], t["exit"], t["reason"]) == (2, pytest.approx(105.0), "roi")


def test_roi_price_includes_both_fees() -> None:
    fee = 0.001
    t = only(run([FLAT, FLAT, (101, 106, 100, 104), FLAT], el=[0], roi=[(0, 0.05)], fee=fee))
    assert t["exit"] == pytest.approx(100 * 1.05 * (1 + fee) / (1 - fee))
    assert t["profit"] == pytest.approx(0.05)


def test_roi_step_starting_at_the_open_fills_at_the_open() -> None:
    # 10 % until minute 2, then 1 %: at minute 2 the candle opens at 103, above 101
    rows = [FLAT, FLAT, (100, 101.5, 99, 101), (103, 104, 102, 103), FLAT]
    t = only(run(rows, el=[0], roi=[(0, 0.10), (2, 0.01)]))
    assert (t["exit_i"], t["exit"], t["reason"]) == (3, 103.0, "roi")


def test_max_hold_exits_at_the_first_open_past_the_limit() -> None:
    rows = [FLAT] * 7
    t = only(run(rows, el=[0], max_hold_minutes=3))
    assert (t["entry_i"], t["exit_i"], t["exit"], t["reason"]) == (1, 4, 100.0, "max_hold")


def test_end_of_data_closes_at_the_last_open_by_default() -> None:
    t = only(run([FLAT, FLAT, (100, 103, 99, 102), (102, 104, 101, 103)], el=[0]))
    assert (t["exit_i"], t["exit"], t["reason"]) == (3, 102.0, "end_of_data")


def test_end_of_data_close_option_uses_the_last_close() -> None:
    t = only(run([FLAT, FLAT, (102, 104, 101, 103)], el=[0],
                 end_of_data_price=EndOfDataPrice.CLOSE))
    assert (t["exit"], t["reason"]) == (103.0, "end_of_data")


def test_priority_exit_signal_before_stop() -> None:
    t = only(run([FLAT, FLAT, FLAT, (99, 100, 80, 85), FLAT], el=[0], xl=[2], stoploss=-0.10))
    assert (t["exit"], t["reason"]) == (99.0, "exit_signal")


def test_priority_stop_before_roi_when_both_touched() -> None:
    t = only(run([FLAT, FLAT, (100, 110, 89, 100), FLAT], el=[0], stoploss=-0.10,
                 roi=[(0, 0.05)]))
    assert (t["exit"], t["reason"]) == (90.0, "stop_loss")


def test_priority_roi_before_trailing_stop_like_freqtrade() -> None:
    rows = [FLAT, FLAT, (104, 110, 109, 109.5), (109, 112, 100, 101), FLAT]
    t = only(run(rows, el=[0], stoploss=-0.10, trailing=(0.02, 0.01), roi=[(2, 0.11)]))
    assert (t["exit_i"], t["exit"], t["reason"]) == (3, pytest.approx(111.0), "roi")


def test_exit_then_no_reentry_on_the_same_bar() -> None:
    rows = [FLAT, FLAT, (100, 100, 89, 90), FLAT, FLAT]
    r = run(rows, el=[0, 1, 2, 3], stoploss=-0.10)
    assert list(r.trades.entry_index) == [1, 3]
    assert list(r.trades.exit_index) == [2, 4]


def test_entry_and_exit_signal_on_the_same_bar_do_nothing() -> None:
    # flat: the exit signal vetoes the entry; in a position: the entry signal vetoes the exit
    r = run([FLAT] * 6, el=[0, 2], xl=[0, 2])
    assert len(r.trades) == 0
    r = run([FLAT] * 6, el=[0, 2], xl=[2, 3])
    assert (int(r.trades.entry_index[0]), int(r.trades.exit_index[0])) == (1, 4)


def test_no_entry_on_the_last_bar() -> None:
    assert len(run([FLAT, FLAT, FLAT], el=[1]).trades) == 0


def test_short_stop_loss_and_profit() -> None:
    t = only(run([FLAT, FLAT, (101, 111, 100, 108), FLAT], es=[0], stoploss=-0.10))
    assert (t["exit"], t["reason"]) == (pytest.approx(110.0), "stop_loss")
    assert t["profit"] == pytest.approx(1 - 110 / 100)


def test_short_exit_signal_and_roi() -> None:
    t = only(run([FLAT, FLAT, (96, 97, 95, 96), FLAT], es=[0], xs=[1]))
    assert (t["exit"], t["reason"], t["profit"]) == (96.0, "exit_signal", pytest.approx(0.04))
    t = only(run([FLAT, FLAT, (99, 100, 94, 96), FLAT], es=[0], roi=[(0, 0.05)]))
    assert (t["exit"], t["reason"]) == (pytest.approx(95.0), "roi")


def test_short_trailing_stop_trails_the_low() -> None:
    # the low 90 moves the stop to 90.9, above this candle's high; the next high hits it
    rows = [FLAT, FLAT, (90.5, 90.8, 90, 90.5), (91, 91.5, 90.5, 91), FLAT]
    t = only(run(rows, es=[0], stoploss=-0.10, trailing=(0.02, 0.01)))
    assert (t["exit_i"], t["exit"], t["reason"]) == (3, pytest.approx(90.9), "trailing_stop")
