"""Simulated cameras the benchmarks measure against, each run as its own process."""
