"""Evaluation: backtests that cut, fit below and score above."""
