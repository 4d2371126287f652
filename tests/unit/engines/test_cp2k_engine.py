"""CP2K engine: spec, settings, k-point grid, element coverage, and SCF failure as a failure."""

import shutil

import numpy as np
import pytest
from ase import Atoms

from contactflow.engines import CalculationFailedError, UnsupportedElementsError, check_elements, engine_info, parse_spec
from contactflow.engines.cp2k import PRESETS, ContactflowCP2K, cp2k_elements, kpoint_grid
from contactflow.errors import EngineSpecError

needs_cp2k = pytest.mark.skipif(shutil.which("cp2k_shell.psmp") is None, reason="Debian cp2k not installed")


def test_spec_defaults_to_the_loose_pbe_d3_preset():
    assert parse_spec("cp2k").canonical == "cp2k:pbe-d3"
    assert parse_spec("CP2K:PBE-D3-Tight").canonical == "cp2k:pbe-d3-tight"
    with pytest.raises(EngineSpecError, match="valid CP2K presets: pbe-d3, pbe-d3-tight"):
        parse_spec("cp2k:b3lyp")
    with pytest.raises(EngineSpecError, match="takes no modifier"):
        parse_spec("cp2k+d3")


def test_presets_are_pbe_d3bj_with_gth_molopt():
    for p in PRESETS.values():
        assert p["xc"] == "PBE" and p["dispersion"] == "DFTD3(BJ)"
        assert p["basis_set"].endswith("MOLOPT-SR-GTH") and p["pseudo_potential"] == "GTH-PBE"
    # tighter preset is tighter in every convergence setting
    lo, hi = PRESETS["pbe-d3"], PRESETS["pbe-d3-tight"]
    assert hi["cutoff_Ry"] > lo["cutoff_Ry"] and hi["kspacing_per_A"] < lo["kspacing_per_A"]
    assert hi["eps_scf"] < lo["eps_scf"]


def test_kpoint_grid_follows_the_cell():
    a = 2.46
    cell = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, 20.0]])
    # |b1| = 4π/(√3 a) = 2.949 Å⁻¹ → ceil(2.949/0.8) = 4; the 20 Å vacuum axis gets one k-point
    assert kpoint_grid(cell, [True] * 3, 0.8) == (4, 4, 1)
    assert kpoint_grid(cell * [4, 4, 1], [True] * 3, 0.8) == (1, 1, 1)
    assert kpoint_grid(cell, [True, True, False], 0.3) == (10, 10, 1)


@needs_cp2k
def test_element_coverage_and_provenance():
    have = cp2k_elements("pbe-d3")
    assert {"H", "Li", "C", "O", "F", "Si", "Fe", "Sn"} <= have
    check_elements("cp2k", ["Si", "C", "O", "H", "Li", "Fe", "Sn"])
    with pytest.raises(UnsupportedElementsError, match="U"):
        check_elements("cp2k", ["U", "O"])  # no DZVP-MOLOPT-SR-GTH basis for U
    info = engine_info("cp2k")
    assert info.versions["cp2k"].startswith("20") and info.model_hash.startswith("sha256:")


@needs_cp2k
@pytest.mark.slow
def test_unconverged_scf_is_a_failure_not_a_number(tmp_path):
    h2 = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=[5, 5, 5], pbc=True)
    h2.center()
    h2.calc = ContactflowCP2K("pbe-d3", directory=str(tmp_path), overrides={"max_scf": 1, "cutoff_Ry": 150.0})
    with pytest.raises(CalculationFailedError, match="SCF did not converge in 1 steps"):
        h2.get_potential_energy()
    with pytest.raises(EngineSpecError, match="unknown CP2K setting"):
        ContactflowCP2K("pbe-d3", directory=str(tmp_path), overrides={"cutoff": 300})


def test_hexagonal_cells_get_gamma_centred_grids():
    from contactflow.engines.cp2k import _inp_template, is_hexagonal

    hexa = np.array([[2.46, 0, 0], [-1.23, 2.46 * np.sqrt(3) / 2, 0], [0, 0, 20.0]])
    sixty = hexa.copy()
    sixty[1, 0] *= -1  # the same lattice described with γ = 60°
    assert is_hexagonal(hexa) and is_hexagonal(sixty)
    assert not is_hexagonal(np.diag([5.43, 5.43, 5.43]))
    p = PRESETS["pbe-d3"]
    assert "MACDONALD 4 4 1 0.1250000000 0.1250000000 0.0000000000" in _inp_template(p, (4, 4, 1), True)
    assert "MONKHORST-PACK 1 1 2" in _inp_template(p, (1, 1, 2), False)  # symmetric for cubic/tetragonal
    assert "MONKHORST-PACK 3 3 1" in _inp_template(p, (3, 3, 1), True)  # odd grids contain Γ already
