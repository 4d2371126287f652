"""FireWorks dispatch against the real embedded store: submit (atomic, --dedupe), categories, workers,
failed jobs with their traceback, rerun/cancel, queue templates without credentials, bad input."""

import math
import os
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pymongo
import pytest
import yaml
from jobflow import Flow, Job

from contactflow.dispatch.fireworks import (
    cancel, get_launchpad, make_fworker, rerun, rerun_lost, run_worker, submit_flow, workflow_status,
)
from contactflow.dispatch.queue import load_qadapter
from contactflow.errors import DispatchError

CLI = str(Path(sys.executable).parent / "contactflow")
SUBMIT = ["submit", "si_graphite", "--via", "fireworks", "--limit", "1", "--engine", "chgnet+d3",
          "--set", "adhesion.relax=false"]


def run_cli(*args, env=None, timeout=600):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=env or dict(os.environ),
                          timeout=timeout)


@pytest.mark.slow
def test_submit_dedupe_categories_and_worker(store, tmp_path):
    args = [*SUBMIT, "--project", "fw-e2e", "--dedupe"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    # interface (no engine: small) → prepare (CHGNet: gpu) → adhesion (gpu)
    assert "submitted workflow" in r.stdout and "gpu 2" in r.stdout and "small 1" in r.stdout
    r = run_cli(*args)
    assert r.returncode == 0 and "already submitted" in r.stdout, r.stdout + r.stderr[-1000:]
    lp = get_launchpad(store)
    assert lp.workflows.count_documents({}) == 1
    fws = {f["name"].split(":")[0]: f for f in lp.fireworks.find({})}
    assert set(fws) == {"interface", "prepare", "adhesion"}
    assert fws["interface"]["spec"]["_category"] == "small" and fws["interface"]["state"] == "READY"
    fw = fws["adhesion"]
    assert fw["spec"]["_category"] == "gpu" and fw["state"] == "WAITING"  # CHGNet job -> GPU category
    # a CPU (DFT) worker takes none of them
    assert run_worker(lp, make_fworker(["cpu"]), once=True, launch_dir=tmp_path / "cpu") == 0
    r = run_cli("worker", "--category", "small", "--launch-dir", tmp_path / "small")
    assert r.returncode == 0 and "ran 1 job(s)" in r.stdout, r.stderr[-3000:]

    r = run_cli("worker", "--category", "gpu", "--launch-dir", tmp_path / "gpu")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ran 2 job(s)" in r.stdout
    assert lp.fireworks.find_one({"fw_id": fw["fw_id"]})["state"] == "COMPLETED"
    (prep,) = store.find("prepared", {"recipe_name": "si_graphite"})
    (doc,) = store.find("adhesion", {"recipe_name": "si_graphite"})
    assert doc["state"] == "successful" and 0 < doc["w_sep_J_per_m2"] < 0.8  # vdW contact, see test_demo
    assert doc["prepared_key"] == prep["doc_key"]
    # the jobflow output went to the JobStore of the same database, linked by the job uuid
    out = store.db["jobs"].find_one({"uuid": doc["provenance"]["job_uuid"]})
    assert out["output"]["w_sep_J_per_m2"] == pytest.approx(doc["w_sep_J_per_m2"], rel=1e-12)

    # submitting the finished workflow again with --dedupe adds nothing and nothing runs twice
    r = run_cli(*args)
    assert "already submitted" in r.stdout and "COMPLETED" in r.stdout
    assert run_worker(lp, make_fworker(["gpu"]), once=True, launch_dir=tmp_path / "again") == 0
    assert lp.launches.count_documents({}) == 3 and store.count("adhesion") == 1

    r = run_cli("status", "--project", "fw-e2e")
    assert r.returncode == 0 and "COMPLETED 3" in r.stdout and "si_graphite" in r.stdout


def test_failed_job_keeps_error_and_traceback_rerun_and_cancel(store, tmp_path):
    lp = get_launchpad(store)
    flow = Flow([Job(math.sqrt, function_args=(-1.0,), name="sqrt-of-minus-one")], name="fails")
    res = submit_flow(flow, lp, project="failing")
    assert res.categories == {"small": 1}  # no engine: analysis-sized job
    assert run_worker(lp, make_fworker(["small"]), once=True, launch_dir=tmp_path) == 1
    (row,) = workflow_status(lp, "failing")
    assert row["state"] == "FIZZLED" and row["counts"] == {"FIZZLED": 1}
    (f,) = row["failed"]
    assert f["error"] == "ValueError: math domain error"
    assert f["traceback"].startswith("Traceback") and "math domain error" in f["traceback"]
    # it is in the store: the launch document of the FIZZLED job
    launch = store.db["launches"].find_one({"fw_id": res.workflow_id})
    assert "math domain error" in launch["action"]["stored_data"]["_exception"]["_stacktrace"]

    r = run_cli("status", "--project", "failing")
    assert r.returncode == 0 and "math domain error" in r.stdout and "FIZZLED 1" in r.stdout

    assert rerun(lp, res.workflow_id) == [res.workflow_id]
    assert lp.fireworks.find_one({"fw_id": res.workflow_id})["state"] == "READY"
    assert cancel(lp, res.workflow_id) == [res.workflow_id]
    assert workflow_status(lp, "failing")[0]["state"] == "DEFUSED"
    assert run_worker(lp, make_fworker(["small"]), once=True, launch_dir=tmp_path) == 0
    with pytest.raises(DispatchError, match="no job with id 999"):
        rerun(lp, 999)


def test_submission_is_atomic(store):
    lp = get_launchpad(store)
    nxt = lp.fw_id_assigner.find_one({})["next_fw_id"]
    # a Firework that holds the id the counter hands out next (e.g. written by a crashed/older writer):
    # FireWorks' add_wf would silently delete it; here the insert fails and is rolled back
    lp.fireworks.insert_one({"fw_id": nxt + 1, "name": "stray", "state": "COMPLETED", "spec": {}})
    flow = Flow([Job(math.sqrt, function_args=(float(i),)) for i in (1, 4, 9)], name="three")
    with pytest.raises(DispatchError, match="nothing was submitted"):
        submit_flow(flow, lp, project="atomic")
    assert lp.workflows.count_documents({}) == 0
    assert [d["name"] for d in lp.fireworks.find({})] == ["stray"]
    lp.fireworks.delete_one({"name": "stray"})
    res = submit_flow(flow, lp, project="atomic")
    assert len(res.fw_ids) == 3 and res.state == "READY"
    assert sorted(d["state"] for d in lp.fireworks.find({"fw_id": {"$in": res.fw_ids}})) == ["READY"] * 3
    (wf,) = lp.workflows.find({})
    assert wf["state"] == "READY" and set(wf["fw_states"].values()) == {"READY"}


def test_lost_run_whose_killed_worker_left_the_workflow_locked_is_rerun(store, tmp_path):
    """A worker killed inside FireWorks' lock window (RUNNING written, lock not yet released)."""
    lp = get_launchpad(store)
    res = submit_flow(Flow([Job(math.sqrt, function_args=(4.0,), name="sqrt")], name="lost"), lp, project="lost")
    fw, _ = lp.checkout_fw(make_fworker(["small"]), launch_dir=str(tmp_path))
    assert fw.fw_id == res.workflow_id and lp.fireworks.find_one({"fw_id": fw.fw_id})["state"] == "RUNNING"
    lp.workflows.update_one({"nodes": fw.fw_id}, {"$set": {"locked": True}})  # left by the killed worker
    time.sleep(1.5)  # no ping since: lost after 1 s
    t0 = time.monotonic()
    launches, ids = rerun_lost(lp, 1, stale_lock_s=1.0)
    assert ids == [fw.fw_id] and len(launches) == 1
    assert time.monotonic() - t0 < 60  # FireWorks alone waits out its 300 s lock expiry, twice
    assert lp.fireworks.find_one({"fw_id": fw.fw_id})["state"] == "READY"
    assert "locked" not in lp.workflows.find_one({"nodes": fw.fw_id})
    assert rerun_lost(lp, 1) == ([], [])  # nothing lost any more
    assert run_worker(lp, make_fworker(["small"]), once=True, launch_dir=tmp_path) == 1
    assert lp.fireworks.find_one({"fw_id": fw.fw_id})["state"] == "COMPLETED"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cli_bad_input_submits_nothing(store, tmp_path):
    r = run_cli("worker", "--category", "gpux")
    assert r.returncode == 2 and "unknown category 'gpux'; valid categories: gpu, cpu, small, any" in r.stderr
    r = run_cli(*SUBMIT[:4], "--set", "adhesion.relx=false")
    assert r.returncode == 2 and "AdhesionMaker has no field(s) relx" in r.stderr
    bad = tmp_path / "my_qadapter.yaml"
    bad.write_text("_fw_name: CommonAdapter\n_fw_q_type: SLURM\nrocket_launch: contactflow worker\nwaltime: 1\n")
    r = run_cli("queue", "launch", "--qadapter", bad, "--launch-dir", tmp_path)
    assert r.returncode == 2 and "unknown key(s) ['waltime']" in r.stderr
    # unreachable LaunchPad: a specific error within the 5 s server-selection timeout, nothing stored
    env = {**os.environ, "CONTACTFLOW_MONGO_URI": f"mongodb://127.0.0.1:{_free_port()}/"}
    t0 = time.monotonic()
    r = run_cli(*SUBMIT, env=env)
    assert r.returncode == 2 and "cannot reach MongoDB at mongodb://127.0.0.1:" in r.stderr
    assert time.monotonic() - t0 < 60
    assert "fireworks" not in store.db.list_collection_names() or store.db["fireworks"].count_documents({}) == 0


@pytest.mark.slow
def test_queue_init_keeps_password_out_of_files(store_server, store, tmp_path):
    user, pw = f"u{uuid.uuid4().hex[:8]}", "s3cret-Pw-" + uuid.uuid4().hex[:6]
    with pymongo.MongoClient(store_server.uri) as c:
        c.admin.command("createUser", user, pwd=pw, roles=["root"])
    try:
        uri = f"mongodb://{user}:{pw}@127.0.0.1:{store_server.port}/?authSource=admin"
        r = run_cli("queue", "init", "--dir", tmp_path, "--category", "cpu",
                    env={**os.environ, "CONTACTFLOW_MONGO_URI": uri})
        assert r.returncode == 0, r.stderr[-2000:]
        for name in ("my_qadapter.yaml", "my_fworker.yaml", "my_launchpad.yaml"):
            p = tmp_path / name
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
            assert pw not in p.read_text()
        lpd = yaml.safe_load((tmp_path / "my_launchpad.yaml").read_text())
        assert lpd["host"] == f"mongodb://{user}@127.0.0.1:{store_server.port}/?authSource=admin"
        assert lpd["name"] == store.settings.database and lpd["uri_mode"] is True
        assert "password is NOT written" in (tmp_path / "my_launchpad.yaml").read_text()
        qa = load_qadapter(tmp_path / "my_qadapter.yaml")
        assert qa["ntasks"] > 1 and qa["rocket_launch"].endswith("worker --once")  # cpu profile: multi-core
        assert yaml.safe_load((tmp_path / "my_fworker.yaml").read_text())["category"] == "cpu"
        r = run_cli("queue", "init", "--dir", tmp_path)
        assert r.returncode == 2 and "already exist" in r.stderr and "--force" in r.stderr
    finally:
        with pymongo.MongoClient(store_server.uri) as c:
            c.admin.command("dropUser", user)


def test_idle_worker_waits_for_the_next_batch_and_an_idle_one_exits(store, tmp_path):
    """``worker --idle``: a worker that ran out of jobs keeps polling and runs a workflow submitted later
    (as between the batches of ``screen --via fireworks``); with nothing to do it exits after the wait."""
    lp = get_launchpad(store)
    assert run_worker(lp, make_fworker(["small"]), idle_s=0.5, sleep_s=1, launch_dir=tmp_path / "idle") == 0
    first = submit_flow(Flow([Job(math.sqrt, function_args=(4.0,), name="first")], name="b0"), lp, project="idle")
    w = subprocess.Popen([CLI, "worker", "--category", "small", "--max-jobs", "2", "--idle", "600", "--sleep", "1",
                          "--launch-dir", str(tmp_path / "w")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 300  # a guard against a hang, not a timing assertion
        while lp.fireworks.find_one({"fw_id": first.workflow_id})["state"] != "COMPLETED":
            assert w.poll() is None and time.monotonic() < deadline, w.stderr.read() if w.poll() is not None else ""
            time.sleep(0.2)
        assert w.poll() is None  # nothing left to run: the worker waits instead of exiting
        second = submit_flow(Flow([Job(math.sqrt, function_args=(9.0,), name="second")], name="b1"), lp,
                             project="idle")
        out, err = w.communicate(timeout=300)
    finally:
        if w.poll() is None:
            w.kill()
    assert w.returncode == 0 and "ran 2 job(s)" in out, err[-2000:]
    assert lp.fireworks.find_one({"fw_id": second.workflow_id})["state"] == "COMPLETED"
