"""gunicorn's settings for this app, read from the working directory by `gunicorn` itself
(README, "Deploying"); the command line chooses the workers and the address.

Once a worker has loaded the app, gc.freeze() moves everything alive at that point (modules,
Flask's and SQLAlchemy's set-up: about 200,000 objects) out of the cyclic garbage
collector's sight. Without it, each full collection walks them all again: one took 268 ms in a
worker during a 15-second counter benchmark, and the request it interrupted waited that long
(bench/RESULTS.md). Garbage made after the freeze is collected as before.

The access log (off unless --access-logfile is given) masks gift card codes and voucher tokens
in the addresses it writes (marketplace/redact.py): /cards/<code> and /v/<token> are what the
QR codes hold, and a log must not hand out money or goods.
"""
import gc

from gunicorn.glogging import Logger

from marketplace import redact

_QUERY_ATOMS = ("q", "{query_string}e")


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        counter = "/counter" in (environ.get("PATH_INFO") or "")
        for name, value in atoms.items():
            if not isinstance(value, str):
                continue
            if name in _QUERY_ATOMS:
                atoms[name] = redact.query(value, counter=counter)
            else:
                atoms[name] = redact.path(value)
        return atoms


logger_class = AccessLogger


def post_worker_init(worker):
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    # Metrics in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, README "Deploying"): a worker
    # that ended leaves its counters to the sums, and its live gauges out of them.
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
