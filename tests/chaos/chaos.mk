# `make chaos`: every chaos scenario at full length (BANANAS_CHAOS_SCALE=full, 8 min 23 s on
# 2 cores), then the table in docs/RELIABILITY.md is rewritten from what was measured.
# `make test` runs the same scenarios at small scale. Included by the top-level Makefile.
CHAOS_RESULTS := .chaos-results
CHAOS_TESTS   := tests/chaos/test_kills.py tests/chaos/test_redis_failures.py \
                 tests/chaos/test_partition.py tests/chaos/test_bad_jobs.py

chaos: install
	rm -rf $(CHAOS_RESULTS)
	BANANAS_CHAOS_SCALE=full BANANAS_CHAOS_RESULTS=$(CHAOS_RESULTS) \
		$(PY) -m pytest -q $(CHAOS_TESTS); \
	status=$$?; $(PY) -m tests.chaos.report $(CHAOS_RESULTS) docs/RELIABILITY.md && exit $$status
