"""Benchmarks as library functions returning tables (the CLI only prints them)."""
