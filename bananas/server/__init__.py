"""The server, in four parts (each folder's ``__init__`` maps its files).

* ``lifecycle/`` — entry point, master, worker processes, the embedded Redis.
* ``jobs/`` — running jobs: pools, runner, acker, leases, slots, watchdog, cancel.
* ``timed/`` — time-driven work: scheduler, recovery of dead processes, the cron loop.
* ``observe/`` — job events, reports, queue sampling, health and metrics over HTTP.

Nothing is imported here: ``bananas.server.__main__`` must patch gevent first.
"""
