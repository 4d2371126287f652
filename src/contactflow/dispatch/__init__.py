"""Dispatch: run flows locally (jobflow ``run_locally``) against the contactflow JobStore."""

from contactflow.dispatch.local import run_flow_locally

__all__ = ["run_flow_locally"]
