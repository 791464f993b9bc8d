"""Benchmarks: programs that measure and print figures (they are not tests)."""
