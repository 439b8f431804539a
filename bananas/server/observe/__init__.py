"""What a server tells about itself.

* ``events`` — structured log records and metrics of every job transition and Redis failure.
* ``reports`` — counters from the worker processes to the master (socket pair).
* ``sampler`` — the master's periodic reading of queue depths.
* ``health`` / ``monitor`` / ``http`` — ``/health/live``, ``/health/ready``, ``/metrics``.
"""
