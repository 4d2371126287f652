"""The typed collections users query, derived from jobflow's JobStore — the one place they are written.

Makers return typed documents; jobflow writes each job's output to the ``jobs`` collection (large
fields to GridFS through the ``data`` store). :func:`sync_views` reads job outputs, finds every
contactflow document in them (a job may return one document, a list, or a document that holds
others), validates it with its pydantic model and upserts it into its kind's collection by its key.

Why a function and not a maggma ``MapBuilder``: one source collection feeds a dozen target
collections chosen per document class, and a document may be nested in another job's output; a
MapBuilder maps one source to one target. The function is idempotent, so it runs after a local flow,
after every job a worker runs and whenever a store is opened: the two views can lag by one killed
command but never disagree after the next one (:func:`view_differences` checks it).
"""

from datetime import datetime, timedelta
from typing import Any, Iterator

import logging

import pymongo

log = logging.getLogger(__name__)

#: collection holding the sync watermark (the newest ``completed_at`` derived)
STATE_COLLECTION = "_views"
#: jobs completed up to this long before the watermark are derived again (clock skew between workers)
WATERMARK_MARGIN = timedelta(minutes=10)


def _class_index() -> dict[str, Any]:
    from contactflow.store.client import KINDS

    return {f"{k.model.__module__}.{k.model.__name__}": k for k in KINDS.values()}


def iter_documents(obj: Any, index: dict | None = None, depth: int = 0) -> Iterator[tuple[Any, dict]]:
    """Every stored-kind document (``(DocKind, serialised dict)``) inside a job output."""
    index = index if index is not None else _class_index()
    if depth > 4:
        return
    if isinstance(obj, dict):
        kind = index.get(f"{obj.get('@module')}.{obj.get('@class')}")
        if kind is not None:
            yield kind, obj
        for v in obj.values():
            if isinstance(v, (dict, list)):
                yield from iter_documents(v, index, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_documents(v, index, depth + 1)


def _typed(kind, data: dict) -> dict:
    """Validate a serialised document with its model and return its BSON form (the typed view's row)."""
    from contactflow.store.client import ContactStore

    clean = {k: v for k, v in data.items() if not k.startswith("@")}
    return ContactStore.to_mongo(kind.model.model_validate(clean))


def _job_outputs(store, uuids=None, since: str | None = None):
    q: dict = {}
    if uuids is not None:
        q["uuid"] = {"$in": list(uuids)}
    elif since:
        q["completed_at"] = {"$gte": since}
    return store.db["jobs"].find(q, {"_id": 0, "output": 1, "completed_at": 1, "uuid": 1})


def sync_views(store, uuids=None, full: bool = False) -> int:
    """Derive the typed collections from job outputs; returns the number of documents upserted.

    Parameters
    ----------
    store
        A :class:`~contactflow.store.client.ContactStore`.
    uuids
        Only these jobs (a flow just run); otherwise every job completed since the watermark.
    full
        Re-derive from every job record (repair).
    """
    state = store.db[STATE_COLLECTION]
    since = None
    index = _class_index()
    ops: dict[str, list] = {}
    newest = None
    with store._errors("deriving the typed collections from job records"):  # every server call inside
        if uuids is None and not full:
            mark = state.find_one({"_id": "jobs"})
            if mark and mark.get("completed_at"):
                since = (datetime.fromisoformat(mark["completed_at"]) - WATERMARK_MARGIN).isoformat()
        for rec in _job_outputs(store, uuids, since):
            done = rec.get("completed_at")
            if done and (newest is None or done > newest):
                newest = done
            for kind, data in iter_documents(rec.get("output"), index):
                try:
                    row = _typed(kind, data)
                except ValueError as exc:  # pydantic ValidationError: a schema/data mismatch is a bug to see
                    log.warning("job %s: %s document not derived: %s", rec.get("uuid"), kind.name, str(exc)[:300])
                    continue
                ops.setdefault(kind.name, []).append(pymongo.ReplaceOne({kind.key: row[kind.key]}, row, upsert=True))
        n = 0
        for name, batch in ops.items():
            store.collection(name).bulk_write(batch, ordered=False)
            n += len(batch)
        if newest and uuids is None:
            old = (state.find_one({"_id": "jobs"}) or {}).get("completed_at")
            if not old or newest > old:
                state.replace_one({"_id": "jobs"}, {"_id": "jobs", "completed_at": newest}, upsert=True)
    return n


def view_differences(store) -> dict[str, dict[str, list]]:
    """Keys present in a typed collection but in no job record (``orphans``) and keys of job records
    missing from their typed collection (``missing``), per kind that has any; empty when they agree.

    Only kinds whose collection is derived (``DocKind.derived``) are compared.
    """
    from contactflow.store.client import KINDS

    from_jobs: dict[str, set] = {}
    index = _class_index()
    for rec in _job_outputs(store):
        for kind, data in iter_documents(rec.get("output"), index):
            from_jobs.setdefault(kind.name, set()).add(data.get(kind.key))
    out = {}
    for name, kind in KINDS.items():
        if not kind.derived:
            continue
        typed = {d[kind.key] for d in store.collection(name).find({}, {"_id": 0, kind.key: 1})}
        derived = from_jobs.get(name, set())
        orphans, missing = sorted(typed - derived), sorted(derived - typed)
        if orphans or missing:
            out[name] = {"orphans": orphans, "missing": missing}
    return out
