"""Real Celery processes for tests: a worker (and its beat scheduler), started the way
`make worker` starts them, on a real broker and the test database, and a wait that reports the
worker's log when nothing comes."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8123"
DEFAULT_APP = "marketplace.worker:celery"


def worker_app() -> str:
    """The -A of `make worker`: the tests start what the Makefile (and the README) start."""
    make = shutil.which("make")
    if make is None:
        return DEFAULT_APP
    plan = subprocess.run([make, "-n", "worker"], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=True).stdout
    (line,) = [line for line in plan.splitlines() if "celery" in line and " worker" in line]
    words = line.split()
    return words[words.index("-A") + 1]


@contextlib.contextmanager
def running_worker(database_url: str, instance: Path, *, broker: str, beat: bool = False,
                   schedule: dict | None = None, env: dict | None = None, name: str = "worker"):
    """A worker process (with beat when asked, at the JOB_SCHEDULE given); yields the process
    and its log file. Stopped warmly at the end (the job in hand is finished first)."""
    variables = {
        **os.environ,
        "MARKETPLACE_CONFIG": "development",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SERVER_BASE_URL": BASE,
        **({"JOB_SCHEDULE": json.dumps(schedule)} if schedule is not None else {}),
        **(env or {}),
    }
    variables.pop("REDIS_URL", None)
    variables.pop("CELERY_BROKER_URL", None)
    variables["REDIS_URL" if broker.startswith("redis") else "CELERY_BROKER_URL"] = broker
    instance.mkdir(parents=True, exist_ok=True)
    log = instance / f"{name}.log"
    command = [sys.executable, "-m", "celery", "-A", worker_app(), "worker", "--pool", "solo",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
               "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"]
    if beat:
        command += ["--beat", "--schedule", str(instance / "celerybeat-schedule")]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=variables, stdout=out,  # noqa: S603
                                   stderr=subprocess.STDOUT)
        try:
            yield process, log
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_for(condition, process, log: Path, seconds: float = 60, every: float = 0.2):
    """condition()'s first true value, polled while the worker runs; fails with its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert process.poll() is None, f"the worker stopped:\n{log.read_text(errors='replace')}"
        time.sleep(every)
    pytest.fail(f"nothing after {seconds} s (last: {found!r}); the worker said:\n"
                f"{log.read_text(errors='replace')}")
