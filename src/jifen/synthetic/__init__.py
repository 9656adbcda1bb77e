"""Synthetic data for benchmarks, demos and tests: plausible, never real people."""
