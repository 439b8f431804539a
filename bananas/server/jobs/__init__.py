"""Running jobs inside a worker process.

* ``pool`` — a tier's fetcher, local buffer and long-lived executors.
* ``runner`` — one delivery: decode, call the handler, turn the result into an outcome.
* ``acker`` — settles outcomes in batches.
* ``leases`` — the lease book and the heartbeat that renews leases.
* ``slots`` — the running jobs and the shared-memory slot table the master reads.
* ``watchdog`` — an OS thread that watches the hub and overrunning jobs.
* ``cancel`` — stops jobs cancelled while they run.
"""
