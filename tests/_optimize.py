"""What the optimizer tests share: a strategy with three stages (entry, exit, risk)."""
from __future__ import annotations

__all__ = ["STAGED"]

STAGED = """
apiVersion: superbot/v1
kind: Strategy
metadata: {name: staged}
spec:
  timeframe: 5m
  params:
    n:    {default: 14, int: [5, 20]}
    buy:  {default: 30, int: [20, 40]}
    sell: {default: 70, int: [60, 80], stage: exit}
    sl:   {default: -0.05, float: [-0.1, -0.02], step: 0.01, stage: risk}
  entry: {long: 'rsi(close, $n) < $buy'}
  exit: {long: 'rsi(close, $n) > $sell'}
  risk: {stoploss: $sl}
"""
