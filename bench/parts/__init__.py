"""Benchmark parts that bench scripts call and combine into their JSON report."""
