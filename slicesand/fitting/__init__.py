"""Fitting: the easy and hard group curves, the TC Brier to accuracy line, baselines and guards."""
