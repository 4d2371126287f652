"""Preparation: a registry scan with relaxation relaxes every registry (lockstep) and compares relaxed
energies; the preparation's estimate and what the engine computed are in its provenance."""

import numpy as np
import pytest
from pymatgen.core import Lattice
from pymatgen.core.interface import Interface

from contactflow.jobs.prepare import PrepareMaker


def bilayer(gap_A: float = 3.0) -> Interface:
    """AA graphene bilayer (a = 2.46 Å), the film sheet ``gap_A`` above the substrate sheet."""
    a, c = 2.46, 25.0
    latt = Lattice([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    z0 = 8.0 / c
    frac = [[0, 0, z0], [1 / 3, 2 / 3, z0]]
    top = [[f[0], f[1], z0 + gap_A / c] for f in frac]
    return Interface(latt, ["C"] * 4, frac + top,
                     site_properties={"interface_label": ["substrate", "substrate", "film", "film"]},
                     gap=gap_A, vacuum_over_film=c - 8.0 - gap_A)


@pytest.mark.slow
def test_registry_scan_with_relaxation_compares_relaxed_energies():
    kw = dict(engine="chgnet+d3", device="cpu", registry_grid=2, gap_points=3)
    rigid = PrepareMaker(**kw).compute(bilayer(), "aa")
    relaxed = PrepareMaker(**kw, registry_relax_steps=40, fmax=0.02).compute(bilayer(), "aa")
    assert rigid.state == relaxed.state == "successful"
    e_rigid, e_relaxed = np.asarray(rigid.registry_energies_eV), np.asarray(relaxed.registry_energies_eV)
    # 3.0 Å is inside the repulsive wall: relaxing the film sheet away lowers every registry
    assert np.all(e_relaxed < e_rigid - 1e-3)
    assert relaxed.settings["registry_relax_steps"] == 40 and "registry_relax_steps" not in rigid.settings
    assert relaxed.doc_key != rigid.doc_key
    prov = rigid.provenance
    assert prov.estimated_wall_time_s > 0 and prov.job_budget_s > 0
    assert prov.computed_properties == ["energy"]  # scans and single points only: no forces were computed
