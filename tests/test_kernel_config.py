"""KernelConfig: validation errors name the fix; the public surface stays put."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import engine.kernel
from engine.kernel import KernelConfig, KernelConfigError, Sizing, simulate


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"stoploss": 0.05}, "stoploss was 0.05; use a negative fraction such as -0.05 "
                 "for a 5% stop, or None for no stop", id="positive-stoploss"),
    pytest.param({"timeframe": "7m"}, "timeframe was '7m'; use one of", id="timeframe"),
    pytest.param({"fee": 0.5}, "fee was 0.5; use the fee per side as a fraction, e.g. 0.001",
                 id="fee-in-percent"),
    pytest.param({"sizing": Sizing.risk(0.01)}, "sizing 'risk' needs a stoploss to measure the "
                 "risk against; set stoploss (e.g. -0.05) or use Sizing.percent(...)",
                 id="risk-without-stop"),
    pytest.param({"trailing": (0.02, 1.5)}, "trailing distance was 1.5; use a fraction in (0, 1)",
                 id="trailing-distance"),
    pytest.param({"roi": [(0, 0.1), (0, 0.2)]}, "roi lists 0 minutes twice", id="roi-duplicate"),
    pytest.param({"roi": [0.1]}, "roi entry was 0.1; use (minutes since entry, minimum profit)",
                 id="roi-shape"),
    pytest.param({"max_open_positions": 0}, "max_open_positions was 0; use a whole number >= 1",
                 id="max-open"),
    pytest.param({"max_hold_minutes": 0}, "max_hold_minutes was 0; use a positive number",
                 id="max-hold"),
    pytest.param({"stop_gap_fill": "late"}, "stop_gap_fill was 'late'; use one of 'candle', "
                 "'open'", id="gap-fill"),
    pytest.param({"exit_timeout_minutes": -1}, "exit_timeout_minutes was -1; use minutes >= 0 (freqtrade's "
                 "sample configs use 10), or None to keep an exit order until it fills", id="exit-timeout"),
    pytest.param({"reserve_fees": "yes"}, "reserve_fees was 'yes'; use true or false", id="reserve-fees"),
    pytest.param({"roi_on_red_entry_candle": 1}, "roi_on_red_entry_candle was 1; use true or false",
                 id="red-entry-candle"),
])
def test_kernel_config_error_names_the_fix(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"timeframe": "5m", **kwargs}
    with pytest.raises(KernelConfigError) as err:
        KernelConfig(**args)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)


def test_sizing_percent_above_100_names_the_fix() -> None:
    with pytest.raises(KernelConfigError, match=r"sizing percent was 150; use a percent of "
                                                r"equity in \(0, 100\]"):
        Sizing.percent(150)


def test_kernel_config_from_dict_suggests_the_closest_key() -> None:
    with pytest.raises(KernelConfigError, match="unknown kernel option 'stop_loss'; did you "
                                                "mean 'stoploss'"):
        KernelConfig.from_dict({"timeframe": "5m", "stop_loss": -0.1})


def test_kernel_config_defaults_are_freqtrades_rules() -> None:
    cfg = KernelConfig(timeframe="5m")
    assert (cfg.exit_timeout_minutes, cfg.reserve_fees, cfg.roi_on_red_entry_candle) == (10.0, False, False)
    assert KernelConfig.from_dict({"timeframe": "5m", "exit_timeout_minutes": None}).exit_timeout_minutes is None


def test_kernel_config_roundtrips_through_dict_with_a_stable_id() -> None:
    cfg = KernelConfig(timeframe="5m", stoploss=-0.05, roi={60: 0.01, 0: 0.04},
                       trailing=(0.02, 0.01), sizing=Sizing.amount(100))
    again = KernelConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.id == cfg.id
    assert cfg.roi == ((0.0, 0.04), (60.0, 0.01))
    assert KernelConfig(timeframe="5m", stoploss=-0.06).id != cfg.id


def test_kernel_config_is_frozen_and_keyword_only() -> None:
    cfg = KernelConfig(timeframe="5m")
    with pytest.raises(AttributeError):
        cfg.fee = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        KernelConfig("5m")  # type: ignore[misc]


def test_kernel_exports_match_all() -> None:
    public = {name for name in dir(engine.kernel) if not name.startswith("_")
              and not inspect.ismodule(getattr(engine.kernel, name))}
    assert public == set(engine.kernel.__all__)


def test_simulate_rejects_signals_of_the_wrong_shape() -> None:
    t = np.arange(5, dtype=np.int64) * 60_000
    p = np.ones(5)
    with pytest.raises(ValueError, match=r"signal entry_long has shape \(4,\); make it \(5, 1\)"):
        simulate(t, p, p, p, p, {"entry_long": np.zeros(4, bool)}, KernelConfig(timeframe="1m"))
    with pytest.raises(ValueError, match="unknown signal 'buy'"):
        simulate(t, p, p, p, p, {"buy": np.zeros(5, bool)}, KernelConfig(timeframe="1m"))


@pytest.mark.parametrize("name", ["config", "signals", "simulate", "stepper", "trades", "jit_cache", "_layout",
                                  "_step"])
def test_kernel_module_all_is_its_surface(name: str) -> None:
    """Every name in a kernel module's `__all__` exists; every public function or class it defines is in it."""
    import importlib

    module = importlib.import_module(f"engine.kernel.{name}")
    assert all(hasattr(module, n) for n in module.__all__)
    defined = {n for n, obj in vars(module).items() if not n.startswith("_")
               and getattr(getattr(obj, "py_func", obj), "__module__", None) == module.__name__
               and (inspect.isfunction(getattr(obj, "py_func", obj)) or inspect.isclass(obj))}
    assert defined <= set(module.__all__), defined - set(module.__all__)
