"""The server's clock: ``services.housekeeping.catch_up`` once every ``GRIDGOV_CLOCK_SECONDS``
(60 by default; 0 turns it off), in a thread of each of ``gridgov run``'s worker processes (not the
main process: gunicorn forks its workers from it, and a fork would copy the locks a running thread
holds), so that overdue incidents are escalated, ended months frozen and workers' points paid
without cron and without making the first person who looks wait for them.

A pass that fails is logged and the next one tries again; the thread never takes the server
down. The work is the service's, with its own locks: two servers on one database (or cron
beside them) do each thing once."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Clock(threading.Thread):
    def __init__(self, app, seconds: float):
        super().__init__(name="gridgov-clock", daemon=True)
        self.app = app
        self.seconds = seconds
        self.stopped = threading.Event()
        self.passes = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 (even the cleanup of a failed pass failed: the clock goes on)
                log.exception("clock: the pass could not be cleaned up; the next one tries again")
            self.stopped.wait(self.seconds)

    def tick(self) -> None:
        from .extensions import db
        from .services.housekeeping import catch_up
        from .services.training import required_hours

        with self.app.app_context():
            try:
                caught = catch_up(db.session,
                                  required_hours=required_hours(self.app.config))
                if caught.anything:
                    log.info("clock: %d incident(s) escalated, %d score(s) frozen%s%s", len(caught.escalated),
                             caught.scores_frozen,
                             " (" + ", ".join(f"{m:%Y-%m}" for m in caught.months_frozen) + ")"
                             if caught.months_frozen else "",
                             f", workers' points paid for {caught.points_paid_for:%Y-%m}"
                             if caught.points_paid_for else "")
            except Exception:  # noqa: BLE001 (logged; the next pass tries again)
                db.session.rollback()
                log.exception("clock: the pass failed; the next one tries again")
            finally:
                db.session.remove()
                self.passes += 1

    def stop(self) -> None:
        self.stopped.set()


def start(app) -> Clock | None:
    """Start the clock for ``app`` (None when ``GRIDGOV_CLOCK_SECONDS`` is 0)."""
    seconds = float(app.config.get("GRIDGOV_CLOCK_SECONDS", 60))
    if seconds <= 0:
        return None
    clock = Clock(app, seconds)
    clock.start()
    return clock
