"""Time-driven work of the scheduler process.

* ``scheduler`` — delayed jobs and retries → ready lanes; expired leases → back.
* ``recovery`` — jobs of a worker process that died go back at once (per owner).
* ``cron_loop`` — fires periodic jobs once per tick across every server.
"""
