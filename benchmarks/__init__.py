"""Benchmarks: `make bench` (python -m benchmarks). Figures go to docs/benchmarks.md."""
