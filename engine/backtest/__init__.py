"""Backtest: load a market, compile and evaluate a strategy, run the kernel, measure."""
