"""Loaded as a handler module by skewed test servers: shifts this process's wall clock.

``time.time()`` (and ``time_ns``) of the server and every worker it forks run
``BANANAS_TEST_SKEW_S`` seconds off; Redis time is untouched. At import it records the
offset it now sees against Redis ``TIME`` in list ``test:skews``, so a test can prove the
skew was in effect.
"""

import os
import time

import redis

_SKEW = float(os.environ.get("BANANAS_TEST_SKEW_S", "0"))
_real_time, _real_time_ns = time.time, time.time_ns
time.time = lambda: _real_time() + _SKEW
time.time_ns = lambda: _real_time_ns() + int(_SKEW * 1e9)

_r = redis.Redis.from_url(os.environ["BANANAS_TEST_REDIS_URL"], decode_responses=True)
_seconds, _micros = _r.time()
_r.rpush("test:skews", round(time.time() - (_seconds + _micros / 1e6)))
_r.close()
