"""Real concurrency for the PostgreSQL tests: `n` threads, each with its own app context and
database session, start `work(i)` at the same instant (a barrier)."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa

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


class InThread:
    """work() in a thread of its own, with its own app context and database session, started
    at once. With `hold` (a threading.Event), the transaction stays open after the work, its
    row locks held, until the event is set; then it commits (rolls back if the work raised).
    `worked` is set when work() has returned or raised; after join(), `result` or `error`."""

    def __init__(self, app, work, *, hold: threading.Event | None = None):
        self.result, self.error = None, None
        self.worked = threading.Event()

        def run():
            with app.app_context():
                try:
                    try:
                        self.result = work()
                    finally:
                        self.worked.set()
                    if hold is not None:
                        hold.wait(60)
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 - handed to the test
                    db.session.rollback()
                    self.error = exc
                finally:
                    db.session.remove()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self, timeout: float = 60) -> InThread:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the thread did not end"
        return self


def wait_for_a_lock_wait(engine, *, waiting: int = 1, timeout: float = 10) -> bool:
    """True once `waiting` sessions of the test database wait for a lock (PostgreSQL);
    False if none did within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            count = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
        if count >= waiting:
            return True
        time.sleep(0.05)
    return False


def second_waits_for_first(app, first, second) -> tuple[InThread, InThread]:
    """first() runs in a thread and keeps its transaction open, its row locks held; second()
    starts in another thread and must wait for one of those locks; then the first commits and
    the second goes on. Both are joined; `result` or `error` tell how each ended."""
    release = threading.Event()
    one = InThread(app, first, hold=release)
    assert one.worked.wait(30) and one.error is None, one.error
    two = InThread(app, second)
    waited = wait_for_a_lock_wait(db.engine)
    release.set()
    one.join()
    two.join()
    assert waited, "the second did not wait for the first's lock"
    return one, two
