"""Run a flow in this process with jobflow's manager, outputs in the store's JobStore."""

import tempfile

from jobflow import Flow
from jobflow.managers.local import run_locally


def run_flow_locally(flow: Flow, store, ensure_success: bool = True) -> dict:
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
    """
    from contactflow.store.views import sync_views

    try:
        with tempfile.TemporaryDirectory(prefix="contactflow-run-") as root:
            return run_locally(flow, store=store.jobstore(), root_dir=root, ensure_success=ensure_success, log=False)
    finally:
        try:
            sync_views(store)
        except Exception:  # noqa: BLE001 - the store may be gone; the next open_store() repairs the views
            pass
