"""Real concurrency for the PostgreSQL tests: `n` threads, each with its own app context and
database session, start `work(i)` at the same instant (a barrier)."""
from __future__ import annotations

import threading

from marketplace.db import db


def at_once(app, work, n: int, *, commit: bool = False, timeout: float = 60) -> tuple[list, list]:
    """Run work(0) … work(n-1) together; returns (results, exceptions). With `commit`, each
    thread commits after its work; a thread whose work raised rolls back."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        with app.app_context():
            try:
                barrier.wait()
                results.append(work(i))
                if commit:
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - handed to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
