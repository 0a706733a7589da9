"""Uncertainty: bootstrap, question resampling, calibration, prediction intervals and group stability."""
