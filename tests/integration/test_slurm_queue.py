"""Workers through a real single-node SLURM (munged + slurmctld + slurmd started here): two recipes
submitted to the LaunchPad, batch jobs via FireWorks qlaunch (sbatch), every job COMPLETED and every
result in the store; a worker killed mid-job is found by detect_lostruns, rerun, and stored once.

Where SLURM cannot run (not root, packages missing, daemons refuse to start) these tests FAIL with
the reason; they are never skipped.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from contactflow.dispatch.fireworks import get_launchpad
from contactflow.paths import WORKFLOWS_DIR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slurm"))
from slurm_cluster import SlurmCluster, SlurmUnavailable  # noqa: E402

CLI = str(Path(sys.executable).parent / "contactflow")
RIGID = ["--via", "fireworks", "--limit", "1", "--engine", "chgnet+d3", "--set", "adhesion.relax=false"]


def run_cli(*args, timeout=600):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=dict(os.environ),
                          timeout=timeout)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
    except SlurmUnavailable as exc:
        pytest.fail(f"SLURM cannot run on this machine: {exc}", pytrace=False)
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    yield cluster
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old
    cluster.stop()


def wait_for(pred, timeout_s: float, what: str, diag=None, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}\n{diag() if diag else ''}")


def diagnose(slurm, lp, launch_dir: Path) -> str:
    """What a timeout needs to be understood: Firework/launch states, the queue, worker output, daemon logs."""
    fws = [(d["fw_id"], d["state"]) for d in lp.fireworks.find({}, {"fw_id": 1, "state": 1})]
    las = [(d["launch_id"], d["fw_id"], d["state"], d.get("host")) for d in lp.launches.find({})]
    q = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True).stdout
    outs = []
    for f in sorted(launch_dir.glob("block_*/launcher_*/*.out")) + sorted(launch_dir.glob("block_*/launcher_*/*.error")):
        outs.append(f"--- {f.name}:\n{f.read_text(errors='replace')[-1500:]}")
    return (f"fireworks {fws}\nlaunches {las}\nscontrol:\n{q[-3000:]}\n" + "\n".join(outs) +
            f"\nslurmd.log:\n{slurm.log_tail('slurmd.log', 1500)}\nslurmctld.log:\n{slurm.log_tail('slurmctld.log', 1500)}")


def slurm_job_state(job_id: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True).stdout
    m = re.search(r"JobState=(\S+)", out)
    return m.group(1) if m else "UNKNOWN"


def queue_templates(tmp_path: Path) -> tuple[Path, Path]:
    """``queue init`` for the gpu category, then edited as a user would for this node (no GPU GRES)."""
    qdir = tmp_path / "queue"
    r = run_cli("queue", "init", "--dir", qdir, "--category", "gpu")
    assert r.returncode == 0, r.stderr
    qa_path = qdir / "my_qadapter.yaml"
    qa = yaml.safe_load(qa_path.read_text())
    assert qa["gres"] == "gpu:1" and qa["_fw_q_type"] == "SLURM"
    qa.update(gres=None, cpus_per_task=1)
    qa_path.write_text(yaml.safe_dump(qa))
    return qa_path, qdir / "my_fworker.yaml"


def launch(qa: Path, fworker: Path, launch_dir: Path, njobs: int) -> list[str]:
    r = run_cli("queue", "launch", "--scheduler", "slurm", "--nodes", 1, "--walltime", "00:10:00",
                "--category", "gpu", "--njobs", njobs, "--qadapter", qa, "--fworker", fworker,
                "--launch-dir", launch_dir)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    m = re.search(r"submitted (\d+) SLURM job\(s\): ([\d, ]+)", r.stdout)
    assert m, r.stdout
    return [s.strip() for s in m.group(2).split(",")]


def fw_names(lp, with_state: bool = False) -> dict:
    """fw_id → job name (the task, without recipe and interface), and its state with ``with_state``."""
    out = {}
    for d in lp.fireworks.find({}, {"fw_id": 1, "name": 1, "state": 1}).sort("fw_id"):
        name = d["name"].split(":")[0]  # "adhesion:si_graphite:if-…"
        out[d["fw_id"]] = (name, d["state"]) if with_state else name
    return out


def run_small_jobs(tmp_path: Path) -> None:
    """The ``small`` jobs (the interface records: no engine) run where the user is, like on a login node."""
    r = run_cli("worker", "--category", "small", "--launch-dir", tmp_path / "small", "--sleep", 1)
    assert r.returncode == 0 and re.search(r"ran [1-9]\d* job\(s\)", r.stdout), r.stdout + r.stderr[-2000:]


@pytest.mark.slow
def test_two_recipes_run_through_sbatch(slurm, store, tmp_path):
    variant = yaml.safe_load((WORKFLOWS_DIR / "si_graphite.yaml").read_text())
    variant.update(name="si_graphite_l3", description="Si(111) three layers on graphite")
    variant["film"]["layers"] = 3
    vpath = tmp_path / "si_graphite_l3.yaml"
    vpath.write_text(yaml.safe_dump(variant))
    for rec in ("si_graphite", vpath):
        r = run_cli("submit", rec, *RIGID, "--project", "slurm-ci")
        assert r.returncode == 0, r.stderr[-2000:]
    qa, fworker = queue_templates(tmp_path)
    launches = tmp_path / "launches"
    lp = get_launchpad(store)
    assert sorted(fw_names(lp).values()) == ["adhesion", "adhesion", "interface", "interface", "prepare", "prepare"]
    run_small_jobs(tmp_path)  # the two interface records

    # --gres reaches sbatch: this node has no GPU, so SLURM refuses the script; the error says so
    r = run_cli("queue", "launch", "--scheduler", "slurm", "--gres", "gpu:1", "--qadapter", qa,
                "--fworker", fworker, "--launch-dir", tmp_path / "refused")
    assert r.returncode == 2 and "sbatch refused the job script" in r.stderr, r.stdout + r.stderr
    assert "gres" in r.stderr.lower()

    # each batch job runs one job (worker --once): the two preparations, then the two adhesion jobs that
    # take the prepared interfaces by reference
    ids = []
    for step in ("prepare", "adhesion"):
        round_ids = launch(qa, fworker, launches, njobs=2)
        assert len(round_ids) == 2
        ids += round_ids
        wait_for(lambda: all(d["state"] in ("COMPLETED", "FIZZLED")
                             for d in lp.fireworks.find({"name": {"$regex": f"^{step}"}})), 420,
                 f"both {step} Fireworks to finish", lambda: diagnose(slurm, lp, launches))
    states = [d["state"] for d in lp.fireworks.find({})]
    assert states == ["COMPLETED"] * 6, fw_names(lp, with_state=True)
    wait_for(lambda: all(slurm_job_state(i) == "COMPLETED" for i in ids), 60,
             f"SLURM jobs {ids} to be COMPLETED", lambda: diagnose(slurm, lp, launches))

    docs = store.find("adhesion", {}, sort=[("n_atoms", 1)])
    assert [d["recipe_name"] for d in docs] == ["si_graphite", "si_graphite_l3"]
    assert [d["n_atoms"] for d in docs] == [68, 74]  # 2 vs 3 Si layers on the same graphite cell
    for d in docs:
        assert d["state"] == "successful" and d["w_sep_J_per_m2"] > 0
        assert store.db["jobs"].count_documents({"uuid": d["provenance"]["job_uuid"]}) == 1
    # each batch script carried the resources and the worker command
    scripts = sorted(launches.glob("block_*/launcher_*/FW_submit.script"))
    assert len(scripts) == 4
    for s in scripts:
        text = s.read_text()
        assert "#SBATCH --nodes=1" in text and "#SBATCH --time=00:10:00" in text and "--gres" not in text
        assert "worker --once --category gpu" in text
    r = run_cli("status", "--project", "slurm-ci")
    assert r.returncode == 0 and r.stdout.count("COMPLETED 3") == 2, r.stdout


@pytest.mark.slow
def test_killed_worker_is_detected_lost_rerun_and_stored_once(slurm, store, tmp_path):
    r = run_cli("submit", "si_graphite", *RIGID, "--set", "adhesion.fix_bottom_A=1.5", "--project", "fault")
    assert r.returncode == 0, r.stderr[-2000:]
    qa, fworker = queue_templates(tmp_path)
    lp = get_launchpad(store)
    run_small_jobs(tmp_path)
    (fid,) = [i for i, n in fw_names(lp).items() if n == "prepare"]  # the preparation is the job killed
    launches = tmp_path / "launches"
    (job_id,) = launch(qa, fworker, launches, njobs=1)
    wait_for(lambda: lp.fireworks.find_one({"fw_id": fid})["state"] == "RUNNING", 180, "the job to start",
             lambda: diagnose(slurm, lp, launches))
    # kill the worker mid-job (as an OOM kill or a node failure would)
    subprocess.run(["scancel", "--signal=KILL", "--full", job_id], check=True)
    wait_for(lambda: slurm_job_state(job_id) in ("CANCELLED", "FAILED", "COMPLETED"), 60, "the batch job to end",
             lambda: diagnose(slurm, lp, launches))
    assert slurm_job_state(job_id) in ("CANCELLED", "FAILED")
    assert store.count("prepared") == 0, "the kill came after the result was stored: not mid-job"
    assert lp.fireworks.find_one({"fw_id": fid})["state"] == "RUNNING"  # FireWorks has not noticed

    time.sleep(1.5)
    r = run_cli("status", "--project", "fault", "--expire", 1)
    assert r.returncode == 0 and f"possibly lost: running job(s) [{fid}]" in r.stdout, r.stdout + r.stderr
    r = run_cli("rerun", "--lost", "--expire", 1)
    assert r.returncode == 0 and f"lost runs: 1 job(s) [{fid}]" in r.stdout, r.stdout + r.stderr
    assert lp.fireworks.find_one({"fw_id": fid})["state"] == "READY"

    (job2,) = launch(qa, fworker, launches, njobs=1)
    wait_for(lambda: lp.fireworks.find_one({"fw_id": fid})["state"] in ("COMPLETED", "FIZZLED"), 300,
             "the rerun to finish", lambda: diagnose(slurm, lp, launches))
    assert lp.fireworks.find_one({"fw_id": fid})["state"] == "COMPLETED"
    (prep,) = store.find("prepared", {})  # exactly one result for the job
    assert sorted(d["state"] for d in lp.launches.find({"fw_id": fid})) == ["COMPLETED", "FIZZLED"]
    assert store.db["jobs"].count_documents({"uuid": prep["provenance"]["job_uuid"]}) == 1
    # the adhesion job, waiting on the preparation until now, runs from the rerun's prepared interface
    (job3,) = launch(qa, fworker, launches, njobs=1)
    wait_for(lambda: all(d["state"] in ("COMPLETED", "FIZZLED") for d in lp.fireworks.find({})), 300,
             "the adhesion job to finish", lambda: diagnose(slurm, lp, launches))
    (doc,) = store.find("adhesion", {})
    assert doc["settings"]["fix_bottom_A"] == 1.5 and doc["state"] == "successful"
    assert doc["prepared_key"] == prep["doc_key"]
