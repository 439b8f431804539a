# Benchmark suite (included from the Makefile).
#   make bench                         full suite, a few minutes; prints Markdown tables
#   make bench BENCH_ARGS="--quick --only process,latency"
# Starts its own redis-server on a free loopback port and real bananas-server processes.
BENCH_ARGS ?=

.PHONY: bench

bench: install
	$(PY) -m bench.suite $(BENCH_ARGS)
