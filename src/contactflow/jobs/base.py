"""The one job wrapper every contactflow job uses (as atomate2's ``forcefield_job``) and the helpers
that stamp provenance and persist the typed result at the edge of the job."""

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from jobflow import job
from pydantic import BaseModel

from contactflow.schemas.provenance import Provenance, utcnow


def doc_key_for(prefix: str, payload: dict) -> str:
    """Unique document key: ``<prefix>-`` + hash of a JSON payload (sorted keys), e.g. of
    (interface_id, engine, settings); the same calculation always gets the same key."""
    blob = json.dumps(payload, sort_keys=True, default=str)
    return f"{prefix}-" + hashlib.sha256(blob.encode()).hexdigest()[:20]


def contactflow_job(method: Callable) -> Callable:
    """Decorate a job function: jobflow ``job`` with large arrays routed to the file (GridFS) store."""
    return job(method, data=["trajectory", "raw_curve_data"])


@dataclass
class Timer:
    """Collects UTC start/end and wall time of a calculation."""

    started_at: object = field(default_factory=utcnow)
    _t0: float = field(default_factory=time.perf_counter)
    finished_at: object = None
    wall_time_s: float | None = None

    def stop(self) -> "Timer":
        self.finished_at = utcnow()
        self.wall_time_s = time.perf_counter() - self._t0
        return self


def current_uuids() -> dict[str, str | None]:
    """The running jobflow job's uuid and its innermost flow's uuid (``None`` outside jobflow)."""
    from jobflow import CURRENT_JOB

    j = CURRENT_JOB.job
    if j is None:
        return {"job_uuid": None, "flow_uuid": None}
    return {"job_uuid": j.uuid, "flow_uuid": j.hosts[0] if j.hosts else None}


def make_provenance(engine_info, timer: Timer) -> Provenance:
    """Provenance from an engine description, a stopped timer and the running job's uuids."""
    return Provenance.from_engine_info(
        engine_info, started_at=timer.started_at, finished_at=timer.finished_at,
        wall_time_s=timer.wall_time_s, **current_uuids(),
    )


def persist(*docs: BaseModel) -> None:
    """Upsert result documents into the configured contactflow store (the side effect at the edge)."""
    from contactflow.store import open_store

    with open_store() as store:
        store.upsert_many(docs)


@contextmanager
def timed():
    """Context manager yielding a :class:`Timer` that is stopped on exit."""
    t = Timer()
    try:
        yield t
    finally:
        t.stop()
