"""The price tick inferred from candles: the finest decimal any price uses."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.ticks import infer_price_tick


@pytest.mark.parametrize(("prices", "tick"), [
    pytest.param([42_000.5, 42_001.25, 41_999.75], 0.01, id="cents"),
    pytest.param([100.0, 101.0, 99.0], 1.0, id="whole"),
    pytest.param([0.123456, 0.1, np.nan], 1e-6, id="nan-ignored"),
    pytest.param([np.nan], 0.0, id="no-finite-price"),
])
def test_infer_price_tick_finds_the_finest_decimal(prices: list[float], tick: float) -> None:
    assert infer_price_tick(np.asarray(prices)) == pytest.approx(tick)


def test_infer_price_tick_sees_a_finer_price_the_sample_skipped() -> None:
    prices = np.round(np.linspace(100, 200, 100_001), 1)
    prices[12_345] = 150.123                      # not on the sample's stride

    assert infer_price_tick(prices) == pytest.approx(0.001)
