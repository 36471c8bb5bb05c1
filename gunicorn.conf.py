"""gunicorn's settings for this app, read from the working directory by `gunicorn` itself
(README, "Deploying"); the command line chooses the workers and the address.

Once a worker has loaded the app, gc.freeze() moves everything alive at that point (modules,
Flask's and SQLAlchemy's set-up: about 200,000 objects) out of the cyclic garbage
collector's sight. Without it, each full collection walks them all again: one took 268 ms in a
worker during a 15-second counter benchmark, and the request it interrupted waited that long
(bench/RESULTS.md). Garbage made after the freeze is collected as before.
"""
import gc


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
