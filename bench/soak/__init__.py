"""Soak with faults (docs/benchmarks.md, "Soak with faults"); run with ``python -m bench.soak``."""
