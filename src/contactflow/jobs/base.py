"""The one job wrapper every contactflow job uses (as atomate2's ``forcefield_job``) and the helpers
that stamp provenance and read the prepared interface a task starts from.

Makers are pure: a job returns its typed document and jobflow's JobStore writes it; the typed
collections are derived from the job records (:mod:`contactflow.store.views`)."""

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


#: output fields jobflow routes to the file (GridFS) store instead of the job record
DATA_FIELDS = ["trajectory", "raw_curve_data", "band_images"]


def contactflow_job(method: Callable) -> Callable:
    """Decorate a job function: jobflow ``job`` with large arrays routed to the file (GridFS) store."""
    return job(method, data=DATA_FIELDS)


def resolve_prepared(prepared, *, relaxed: bool = True):
    """The structure a task starts from and the prepared document it came from.

    Parameters
    ----------
    prepared
        A :class:`~contactflow.schemas.PreparedInterfaceDoc` (the recipe flow passes it by reference) or
        a pymatgen ``Interface``/``Structure`` (a task run on its own).
    relaxed
        Prefer the relaxed prepared geometry when there is one (``False``: the rigid prepared geometry,
        e.g. for rigid separation curves).

    Returns
    -------
    (structure, doc or None)
        ``doc`` is ``None`` when a bare structure was given.
    """
    from contactflow.schemas.prepared import PreparedInterfaceDoc

    if isinstance(prepared, dict) and prepared.get("@class") == "PreparedInterfaceDoc":
        prepared = PreparedInterfaceDoc.model_validate({k: v for k, v in prepared.items() if not k.startswith("@")})
    if isinstance(prepared, PreparedInterfaceDoc):
        return (prepared.geometry if relaxed else prepared.structure), prepared
    return prepared, None


def check_fields(maker, **rules) -> None:
    """Validate Maker fields when the Maker is made (types and ranges), one line per problem.

    Parameters
    ----------
    maker
        The Maker dataclass instance.
    **rules
        ``field=(lo, hi)`` numeric range (inclusive; a third item ``"open_low"`` excludes ``lo``),
        ``field=("a", "b", …)`` allowed strings, ``field=bool`` (or another type) the type.

    Raises
    ------
    MakerFieldError
        Naming the Maker, the field, the value given and what is valid.
    """
    from contactflow.errors import MakerFieldError

    who = type(maker).__name__
    for name, rule in rules.items():
        value = getattr(maker, name)
        if isinstance(rule, type):
            if rule is bool and not isinstance(value, bool):
                raise MakerFieldError(f"{who}.{name} = {value!r}: expected true or false")
            if rule is not bool and not isinstance(value, rule):
                raise MakerFieldError(f"{who}.{name} = {value!r}: expected {rule.__name__}")
            continue
        if rule and all(isinstance(r, str) for r in rule):
            if value not in rule:
                raise MakerFieldError(f"{who}.{name} = {value!r}: valid values are {', '.join(rule)}")
            continue
        lo, hi, *opt = rule
        is_int = isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool)
        ok_type = isinstance(value, int) if is_int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            raise MakerFieldError(f"{who}.{name} = {value!r}: expected {'an integer' if is_int else 'a number'} "
                                  f"in [{lo}, {hi}]")
        low_ok = value > lo if opt and opt[0] == "open_low" else value >= lo
        if not (low_ok and value <= hi) or value != value:
            bracket = "(" if opt and opt[0] == "open_low" else "["
            raise MakerFieldError(f"{who}.{name} = {value!r}: out of range; valid: {bracket}{lo}, {hi}]")


def preparation_failure(doc) -> str | None:
    """The reason a task must not start from a prepared document (``None`` when it may)."""
    if doc is not None and doc.state != "successful":
        return f"interface preparation failed: {doc.failure_reason}"
    return None


@dataclass
class Timer:
    """Collects UTC start/end and wall time of a calculation, and what the job said about its cost:
    ``estimate`` (a :class:`~contactflow.engines.cost.CostEstimate` made before it started) and
    ``evaluation`` (:func:`~contactflow.engines.properties.evaluation_record` of its calculators)."""

    started_at: object = field(default_factory=utcnow)
    _t0: float = field(default_factory=time.perf_counter)
    finished_at: object = None
    wall_time_s: float | None = None
    estimate: object = None
    evaluation: dict = field(default_factory=dict)

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
    extra = dict(timer.estimate.as_fields()) if timer.estimate is not None else {}
    extra.update({k: v for k, v in (timer.evaluation or {}).items()
                  if k in ("computed_properties", "n_evaluations") and v is not None})
    return Provenance.from_engine_info(
        engine_info, started_at=timer.started_at, finished_at=timer.finished_at,
        wall_time_s=timer.wall_time_s, **extra, **current_uuids(),
    )


def persist(*docs: BaseModel) -> None:
    """Upsert documents into the configured store directly — only for the training kinds
    (labels, models, AL rounds: ``DocKind.derived`` is False) whose long Makers keep each document as
    it is made so that a killed campaign resumes. Interface tasks never call this."""
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
