"""Shared fixtures: a real embedded MongoDB-protocol server (SecantusDB) over a socket, never a mock.

The session starts one server in a temporary ``CONTACTFLOW_HOME``; each test that asks for ``store``
gets its own database on it (``CONTACTFLOW_DB``) via the environment, so jobs that open the store
themselves (as they do on a worker) land in the same place.
"""

import os
import uuid

import pytest

from contactflow.store import ContactStore, embedded, load_settings


@pytest.fixture(scope="session", autouse=True)
def contactflow_home(tmp_path_factory):
    """Keep every test away from the user's ~/.contactflow."""
    home = tmp_path_factory.mktemp("cfhome")
    old = {k: os.environ.get(k) for k in ("CONTACTFLOW_HOME", "CONTACTFLOW_MONGO_URI", "CONTACTFLOW_DB")}
    os.environ["CONTACTFLOW_HOME"] = str(home)
    os.environ.pop("CONTACTFLOW_MONGO_URI", None)
    os.environ.pop("CONTACTFLOW_DB", None)
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def store_server(tmp_path_factory):
    """One embedded server for the session (its own home), stopped at the end."""
    home = tmp_path_factory.mktemp("server")
    state = embedded.start_server(home)
    yield state
    embedded.stop_server(home)


@pytest.fixture
def store_uri(store_server, monkeypatch):
    """Point contactflow at the session server with a fresh database for this test."""
    db = f"test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("CONTACTFLOW_MONGO_URI", store_server.uri)
    monkeypatch.setenv("CONTACTFLOW_DB", db)
    yield store_server.uri
    import pymongo

    with pymongo.MongoClient(store_server.uri) as c:
        c.drop_database(db)


@pytest.fixture
def store(store_uri):
    """A ContactStore on this test's database."""
    s = ContactStore(load_settings())
    yield s
    s.close()


@pytest.fixture(scope="session")
def cli():
    """Run the real command line in-process, as the console script does (``run_cli``: one-line errors,
    exit codes); returns ``(exit_code, stdout, stderr)``."""
    import sys

    from typer.testing import CliRunner

    from contactflow.cli.common import run_cli

    def invoke(*args: str, env: dict | None = None) -> tuple[int, str, str]:
        runner = CliRunner()
        with runner.isolation(env=env) as (out, err, _):
            code = run_cli([str(a) for a in args])
            sys.stdout.flush()
            sys.stderr.flush()
            return code, out.getvalue().decode(), err.getvalue().decode()

    return invoke

@pytest.fixture(scope="session")
def web_seed_docs():
    """Documents for the results browser's tests, built from the real ``si_graphite`` recipe: three
    InterfaceDocs (the three smallest matches) and, for the smallest, a TractionSeparationDoc whose
    E(d) is a real rigid separation scan of that interface, computed with ASE's Lennard-Jones
    calculator (engine ``lj:test``; fast and deterministic) and fitted with contactflow's UBER fit."""
    import numpy as np
    from ase.calculators.lj import LennardJones
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.jobs.traction import fit_uber
    from contactflow.recipes import load_recipe
    from contactflow.schemas import InterfaceDoc
    from contactflow.schemas.traction import TractionSeparationDoc
    from contactflow.structures.separation import interface_gap_A, separation_images

    rec = load_recipe("si_graphite")
    cands = rec.build()[:3]
    ifaces = [InterfaceDoc.from_candidate(c, rec.name, rec.recipe_hash) for c in cands]
    iface = cands[0].interface
    atoms = AseAtomsAdaptor.get_atoms(iface)
    atoms.set_constraint()
    film, sub = list(iface.film_indices), list(iface.substrate_indices)
    g0 = interface_gap_A(atoms, film, sub)
    gaps = [float(g) for g in np.linspace(max(1.6, g0 - 1.0), g0 + 6.0, 14)]
    images, cell = separation_images(atoms, film, gaps)
    calc = LennardJones(sigma=2.9, epsilon=0.02, rc=9.0, smooth=True)

    def energy(a):
        a = a.copy()
        a.calc = calc
        return float(a.get_potential_energy())

    area = float(np.linalg.norm(np.cross(*atoms.cell[:2])))
    e_film, e_sub = energy(cell[film]), energy(cell[sub])
    eb = [(energy(a) - e_film - e_sub) / area * 16.021766 for a in images]
    fit = fit_uber(gaps, eb)
    ts = TractionSeparationDoc(
        doc_key=f"ts-lj-{ifaces[0].interface_id}", interface_id=ifaces[0].interface_id, recipe_name=rec.name,
        system=ifaces[0].system, engine="lj:test", settings={"gaps_A": gaps}, state="successful", area_A2=area,
        n_atoms=len(iface), gaps_A=gaps, binding_energy_J_per_m2=eb, w_sep_J_per_m2=fit.w_sep_J_per_m2,
        sigma_max_GPa=fit.sigma_max_GPa, delta_c_A=fit.length_A, uber_length_A=fit.length_A,
        equilibrium_gap_A=fit.gap0_A, fit_r2=fit.r2, n_points_fitted=fit.n_points,
    )
    narrow = (f"interface_id == {ifaces[0].interface_id}", [ifaces[0].interface_id])
    for f in ("strain_pct", "area_A2", "n_atoms"):  # a filter on a value that tells the interfaces apart
        vals = sorted({getattr(d, f) for d in ifaces})
        if len(vals) > 1:
            narrow = (f"{f} <= {vals[0]!r}", [d.interface_id for d in ifaces if getattr(d, f) <= vals[0]])
            break
    return {"interfaces": ifaces, "traction": [ts], "narrow": narrow}
