"""Ingest: read eval dumps in every supported format, score them, and attach model scales."""
