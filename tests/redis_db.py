"""A Redis database of a test's own, emptied before and after (tests/test_worker.py,
tests/scaleout): REQUIRE_REDIS makes a missing Redis fail the test instead of skipping it."""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


@contextlib.contextmanager
def exclusive_redis_db(url: str, lock_name: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"REQUIRE_REDIS is set but Redis does not answer at {url}: {exc}")
        pytest.skip(f"no Redis at {url} ({exc})")
    # Two test runs on one machine would share the database: one at a time.
    lock_path = Path(tempfile.gettempdir()) / f"{lock_name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        client.flushdb()
        try:
            yield client
        finally:
            client.flushdb()
            client.close()
