"""Slicing: rank questions by difficulty and average each model's score per group."""
