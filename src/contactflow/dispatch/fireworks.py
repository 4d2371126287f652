"""Run jobflow graphs through FireWorks: a LaunchPad in the contactflow store, categories per job type,
workers (rocket launchers), status, rerun, cancel and lost-run detection.

The LaunchPad's collections (``fireworks``, ``launches``, ``workflows``, ``fw_id_assigner``) live in
the same database as the results, so one ``CONTACTFLOW_MONGO_URI`` (or the embedded server) is all a
worker needs. Scheduling is FireWorks' own (``Rocket``, ``rapidfire``, ``detect_lostruns``); this
module only converts, tags and reports.

JobStore on the workers: jobflow's ``flow_to_workflow(store=None)`` makes the worker use
``jobflow.SETTINGS.JOB_STORE``, which knows nothing of contactflow. Passing ``store=`` instead would
serialise the store (URI, possibly with a password) into every Firework. So each ``JobFiretask`` is
replaced by :class:`ContactflowJobFiretask`, which opens the store configured *on the worker*
(``CONTACTFLOW_MONGO_URI``/``CONTACTFLOW_DB``, config file or embedded) and makes it the JobStore:
any FireWorks launcher (``contactflow worker``, ``rlaunch``, ``qlaunch``) writes job outputs to
``ContactStore.jobstore()`` of the configured database.
"""

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import bson
from fireworks import FWorker, LaunchPad, Workflow, explicit_serialize
from jobflow.managers.fireworks import JobFiretask, flow_to_workflow
from pymongo.errors import PyMongoError

from contactflow.dispatch.resources import category_for_job, worker_categories
from contactflow.errors import DispatchError, StoreUnavailableError

log = logging.getLogger(__name__)

#: workflow states that no longer count as "submitted" for ``--dedupe``
INACTIVE_STATES = ("DEFUSED", "ARCHIVED")
#: FireWorks' maximum BSON document size
MAX_DOC_BYTES = 16 * 1024 * 1024
META = "contactflow"  # key of contactflow's block in workflow metadata
TOKEN = "_contactflow_submission"  # spec key tying each Firework to its submission (rollback)
TOKEN_Q = f"spec.{TOKEN}"


@explicit_serialize
class ContactflowJobFiretask(JobFiretask):
    """jobflow's ``JobFiretask`` with the JobStore taken from the worker's contactflow store settings."""

    def run_task(self, fw_spec):
        """Make the configured store jobflow's JobStore, run the job, keep dynamic jobs on this task."""
        from jobflow import SETTINGS

        previous = SETTINGS.JOB_STORE
        if self.get("store") is None:
            SETTINGS.JOB_STORE = worker_jobstore()
        try:
            action = super().run_task(fw_spec)
        finally:
            SETTINGS.JOB_STORE = previous
        if self.get("store") is None:  # the typed views follow the job record at once (one writer)
            from contactflow.store.views import sync_views

            sync_views(worker_store(), uuids=[self["job"].uuid])
        for wf in (action.detours or []) + (action.additions or []):
            prepare_workflow(wf)
        return action


_STORES: dict = {}


def worker_store():
    """The ContactStore configured in this process, kept open for the process's later jobs (opening
    the store checks indexes: ~70 ms a job on the embedded server)."""
    from contactflow.paths import contactflow_home
    from contactflow.store import load_settings, open_store

    s = load_settings()
    key = (s.uri, s.database, str(contactflow_home()) if s.embedded else None)
    if key not in _STORES:
        cs = open_store()
        _STORES[key] = (cs, cs.jobstore())
    return _STORES[key][0]


def worker_jobstore():
    """``ContactStore.jobstore()`` of :func:`worker_store`."""
    worker_store()
    from contactflow.store import load_settings
    from contactflow.paths import contactflow_home

    s = load_settings()
    return _STORES[(s.uri, s.database, str(contactflow_home()) if s.embedded else None)][1]


def prepare_workflow(wf: Workflow) -> Workflow:
    """Swap jobflow's firetasks for :class:`ContactflowJobFiretask` and tag each Firework's category."""
    for fw in wf.fws:
        tasks = []
        for t in fw.tasks:
            if isinstance(t, JobFiretask) and not isinstance(t, ContactflowJobFiretask):
                t = ContactflowJobFiretask(job=t["job"], store=t.get("store"))
            tasks.append(t)
        fw.tasks = tasks
        jobs = [t["job"] for t in tasks if isinstance(t, JobFiretask)]
        if jobs and "_category" not in fw.spec:
            fw.spec["_category"] = category_for_job(jobs[0])
    return wf


# --------------------------------------------------------------------------------------- LaunchPad
def get_launchpad(store=None, timeout_ms: int = 5000) -> LaunchPad:
    """The LaunchPad in the contactflow database (created on first use, never reset).

    Parameters
    ----------
    store
        An open :class:`contactflow.store.ContactStore`; default: the configured one.
    timeout_ms
        Server selection timeout: an unreachable store fails after this long.

    Raises
    ------
    StoreUnavailableError
        If the database cannot be reached.
    """
    from contactflow.store import open_store

    own = store is None
    store = store or open_store(timeout_ms)
    try:
        lp = LaunchPad(
            host=store.uri, name=store.settings.database, uri_mode=True, strm_lvl="ERROR",
            mongoclient_kwargs={"serverSelectionTimeoutMS": timeout_ms, "journal": True,
                                "appname": "contactflow-fireworks"},
        )
        ensure_launchpad(lp)
    except PyMongoError as exc:
        from contactflow.store.settings import redact_text

        raise StoreUnavailableError(f"LaunchPad in {store.display_uri} not usable: {type(exc).__name__}: "
                                    f"{redact_text(str(exc), store.uri)}") from None
    finally:
        if own:
            store.close()
    lp.display_uri = store.display_uri
    return lp


def ensure_launchpad(lp: LaunchPad) -> None:
    """Create the id counter and indexes if missing (idempotent; unlike ``LaunchPad.reset`` it deletes nothing)."""
    if lp.fw_id_assigner.count_documents({}) == 0:
        lp.fw_id_assigner.find_one_and_update(
            {"_id": -1}, {"$setOnInsert": {"next_fw_id": 1, "next_launch_id": 1}}, upsert=True)
    if "fw_id_1" not in lp.fireworks.index_information():
        lp.tuneup(bkground=False)


# -------------------------------------------------------------------------------------- submission
@dataclass
class SubmitResult:
    """Outcome of :func:`submit_flow`."""

    workflow_id: int  # the lowest fw_id of the workflow (FireWorks identifies workflows by any fw_id)
    fw_ids: list[int]
    categories: dict[str, int] = field(default_factory=dict)
    duplicate: bool = False  # True: an equal workflow was already submitted; nothing was added
    state: str = "READY"


def submission_key(**parts) -> str:
    """Stable key of what a workflow computes (for ``--dedupe``)."""
    blob = json.dumps(parts, sort_keys=True, default=str)
    return "wf-" + hashlib.sha256(blob.encode()).hexdigest()[:24]


def find_submitted(lp: LaunchPad, key: str) -> dict | None:
    """An active (not defused/archived) workflow with dedupe ``key``, or ``None``."""
    return lp.workflows.find_one({f"metadata.{META}.key": key, "state": {"$nin": list(INACTIVE_STATES)}},
                                 {"nodes": 1, "state": 1, "name": 1})


def submit_flow(flow, lp: LaunchPad, project: str | None = None, key: str | None = None, dedupe: bool = False,
                name: str | None = None, metadata: dict | None = None) -> SubmitResult:
    """Convert a jobflow Flow to a FireWorks workflow and add it to the LaunchPad, atomically.

    Parameters
    ----------
    flow
        A jobflow ``Flow`` (or Job).
    lp
        The LaunchPad (:func:`get_launchpad`).
    project
        Project name (filter of ``contactflow status --project``).
    key
        What the workflow computes (:func:`submission_key`); with ``dedupe`` an active workflow with the
        same key is not submitted again.
    dedupe
        Skip submission if an active workflow with ``key`` exists.
    name
        Workflow name (default: the flow's).
    metadata
        Extra workflow metadata.
    """
    if dedupe and not key:
        raise DispatchError("--dedupe needs a submission key (what the workflow computes); none was given")
    if dedupe:
        old = find_submitted(lp, key)
        if old:
            ids = sorted(old["nodes"])
            return SubmitResult(workflow_id=ids[0], fw_ids=ids, duplicate=True, state=old["state"])
    meta = {**(metadata or {}), META: {"project": project, "key": key,
                                        "submitted_at": datetime.now(timezone.utc).isoformat(),
                                        "submitted_from": socket.gethostname()}}
    wf = flow_to_workflow(flow, store=None, name=name or getattr(flow, "name", None) or "flow", metadata=meta)
    prepare_workflow(wf)
    old_new = add_workflow_atomically(lp, wf)
    ids = sorted(old_new.values())
    cats = Counter(fw.spec.get("_category", "") for fw in wf.fws)
    return SubmitResult(workflow_id=ids[0], fw_ids=ids, categories=dict(cats), state=wf.state)


def add_workflow_atomically(lp: LaunchPad, wf: Workflow) -> dict[int, int]:
    """Add ``wf`` so that workers see all of it or nothing; returns FireWorks' old→new id map.

    ``LaunchPad.add_wf`` inserts Fireworks already READY before their workflow document exists and
    leaves what it inserted when a later write fails. Here every document is checked for BSON size
    first; the root Fireworks go in PAUSED (no worker can check them out); on any write error the
    Fireworks and workflow of this submission are deleted again; only then are the roots set READY.

    Raises
    ------
    DispatchError
        If a document is too large or not storable, or a write fails (nothing is left behind).
    """
    token = uuid.uuid4().hex
    wf.metadata.setdefault(META, {})["submission"] = token
    for fw in wf.fws:
        fw.spec[TOKEN] = token
    first = lp.get_new_fw_id(quantity=len(wf.id_fw))
    old_new = {old: first + i for i, old in enumerate(sorted(wf.id_fw))}
    for fw in wf.fws:
        fw.fw_id = old_new[fw.fw_id]
    wf._reassign_ids(old_new)
    roots = sorted(wf.root_fw_ids)
    for fid in roots:
        wf.id_fw[fid].state = "PAUSED"
        wf.fw_states[fid] = "PAUSED"
    new_ids = sorted(old_new.values())
    try:
        fw_docs = [fw.to_db_dict() for fw in wf.fws]
        wf_doc = wf.to_db_dict()
        for doc in (*fw_docs, wf_doc):
            size = len(bson.encode(doc))
            if size > MAX_DOC_BYTES:
                raise DispatchError(
                    f"Firework/workflow document {doc.get('name')!r} is {size / 2**20:.1f} MiB, above MongoDB's "
                    "16 MiB limit; pass large inputs by reference (job outputs) instead of in the flow")
    except (bson.errors.BSONError, TypeError, ValueError) as exc:
        raise DispatchError(f"workflow {wf.name!r} cannot be stored: {type(exc).__name__}: {exc}") from None
    try:
        lp.fireworks.insert_many(fw_docs, ordered=True)
        lp.workflows.insert_one(wf_doc)
    except PyMongoError as exc:
        _rollback(lp, new_ids, token)
        raise DispatchError(
            f"adding workflow {wf.name!r} failed ({type(exc).__name__}: {str(exc)[:300]}); nothing was submitted"
        ) from None
    # publish: roots PAUSED -> READY (workflow document first, so a READY Firework always has one)
    now = datetime.now(timezone.utc)
    for fid in roots:
        wf.id_fw[fid].state = "READY"
        wf.fw_states[fid] = "READY"
    try:
        lp.workflows.update_one({f"metadata.{META}.submission": token},
                                {"$set": {**{f"fw_states.{fid}": "READY" for fid in roots},
                                          "state": wf.state, "updated_on": now}})
        lp.fireworks.update_many({"fw_id": {"$in": roots}, TOKEN_Q: token, "state": "PAUSED"},
                                 {"$set": {"state": "READY", "updated_on": now}})
    except PyMongoError as exc:
        _rollback(lp, new_ids, token)
        raise DispatchError(f"publishing workflow {wf.name!r} failed ({type(exc).__name__}); nothing was submitted") from None
    return old_new



def _rollback(lp: LaunchPad, fw_ids: list[int], token: str) -> None:
    try:
        lp.fireworks.delete_many({"fw_id": {"$in": fw_ids}, TOKEN_Q: token})
        lp.workflows.delete_many({f"metadata.{META}.submission": token})
    except PyMongoError as exc:  # the store went away mid-submission: say what is left
        log.error("rollback of submission %s failed (%s); PAUSED Fireworks %s may remain", token, exc, fw_ids)


# ------------------------------------------------------------------------------------------ worker
def make_fworker(categories=None, name: str | None = None, fworker_file: str | None = None) -> FWorker:
    """A FireWorks FWorker pulling ``categories`` (``--category`` values; ``any``: everything).

    A ``my_fworker.yaml`` may give name, query and env; explicit ``categories``/``name`` win.
    """
    from contactflow.dispatch.queue import load_fworker

    base = load_fworker(fworker_file) if fworker_file else None
    cat = worker_categories(categories) if categories else (base.category if base else "")
    name = name or (base.name if base and base.name != "Automatically generated Worker" else None) \
        or f"contactflow@{socket.gethostname()}:{os.getpid()}"
    return FWorker(name=name, category=cat, query=base._query if base else None, env=base.env if base else None)


def run_worker(lp: LaunchPad, fworker: FWorker, once: bool = False, launch_dir: str = ".",
               max_jobs: int = 0, sleep_s: int = 10, timeout_s: int | None = None, idle_s: float = 0) -> int:
    """Run FireWorks rockets here until no job for this worker is ready (or one job with ``once``).

    Parameters
    ----------
    max_jobs
        Stop after this many jobs (0: no limit).
    sleep_s
        Seconds between polls while jobs wait on their parents (and while idle).
    timeout_s
        Stop starting jobs after this long (FireWorks' rapidfire ``timeout``).
    idle_s
        With nothing ready or waiting, keep polling this long for new work before exiting (0: exit at
        once). A worker serving ``contactflow screen --via fireworks`` outlives the gaps between batches
        with it.

    Returns
    -------
    int
        Number of jobs this worker launched.
    """
    from fireworks.core.rocket_launcher import launch_rocket, rapidfire

    def launched() -> int:
        return lp.launches.count_documents({"fworker.name": fworker.name}) - before

    before = lp.launches.count_documents({"fworker.name": fworker.name})
    launch_dir = os.path.abspath(launch_dir)
    os.makedirs(launch_dir, exist_ok=True)
    cwd = os.getcwd()
    t0 = time.monotonic()
    try:
        os.chdir(launch_dir)
        if once:
            return int(bool(launch_rocket(lp, fworker, strm_lvl="INFO")))
        while True:
            left = None if timeout_s is None else max(timeout_s - (time.monotonic() - t0), 0)
            todo = max_jobs - launched() if max_jobs else 0
            rapidfire(lp, fworker, m_dir=launch_dir, nlaunches=todo, sleep_time=sleep_s, strm_lvl="INFO",
                      timeout=left)
            if idle_s <= 0 or (max_jobs and launched() >= max_jobs) or (left is not None and left <= 0):
                break
            if not wait_for_work(lp, fworker, idle_s, sleep_s):
                break
    finally:
        os.chdir(cwd)
    return launched()


def wait_for_work(lp: LaunchPad, fworker: FWorker, idle_s: float, poll_s: float) -> bool:
    """Poll until a job for ``fworker`` is ready or waiting (True) or ``idle_s`` passed without one (False)."""
    deadline = time.monotonic() + idle_s
    while True:
        if lp.run_exists(fworker) or lp.future_run_exists(fworker):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.05)))


# ------------------------------------------------------------------------------------------ status
def _last_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else None


def failed_jobs(lp: LaunchPad, fw_ids: list[int]) -> list[dict]:
    """FIZZLED jobs among ``fw_ids`` with the error (last traceback line) and full traceback of their last launch."""
    out = []
    for fw in lp.fireworks.find({"fw_id": {"$in": fw_ids}, "state": "FIZZLED"},
                                {"fw_id": 1, "name": 1, "launches": 1, "spec._category": 1}).sort("fw_id"):
        tb, err = None, None
        if fw.get("launches"):
            la = lp.launches.find_one({"launch_id": max(fw["launches"])}, {"action.stored_data": 1, "state_history": 1})
            sd = ((la or {}).get("action") or {}).get("stored_data") or {}
            exc = sd.get("_exception") or {}
            tb = exc.get("_stacktrace")
            err = _last_line(tb) or _last_line(exc.get("_details")) or sd.get("_error")
        if err is None:
            err = "lost run (worker stopped without reporting)" if not tb else None
        out.append({"fw_id": fw["fw_id"], "name": fw.get("name"), "category": fw.get("spec", {}).get("_category"),
                    "error": err, "traceback": tb})
    return out


def workflow_status(lp: LaunchPad, project: str | None = None) -> list[dict]:
    """One row per workflow: id, name, project, state, job-state counts and the failed jobs with errors."""
    q = {f"metadata.{META}.project": project} if project else {}
    rows = []
    for wf in lp.workflows.find(q, {"nodes": 1, "name": 1, "state": 1, "fw_states": 1, "metadata": 1,
                                    "created_on": 1}).sort("created_on", 1):
        ids = sorted(wf["nodes"])
        counts = Counter(wf.get("fw_states", {}).values())
        rows.append({
            "id": ids[0], "name": wf.get("name"), "project": (wf.get("metadata") or {}).get(META, {}).get("project"),
            "state": wf.get("state"), "n_jobs": len(ids), "counts": dict(counts),
            "failed": failed_jobs(lp, ids) if counts.get("FIZZLED") else [],
        })
    return rows


def _fw_or_error(lp: LaunchPad, fw_id: int) -> dict:
    doc = lp.fireworks.find_one({"fw_id": fw_id}, {"fw_id": 1, "state": 1, "name": 1})
    if doc is None:
        raise DispatchError(f"no job with id {fw_id} on the LaunchPad; 'contactflow status' lists workflow and job ids")
    return doc


def rerun(lp: LaunchPad, fw_id: int, workflow: bool = False) -> list[int]:
    """Rerun job ``fw_id`` (and its children), or with ``workflow`` every failed job of its workflow."""
    doc = _fw_or_error(lp, fw_id)
    if workflow:
        wf = lp.workflows.find_one({"nodes": fw_id}, {"fw_states": 1})
        targets = sorted(int(k) for k, v in wf["fw_states"].items() if v in ("FIZZLED", "DEFUSED"))
    else:
        if doc["state"] in ("RUNNING", "RESERVED"):
            raise DispatchError(f"job {fw_id} is {doc['state']}; a running job is rerun only when lost "
                                "('contactflow rerun --lost') or after 'contactflow cancel'")
        targets = [fw_id]
    done: list[int] = []
    for fid in targets:
        done.extend(lp.rerun_fw(fid) or [fid])
    return sorted(set(done))


#: FireWorks holds a workflow lock for the milliseconds of one state update. A lock that outlives this
#: while its job's run is lost was left by a worker killed between ``checkout_fw``'s RUNNING write and its
#: unlock (measured: the SLURM kill test hit that window, and ``detect_lostruns`` then waited FireWorks'
#: 300 s lock expiry twice before raising ``LockedWorkflowError``).
STALE_LOCK_S = 10.0


def rerun_lost(lp: LaunchPad, expiration_s: int, stale_lock_s: float = STALE_LOCK_S) -> tuple[list[int], list[int]]:
    """FireWorks ``detect_lostruns``: RUNNING jobs silent for ``expiration_s`` are marked failed and rerun.

    A workflow lock still held by a lost job after ``stale_lock_s`` is released first (see
    :data:`STALE_LOCK_S`). Returns (lost launch ids, lost job ids).
    """
    _, lost, _ = lp.detect_lostruns(expiration_secs=expiration_s)  # detection only: changes nothing
    for fw_id in lost:
        release_stale_lock(lp, fw_id, stale_lock_s)
    launches, fw_ids, _ = lp.detect_lostruns(expiration_secs=expiration_s, rerun=True)
    return launches, fw_ids


def release_stale_lock(lp: LaunchPad, fw_id: int, patience_s: float) -> bool:
    """Release the workflow lock of ``fw_id`` if it is still held after ``patience_s``; True if released."""
    deadline = time.monotonic() + patience_s
    while lp.workflows.count_documents({"nodes": fw_id, "locked": {"$exists": True}}):
        if time.monotonic() >= deadline:
            log.warning("workflow of lost job %d still locked after %.0f s: a lock left by the killed worker; "
                        "releasing it", fw_id, patience_s)
            lp.workflows.update_one({"nodes": fw_id}, {"$unset": {"locked": ""}})
            return True
        time.sleep(0.2)
    return False


def cancel(lp: LaunchPad, fw_id: int, job_only: bool = False) -> list[int]:
    """Defuse the workflow containing ``fw_id`` (or with ``job_only`` that job and its children).

    Completed jobs keep their results; running jobs finish (stop them in the queue, e.g. ``scancel``).
    Returns the ids that are now DEFUSED.
    """
    _fw_or_error(lp, fw_id)
    if job_only:
        lp.defuse_fw(fw_id)
        ids = [fw_id]
    else:
        ids = sorted(lp.workflows.find_one({"nodes": fw_id}, {"nodes": 1})["nodes"])
        lp.defuse_wf(fw_id, defuse_all_states=False)
    return sorted(d["fw_id"] for d in lp.fireworks.find({"fw_id": {"$in": ids}, "state": "DEFUSED"}, {"fw_id": 1}))
