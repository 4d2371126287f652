"""Run a flow in this process with jobflow's manager, outputs in the store's JobStore."""

import logging
import re
import tempfile
from collections.abc import Callable

from jobflow import Flow
from jobflow.managers.local import run_locally

#: ``on_job(i, n, name)``: job ``i`` of ``n`` (1-based) is starting
OnJob = Callable[[int, int, str], None]
_START = re.compile(r"^Starting job - (?P<name>.*?) \(")


class _JobCounter(logging.Handler):
    """Counts jobflow's "Starting job - NAME (uuid)" log records (one per job, dynamic ones included)
    and calls ``on_job``; a failing callback never stops the run."""

    def __init__(self, n: int, on_job: OnJob):
        super().__init__(logging.INFO)
        self.n, self.i, self.on_job = n, 0, on_job

    def emit(self, record: logging.LogRecord) -> None:
        m = _START.match(record.getMessage())
        if not m:
            return
        self.i += 1
        self.n = max(self.n, self.i)
        try:
            self.on_job(self.i, self.n, m.group("name"))
        except Exception:  # noqa: BLE001 - progress display only
            pass


def run_flow_locally(flow: Flow, store, ensure_success: bool = True, on_job: OnJob | None = None) -> dict:
    """Run ``flow`` with ``run_locally`` and derive the typed collections from its job records.

    Parameters
    ----------
    flow
        The jobflow Flow (or Job).
    store
        A :class:`contactflow.store.ContactStore`; its JobStore receives the job outputs (the one
        writer), and :func:`contactflow.store.views.sync_views` derives the typed documents from them,
        also when a job failed (what completed is kept).
    ensure_success
        Raise when a job failed (jobflow's ``RuntimeError``).
    on_job
        Called as each job starts with ``(i, n, name)``; ``n`` is the flow's job count (it grows if
        jobs add jobs).
    """
    from contactflow.errors import StoreUnavailableError
    from contactflow.store.views import sync_views

    logger = logging.getLogger("jobflow.core.job")
    counter, old = None, (logger.level, logger.propagate)
    if on_job is not None:
        n = len(flow.all_uuids) if isinstance(flow, Flow) else 1
        counter = _JobCounter(n, on_job)
        logger.addHandler(counter)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # the counter sees the records; nothing else prints them
    try:
        with tempfile.TemporaryDirectory(prefix="contactflow-run-") as root:
            return run_locally(flow, store=store.jobstore(), root_dir=root, ensure_success=ensure_success, log=False)
    finally:
        if counter is not None:
            logger.removeHandler(counter)
            logger.setLevel(old[0])
            logger.propagate = old[1]
        try:
            sync_views(store)
        except StoreUnavailableError:  # the store is gone; the next open_store() repairs the views
            pass
