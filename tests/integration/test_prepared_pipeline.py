"""One prepared interface feeds every property: the recipe flow on real calculators and the real store.

- adhesion and traction–separation of si_graphite start from one preparation and agree on W_sep;
- an AA-stacked carbon contact ends prepared at the registry the engine prefers (AB with ReaxFF CHO, as
  in DFT; chgnet+d3 and the shipped committee both put AA lower, see the validation cases; CP2K on this
  cell takes ~200 s per single point on one loaded core, too slow for CI);
- ``run`` and ``submit --via fireworks`` + ``worker`` give the same documents;
- the embedded store killed with ``kill -9`` in the middle of ``run``: one ``error:`` line, and the job
  records and the typed collections agree afterwards; a rerun completes;
- bad ``--set`` values give one ``error:`` line, exit 2, and store nothing.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pymongo
import pytest
from pymatgen.core import Lattice
from pymatgen.core.interface import Interface

from contactflow.store import ContactStore, load_settings
from contactflow.store.views import view_differences

CLI = str(Path(sys.executable).parent / "contactflow")


def cli(*args, env=None, timeout=900):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=env or dict(os.environ),
                          timeout=timeout)


def env_with_db(db: str) -> dict:
    env = dict(os.environ)
    env["CONTACTFLOW_DB"] = db
    return env


@pytest.mark.slow
def test_adhesion_and_traction_share_one_preparation_and_agree(store):
    r = cli("run", "si_graphite", "--task", "adhesion", "--task", "traction_separation",
            "--engine", "chgnet+d3", "--set", "adhesion.relax=false")
    assert r.returncode == 0, r.stderr[-3000:]
    (prep,) = store.find("prepared")
    (ad,) = store.find("adhesion")
    (ts,) = store.find("traction_separation")
    assert prep["state"] == ad["state"] == ts["state"] == "successful"
    assert ad["prepared_key"] == ts["prepared_key"] == prep["doc_key"]
    # the preparation moved the film from the as-built 3.0 Å to the engine's E(d) minimum
    assert prep["as_built_gap_A"] == pytest.approx(3.0, abs=0.05)
    assert 3.2 < prep["gap_A"] < 3.8
    # the prepared cell's energy is the scan's minimum (to the few meV that its own, shorter cell changes)
    assert abs(min(prep["gap_scan_energies_eV"]) - prep["e_interface_eV"]) < 5e-3
    # one number, two tasks: rigid W_sep at the prepared gap vs the UBER well depth
    w_rigid, w_uber = ad["w_sep_rigid_J_per_m2"], ts["w_sep_J_per_m2"]
    assert abs(w_rigid - w_uber) / w_uber < 0.05, (w_rigid, w_uber)
    assert abs(ts["equilibrium_gap_A"] - prep["gap_A"]) < 0.15
    # documents carry the geometry they describe, as typed structures
    assert Interface.from_dict(ad["structure"]).composition == Interface.from_dict(prep["structure"]).composition
    assert view_differences(store) == {}
    assert "prepared" in r.stdout and "gap 3.00 →" in r.stdout


def _bilayer_interface(shift_frac=(0.0, 0.0), gap_A=3.4) -> Interface:
    """A graphene bilayer (a = 2.46 Å) as a pymatgen Interface: substrate sheet below, film sheet above."""
    a, c = 2.46, 25.0
    latt = Lattice([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    z0 = 8.0 / c
    frac = [[0, 0, z0], [1 / 3, 2 / 3, z0]]
    top = [[f[0] + shift_frac[0], f[1] + shift_frac[1], z0 + gap_A / c] for f in frac]
    return Interface(latt, ["C"] * 4, frac + top,
                     site_properties={"interface_label": ["substrate", "substrate", "film", "film"]},
                     gap=gap_A, vacuum_over_film=c - 8.0 - gap_A)


@pytest.mark.slow
def test_aa_stacked_contact_is_prepared_at_the_lowest_energy_registry():
    from contactflow.jobs.prepare import PrepareMaker

    aa = _bilayer_interface()
    doc = PrepareMaker(engine="reaxff:cho", registry_grid=3, device="cpu").compute(aa, "aa-bilayer")
    assert doc.state == "successful", doc.failure_reason
    e = dict(zip(map(tuple, doc.registry_shifts_frac), doc.registry_energies_eV))
    assert e[(0.0, 0.0)] - min(e.values()) > 5e-4  # AA lies above AB with this engine (measured 1.0 meV/cell)
    assert not doc.registry_as_built_is_best
    # AB (or its mirror BA): one film atom over a substrate atom, the other over a hexagon centre
    assert e[tuple(doc.registry_shift_frac)] == min(e.values())
    assert tuple(np.round(doc.registry_shift_frac, 3)) in {(0.333, 0.667), (0.667, 0.333)}
    # the prepared structure carries the shift: one film atom over a substrate atom (AB), not both (AA)
    st = doc.structure
    xy = lambda label: [np.mod(site.frac_coords[:2], 1.0) for site in st if site.properties["interface_label"] == label]
    atop = sum(any(np.allclose(np.mod(f - g + 0.5, 1.0) - 0.5, 0, atol=0.01) for g in xy("substrate")) for f in xy("film"))
    assert atop == 1
    assert 3.1 < doc.gap_A < 3.9


@pytest.mark.slow
def test_run_and_fireworks_submit_give_the_same_documents(store_uri, tmp_path):
    args = ["si_graphite", "--task", "adhesion", "--engine", "chgnet+d3", "--set", "adhesion.relax=false"]
    db_run, db_fw = f"t_run_{uuid.uuid4().hex[:8]}", f"t_fw_{uuid.uuid4().hex[:8]}"
    r = cli("run", *args, env=env_with_db(db_run))
    assert r.returncode == 0, r.stderr[-3000:]
    r = cli("submit", *args, "--via", "fireworks", "--limit", "1", env=env_with_db(db_fw))
    assert r.returncode == 0, r.stderr[-3000:]
    r = cli("worker", "--launch-dir", tmp_path, "--sleep", "1", env=env_with_db(db_fw))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ran 3 job(s)" in r.stdout  # interface → prepare → adhesion
    with pymongo.MongoClient(store_uri) as c:
        for kind in ("prepared", "adhesion"):
            a = {d["doc_key"]: d for d in c[db_run][kind].find({}, {"_id": 0})}
            b = {d["doc_key"]: d for d in c[db_fw][kind].find({}, {"_id": 0})}
            assert set(a) == set(b) and len(a) == 1, kind
            for k in a:
                for f in ("w_sep_J_per_m2", "w_sep_rigid_J_per_m2", "gap_A", "e_interface_eV"):
                    if f in a[k]:
                        assert a[k][f] == pytest.approx(b[k][f], abs=1e-6), f
        c.drop_database(db_run)
        c.drop_database(db_fw)


@pytest.mark.slow
def test_store_killed_mid_run_stops_with_one_line_and_stays_consistent(tmp_path):
    from contactflow.store import embedded

    env = dict(os.environ)
    env.pop("CONTACTFLOW_MONGO_URI", None)
    env.pop("CONTACTFLOW_DB", None)
    home = tmp_path / "home"
    env["CONTACTFLOW_HOME"] = str(home)
    proc = subprocess.Popen([CLI, "run", "si_graphite", "--task", "adhesion", "--engine", "chgnet+d3",
                             "--set", "adhesion.relax=false"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        state = None
        t0 = time.time()
        while time.time() - t0 < 300:  # wait until the flow is running: the first job record exists
            state = embedded.read_state(home)
            if state is not None:
                with pymongo.MongoClient(state.uri, serverSelectionTimeoutMS=2000) as c:
                    if c["contactflow"]["jobs"].count_documents({}) >= 1:
                        break
            time.sleep(0.5)
        assert state is not None, "the embedded store never started"
        os.kill(state.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines[-1].startswith("error:") and "Traceback" not in err, err[-3000:]
    # restart (open_store starts the embedded server again and catches the views up): they agree
    old = {k: os.environ.get(k) for k in ("CONTACTFLOW_HOME", "CONTACTFLOW_MONGO_URI", "CONTACTFLOW_DB")}
    try:
        os.environ["CONTACTFLOW_HOME"] = str(home)
        os.environ.pop("CONTACTFLOW_MONGO_URI", None)
        os.environ.pop("CONTACTFLOW_DB", None)
        with ContactStore(load_settings()) as s:
            from contactflow.store.views import sync_views

            sync_views(s)
            assert view_differences(s) == {}
        r = cli("run", "si_graphite", "--task", "adhesion", "--engine", "chgnet+d3", "--set", "adhesion.relax=false",
                env=env)
        assert r.returncode == 0, r.stderr[-3000:]
        with ContactStore(load_settings()) as s:
            assert view_differences(s) == {}
            assert s.count("adhesion", {"state": "successful"}) >= 1
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        embedded.stop_server(home)


@pytest.mark.parametrize("bad", [
    "adhesion.max_steps=-5", "traction_separation.n_points=abc", "adhesion.fmax=0", "adhesion.no_such_field=1",
    "prepare.registry_grid=x", "traction_separation.n_points=2", "adhesion.relax=maybe", "adhesion", "nosuchtask.x=1",
])
def test_bad_set_values_give_one_line_and_store_nothing(store, bad):
    r = cli("run", "si_graphite", "--task", "adhesion", "--task", "traction_separation", "--set", bad)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert store.db["jobs"].count_documents({}) == 0
    assert all(store.count(k) == 0 for k in ("interfaces", "prepared", "adhesion", "traction_separation"))
