"""Tiny real screens through the real pipeline and store: SnO2(110)/rGO with CHGNet+D3, rigid W_sep
(adhesion.relax=false) and descriptors.

- locally via the CLI, budget 3 (two Sobol designs, then one acquisition batch), then ``screen show``;
  a rerun with the same budget runs nothing (resumed from the store);
- through FireWorks with two ``contactflow worker`` processes, budget 4 in batches of 2, the screen
  killed (SIGKILL) mid-batch and restarted: each design is evaluated exactly once (one workflow, one
  launch per job, one document per task) and both workers ran jobs.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from contactflow.paths import WORKFLOWS_DIR

CLI = str(Path(sys.executable).parent / "contactflow")


def tiny_space(tmp_path: Path, name: str = "tiny") -> Path:
    """The shipped example space, cut down: 2 Sobol start designs, 8-design pool, one registry, 3 gaps."""
    data = yaml.safe_load((WORKFLOWS_DIR / "screening" / "rgo_oc.yaml").read_text())
    data["name"] = name
    data["surrogate"] = {"initial": 2, "pool": 8, "mc_samples": 16}
    data["sets"] = ["adhesion.relax=false", "prepare.registry_grid=1", "prepare.gap_points=3"]
    space = tmp_path / f"{name}.yaml"
    space.write_text(yaml.safe_dump(data))
    return space


@pytest.mark.slow
def test_tiny_real_screen(store, tmp_path):
    space = tiny_space(tmp_path)
    env = dict(os.environ)
    r = subprocess.run([CLI, "screen", str(space), "--budget", "3", "--batch", "2", "--plot", str(tmp_path / "p.png")],
                       capture_output=True, text=True, env=env, timeout=3000, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    # not a terminal: no progress lines, no bar (contactflow screen in a terminal: test_cli_progress)
    # (the jobs' own log records — estimates, "N/M points, … s left" — still go to stderr, as logs do)
    assert "batch 0" not in r.stderr and "screen:" not in r.stderr and "━" not in r.stderr, r.stderr[-2000:]
    (doc,) = store.find("screening")
    assert [e["state"] for e in doc["evaluations"]] == ["successful"] * 3, doc["evaluations"]
    assert [(e["batch"], e["how"]) for e in doc["evaluations"]] == [(0, "initial"), (0, "initial"), (1, "acquisition")]
    assert doc["evaluations_history"] == [2, 3]
    for e in doc["evaluations"]:
        (key,) = e["doc_keys"]["adhesion"]
        ad = store.get("adhesion", key)
        assert ad["recipe_name"] == e["recipe_name"] and ad["w_sep_J_per_m2"] == e["values"]["adhesion.w_sep_J_per_m2"]
        assert e["features"]["n_atoms"] <= 160
    assert doc["evaluations"][2]["predicted"]  # the GP's prediction at proposal time is kept
    assert doc["pareto"] and len(doc["hypervolume_history"]) == 2
    assert (tmp_path / "p.png").stat().st_size > 10_000
    n_jobs = store.db["jobs"].count_documents({})
    r = subprocess.run([CLI, "screen", str(space), "--budget", "3"], capture_output=True, text=True, env=env,
                       timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert store.db["jobs"].count_documents({}) == n_jobs  # nothing ran again
    assert "Pareto set — tiny" in r.stdout


def _wait_for(what: str, cond, proc=None, limit_s: float = 1500):
    """Poll ``cond`` until true (a guard against a hang, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not cond():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended first (rc {proc.returncode})")
        assert time.monotonic() < deadline, f"{what}: not reached"
        time.sleep(0.2)


@pytest.mark.slow
def test_screen_through_fireworks_with_two_workers_killed_mid_batch_and_resumed(store, tmp_path):
    from contactflow.dispatch.fireworks import get_launchpad

    space = tiny_space(tmp_path, "fwtiny")
    env = dict(os.environ)
    lp = get_launchpad(store)
    workers = [subprocess.Popen([CLI, "worker", "--category", "any", "--name", f"w{i}", "--sleep", "1",
                                 "--idle", "900", "--launch-dir", str(tmp_path / f"w{i}")],
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"w{i}.log", "w"), env=env)
               for i in (0, 1)]
    args = [CLI, "screen", str(space), "--via", "fireworks", "--budget", "4", "--batch", "2", "--poll", "1"]
    try:
        first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "first.log", "w"),
                                 env=env, cwd=tmp_path)
        # mid-batch: both designs of batch 0 are on the LaunchPad and a worker finished one of their jobs
        _wait_for("batch 0 running on the workers", lambda: lp.workflows.count_documents({}) == 2
                  and lp.fireworks.count_documents({"state": "COMPLETED"}) >= 1, first)
        first.send_signal(signal.SIGKILL)
        first.wait()
        (saved,) = store.find("screening")
        assert [e["state"] for e in saved["evaluations"]] == ["proposed", "proposed"]  # killed before recording
        r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1500, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:] + (tmp_path / "w0.log").read_text()[-2000:]
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=120)
    (doc,) = store.find("screening")
    evs = doc["evaluations"]
    assert [e["state"] for e in evs] == ["successful"] * 4, [e.get("reason") for e in evs]
    assert doc["via"] == "fireworks" and doc["evaluations_history"] == [2, 4]
    names = [e["recipe_name"] for e in evs]
    assert len(set(names)) == 4
    # exactly once: one workflow per design, one launch per job, one job record per job, one document per task
    wfs = list(lp.workflows.find({}, {"name": 1, "state": 1, "nodes": 1}))
    assert sorted(w["name"] for w in wfs) == sorted(names) and {w["state"] for w in wfs} == {"COMPLETED"}
    n_jobs = lp.fireworks.count_documents({})
    assert lp.launches.count_documents({}) == n_jobs == store.db["jobs"].count_documents({}) == 4 * len(wfs[0]["nodes"])
    for e in evs:
        for kind in ("prepared", "adhesion", "descriptors"):
            assert store.count(kind, {"recipe_name": e["recipe_name"]}) == 1, (kind, e["recipe_name"])
        (key,) = e["doc_keys"]["adhesion"]
        assert store.get("adhesion", key)["w_sep_J_per_m2"] == e["values"]["adhesion.w_sep_J_per_m2"]
    # both workers ran jobs (the LaunchPad records which worker launched each)
    by_worker = {n: lp.launches.count_documents({"fworker.name": n}) for n in ("w0", "w1")}
    assert all(by_worker.values()) and sum(by_worker.values()) == n_jobs, by_worker
    shown = subprocess.run([CLI, "screen", "show", "fwtiny", "--format", "json"], capture_output=True, text=True,
                           env=env, timeout=600, cwd=tmp_path)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    out = json.loads(shown.stdout)
    assert out["pareto"] == doc["pareto"] and "o_to_c" in {r["variable"] for r in out["design_rules"]}


@pytest.mark.slow
def test_bad_screens_end_in_one_error_line_before_anything_runs(store, tmp_path):
    """A variable on no recipe field, an objective no task produces, an empty feasible region (every
    sampled design builds more atoms than allowed), a bad --via / --poll: one line, exit 2, nothing stored."""
    base = yaml.safe_load(tiny_space(tmp_path).read_text())
    cases = [
        ({"variables": [{"name": "thick", "path": "film.thickness", "low": 1, "high": 2}]}, [],
         "error: variables.thick.path: 'film.thickness' maps to no recipe field; fields of film:"),
        ({"objectives": [{"field": "adhesion.w_sep_eV", "direction": "maximize"}]}, [],
         "error: objectives: 'adhesion.w_sep_eV': the adhesion task's AdhesionDoc has no field 'w_sep_eV'; numeric fields:"),
        ({"objectives": [{"field": "friction.mu", "direction": "minimize"}]}, [],
         "error: objectives: 'friction.mu': no task 'friction' produces it; tasks: adhesion"),
        ({}, ["--via", "slurm"], "error: unknown --via 'slurm'; valid: local, fireworks"),
        ({}, ["--via", "fireworks", "--poll", "0"], "error: --poll must be > 0 s, got 0.0"),
        ({"constraints": [{"field": "n_atoms", "max": 20}]}, [],
         "error: empty feasible region: none of 8 sampled designs builds an interface that satisfies the constraints "
         "(n_atoms in [None, 20.0]); e.g. n_atoms="),
    ]
    for i, (over, opts, expect) in enumerate(cases):
        p = tmp_path / f"bad{i}.yaml"
        p.write_text(yaml.safe_dump({**base, **over}))
        r = subprocess.run([CLI, "screen", str(p), "--budget", "2", *opts], capture_output=True, text=True,
                           env=dict(os.environ), timeout=600, cwd=tmp_path)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(expect), (expect, r.stderr[-2000:])
    assert store.find("screening") == [] and store.db["jobs"].count_documents({}) == 0
    assert "fireworks" not in store.db.list_collection_names() or store.db["fireworks"].count_documents({}) == 0
