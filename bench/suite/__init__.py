"""The Bananas benchmark suite: ``python -m bench.suite`` (or ``make bench``) prints its tables."""
