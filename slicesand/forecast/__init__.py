"""Forecast: evaluate a fit at any scale and locate the emergence threshold."""
