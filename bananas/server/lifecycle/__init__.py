"""The life of a server: the entry point, the master and its worker processes.

* ``cli`` — ``bananas-server``: patch gevent, read the config, import handlers, start.
* ``plan`` — which processes and pools a worker mode asks for (pure).
* ``master`` — pre-fork supervisor: start, restart, drain on SIGTERM.
* ``boot`` — what a forked child does first (logging, reporter, guard).
* ``process`` — one worker process: its Redis pools, pools of executors, loops.
* ``greenpoll`` — ``select.poll`` whose zero-timeout checks skip the hub (installed after patching).
* ``greensend`` — gevent's ``sendall`` tries one plain send first (installed after patching).
* ``embedded`` — the ``redis-server`` started when no ``redis.url`` is set.
"""
