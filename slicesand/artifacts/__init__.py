"""Artifacts: self-describing documents and tables written by every stage, and their readers."""
