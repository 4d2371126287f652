"""Run a flow in this process with jobflow's manager, outputs in the store's JobStore."""

import tempfile

from jobflow import Flow
from jobflow.managers.local import run_locally


def run_flow_locally(flow: Flow, store) -> dict:
    """Run ``flow`` with ``run_locally`` (ensure_success) and return its responses.

    Parameters
    ----------
    flow
        The jobflow Flow.
    store
        A :class:`contactflow.store.ContactStore`; its JobStore receives the job outputs.
    """
    with tempfile.TemporaryDirectory(prefix="contactflow-run-") as root:
        return run_locally(flow, store=store.jobstore(), root_dir=root, ensure_success=True, log=False)
