"""Running the scheduler: in the foreground (`opspoor hotline run-scheduler`) or as a daemon thread
of the web server. Both only read due jobs from the database, so either may stop at any time."""

from __future__ import annotations

import logging
import threading

from opspoor.hotline.service import Hotline

log = logging.getLogger("opspoor.hotline")


def run_forever(hl: Hotline, interval: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            ran = hl.run_due()
            if ran:
                log.info("hotline scheduler ran %d jobs", ran)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the scheduler
            log.exception("hotline scheduler pass failed")
        stop.wait(interval)


def start_background(hl: Hotline, stop: threading.Event) -> threading.Thread | None:
    if hl.settings.scheduler_interval <= 0:
        return None
    thread = threading.Thread(
        target=run_forever,
        args=(hl, hl.settings.scheduler_interval, stop),
        name="hotline-scheduler",
        daemon=True,
    )
    thread.start()
    return thread
