"""The operator's subcommands of ``bananas`` (the entry point and the older commands are in
:mod:`bananas.cli`).

* ``exits``   — exit codes and the one-line error report (``--debug`` for a traceback).
* ``output``  — human tables and ``--json``.
* ``inspect`` — ``queues``, ``jobs``, ``audit``.
* ``dead``    — ``dead retry`` and ``dead purge`` with confirmation.
* ``top``     — the live terminal view.
* ``secrets`` — ``hash-secret``.
"""
