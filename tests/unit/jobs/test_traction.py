"""Traction–separation: UBER fit, rigid separation geometry, evaluation paths, stored documents."""

import math

import numpy as np
import pytest
from conftest import run_job

from contactflow.engines.energies import EnergyEvaluator
from contactflow.jobs.adhesion import interface_gap_A
from contactflow.jobs.traction import (
    TractionSeparationMaker,
    fit_uber,
    separation_images,
    uber_energy,
    uber_traction_GPa,
)


def test_fit_uber_recovers_the_law_and_sigma_max_is_w_over_e_l():
    gaps = np.linspace(2.6, 9.0, 20)
    rng = np.random.default_rng(0)
    e = uber_energy(gaps, 0.37, 0.55, 3.40) + rng.normal(0, 2e-4, gaps.size)
    fit = fit_uber(gaps, e)
    assert fit.w_sep_J_per_m2 == pytest.approx(0.37, rel=0.01)
    assert fit.length_A == pytest.approx(0.55, rel=0.02)
    assert fit.gap0_A == pytest.approx(3.40, abs=0.01)
    assert fit.r2 > 0.999
    # σ_max = W/(e ℓ) is the maximum of the fitted traction dE/dd (1 J/m² per Å = 10 GPa)
    dense = np.linspace(fit.gap0_A, fit.gap0_A + 5, 20001)
    t = uber_traction_GPa(dense, fit.w_sep_J_per_m2, fit.length_A, fit.gap0_A)
    assert fit.sigma_max_GPa == pytest.approx(t.max(), rel=1e-6)
    assert fit.sigma_max_GPa == pytest.approx(10 * fit.w_sep_J_per_m2 / (math.e * fit.length_A))
    assert dense[t.argmax()] - fit.gap0_A == pytest.approx(fit.length_A, abs=1e-3)
    fd = -np.gradient(uber_energy(dense, fit.w_sep_J_per_m2, fit.length_A, fit.gap0_A), dense) * -10
    assert fd.max() == pytest.approx(fit.sigma_max_GPa, rel=1e-4)


def test_fit_uber_rejects_unbound_and_truncated_curves():
    with pytest.raises(ValueError, match="no bound minimum"):
        fit_uber([3, 4, 5, 6, 7], [0.1, 0.05, 0.02, 0.0, 0.0])
    with pytest.raises(ValueError, match="largest gap"):
        fit_uber([2, 2.5, 3, 3.5, 4], [0.5, 0.1, -0.1, -0.2, -0.3])


def test_separation_images_move_only_the_film_and_keep_the_vacuum(bilayer):
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(bilayer)
    film, sub = list(bilayer.film_indices), list(bilayer.substrate_indices)
    gaps = [2.5, 3.35, 9.0]
    imgs, base = separation_images(atoms, film, gaps)
    vac0 = atoms.cell[2, 2] - (atoms.positions[:, 2].max() - atoms.positions[:, 2].min())
    for g, img in zip(gaps, imgs):
        assert interface_gap_A(img, film, sub) == pytest.approx(g, abs=1e-9)
        assert np.allclose(img.positions[sub], atoms.positions[sub])
        assert np.allclose(img.positions[film][:, :2], atoms.positions[film][:, :2])
        vac = img.cell[2, 2] - (img.positions[:, 2].max() - img.positions[:, 2].min())
        assert vac >= vac0 - 1e-9  # opening never eats the vacuum
    assert np.allclose(base.cell, imgs[0].cell)


@pytest.mark.slow
def test_evaluation_paths_agree_with_the_ase_calculator(bilayer):
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(bilayer)
    imgs, _ = separation_images(atoms, list(bilayer.film_indices), [3.0, 3.35, 4.0, 6.0, 8.0])
    ref = EnergyEvaluator("chgnet+d3", "cpu", "sequential").energies(imgs)
    for mode in ("energy-only", "batched", "auto"):
        ev = EnergyEvaluator("chgnet+d3", "cpu", mode, batch_size=2)
        assert ev.energies(imgs) == pytest.approx(ref, abs=2e-4), mode
    ev = EnergyEvaluator("chgnet+d3", "cpu", "auto", batch_size=2)
    ev.energies(imgs)
    assert ev.decision.startswith("auto:") and ev.mode in ("batched", "energy-only")


@pytest.mark.slow
def test_bilayer_cohesive_law_is_stored_and_fits_uber(bilayer, store):
    """Graphene/graphene AB bilayer with chgnet+d3: bound, UBER-like, the tail goes to zero."""
    maker = TractionSeparationMaker(engine="chgnet+d3", device="cpu")
    job = maker.make(bilayer, "if-bilayer-test", "bilayer")
    doc = run_job(job, store)
    assert doc.state == "successful", doc.failure_reason
    assert doc.w_sep_J_per_m2 > 0 and doc.fit_r2 > 0.98
    assert doc.sigma_max_GPa == pytest.approx(10 * doc.w_sep_J_per_m2 / (math.e * doc.uber_length_A), rel=1e-9)
    assert doc.delta_c_A == doc.uber_length_A > 0
    # the fitted well depth and the lowest raw point agree (fit reproduces the curve)
    assert doc.w_sep_J_per_m2 == pytest.approx(doc.w_sep_curve_J_per_m2, rel=0.05)
    assert 3.0 < doc.equilibrium_gap_A < 3.6  # vdW contact of graphite-like layers
    # slabs far apart do not bind: |E_b| < 0.01 J/m² at the largest gap (≈ 9.35 Å)
    assert doc.gaps_A[-1] > 9 and abs(doc.binding_energy_J_per_m2[-1]) < 0.01
    assert len(doc.raw_curve_data["e_interface_eV"]) == len(doc.gaps_A) == 20
    (stored,) = store.find("traction_separation", {"interface_id": "if-bilayer-test"})
    assert stored["w_sep_J_per_m2"] == pytest.approx(doc.w_sep_J_per_m2)
    assert stored["provenance"]["job_uuid"] == job.uuid and stored["engine"] == "chgnet+d3"


@pytest.mark.slow
def test_a_curve_without_binding_is_stored_as_unbound(bilayer, store):
    maker = TractionSeparationMaker(engine="chgnet+d3", device="cpu", gaps_A=[11.0, 12.0, 13.0, 14.0, 15.0])
    doc = run_job(maker.make(bilayer, "if-far-apart", "bilayer"), store)
    assert doc.state in ("unbound", "failed") and doc.failure_reason
    assert doc.w_sep_J_per_m2 is None and doc.sigma_max_GPa is None
    # the raw curve is kept: slabs 11–14 Å apart do not interact (|E_b| < 0.01 J/m²)
    assert max(abs(x) for x in doc.binding_energy_J_per_m2) < 0.01
    assert store.count("traction_separation", {"state": doc.state}) == 1


def test_energy_evaluator_handles_an_empty_remainder():
    """The auto path pilots both modes; when the pilot used every configuration nothing is left to
    evaluate, and the empty remainder must not reach torch-dftd (which cannot stack an empty batch)."""
    from contactflow.engines.energies import EnergyEvaluator

    ev = EnergyEvaluator.__new__(EnergyEvaluator)
    assert ev._chunked([], batched=False) == [] and ev._chunked([], batched=True) == []
