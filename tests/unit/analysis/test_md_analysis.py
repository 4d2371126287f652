"""MSD → D (Einstein relation) on a synthetic random walk, Arrhenius fits, unwrapping, pull-off integrals."""

import numpy as np
import pytest

from contactflow.analysis.dynamics import (
    K_B_EV, arrhenius_fit, diffusivity_from_msd, energy_drift_eV_per_atom_per_ps, fracture_energy_J_per_m2,
    msd_A2, traction_GPa, unwrap_positions,
)
from contactflow.jobs.pull_off import block_average, pull_off_curve


def random_walk(n_walkers: int, n_steps: int, sigma_A: float, seed: int = 0) -> np.ndarray:
    """Gaussian random walk in 3-D: every step adds N(0, sigma²) per direction."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, sigma_A, (n_steps, n_walkers, 3))
    return np.concatenate([np.zeros((1, n_walkers, 3)), np.cumsum(steps, axis=0)])


def test_einstein_D_of_a_synthetic_random_walk():
    # D = sigma² / (2 dt) per direction; 1000 walkers × 400 steps: the MSD at the fitted lags has a
    # relative standard error of ~2 %, so 5 % is a 2-3 sigma bound
    sigma, dt_ps = 0.1, 0.01
    pos = random_walk(1000, 400, sigma)
    msd = msd_A2(pos)
    lags = np.arange(len(msd)) * dt_ps
    D, err = diffusivity_from_msd(lags, msd)
    D_true = sigma**2 / (2 * dt_ps)
    assert D == pytest.approx(D_true, rel=0.05)
    assert 0 < err < 0.05 * D_true
    # MSD itself is linear: 6 D t at the largest lag
    assert msd[-1] == pytest.approx(6 * D_true * lags[-1], rel=0.05)


def test_msd_of_a_crystal_vibration_gives_no_diffusion():
    rng = np.random.default_rng(1)
    pos = np.zeros((300, 50, 3)) + rng.normal(0, 0.1, (300, 50, 3))  # atoms rattling about fixed sites
    D, _ = diffusivity_from_msd(np.arange(151) * 0.01, msd_A2(pos))
    assert abs(D) < 0.01  # Å²/ps: the plateau has zero slope


def test_arrhenius_fit_recovers_activation_energy():
    Ea, D0 = 0.35, 1e-7
    T = np.array([500.0, 700.0, 900.0, 1100.0])
    D = D0 * np.exp(-Ea / (K_B_EV * T))
    fit = arrhenius_fit(T, D)
    assert fit["activation_energy_eV"] == pytest.approx(Ea, rel=1e-9)
    assert fit["D0"] == pytest.approx(D0, rel=1e-9)
    assert fit["activation_energy_stderr_eV"] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="two or more distinct temperatures"):
        arrhenius_fit([600.0], [1e-9])
    with pytest.raises(ValueError, match="positive D"):
        arrhenius_fit([600.0, 900.0], [1e-9, 0.0])


def test_unwrap_follows_an_atom_across_the_cell_boundary():
    cell = np.array([[4.0, 0, 0], [2.0, 3.4641016, 0], [0, 0, 10.0]])  # hexagonal in-plane
    true = np.array([[3.9, 0.1, 5.0]])
    unwrapped = true.copy()
    for _ in range(10):
        true = true + np.array([[0.5, 0.3, 0.0]])
        frac = true @ np.linalg.inv(cell)
        wrapped = (frac % 1.0) @ cell
        unwrapped = unwrap_positions(unwrapped, wrapped, cell)
    np.testing.assert_allclose(unwrapped, true, atol=1e-12)


def test_energy_drift_is_the_slope_per_atom():
    t = np.linspace(0, 2.0, 50)
    e = -100.0 + 0.03 * t  # 0.03 eV/ps over 10 atoms
    assert energy_drift_eV_per_atom_per_ps(t, e, 10) == pytest.approx(0.003)


def test_pull_off_curve_integral_is_the_reported_fracture_energy():
    # a triangular traction law: peak 2 GPa at 1 Å, zero at 3 Å → G = ½ · 2 GPa · 3 Å = 0.3 J/m²
    d = np.linspace(0.05, 4.0, 80)
    s = np.where(d < 1, 2 * d, np.clip(2 - (d - 1), 0, None))
    area = 20.0
    fz = -s * area / 160.21766208  # eV/Å on the pulled group: pointing back to the substrate
    np.testing.assert_allclose(traction_GPa(fz, area), s)
    c = pull_off_curve(d, fz, area, block=1, smooth=1, start_traction_GPa=0.0)
    assert c["fracture_energy_J_per_m2"] == pytest.approx(fracture_energy_J_per_m2(c["opening_A"], c["traction_GPa"]))
    assert c["fracture_energy_J_per_m2"] == pytest.approx(0.3, rel=0.01)
    assert c["peak_traction_GPa"] == pytest.approx(2.0, rel=0.03)
    assert c["opening_at_peak_A"] == pytest.approx(1.0, abs=0.06)
    assert c["separated"] is True
    assert block_average(np.arange(7.0), 3).tolist() == [1.0, 4.0, 6.0]


def test_centre_of_mass_drift_is_removed_from_the_msd():
    from contactflow.jobs.md import MDRun, diffusion_from_run

    pos = random_walk(200, 200, 0.1, seed=3)
    drift = np.linspace(0, 30.0, len(pos))[:, None, None] * np.array([1.0, 0.0, 0.0])  # the whole cell flows
    run = MDRun(timestep_fs=1.0, n_steps_requested=200)
    run.frames, run.frame_times_ps = list(pos + drift), list(np.arange(len(pos)) * 0.01)
    sym = ["Li"] * 200
    with_com = diffusion_from_run(run, sym, ["Li"], masses=np.full(200, 6.94))["diffusivity_m2_per_s"]["Li"]
    raw = diffusion_from_run(run, sym, ["Li"])["diffusivity_m2_per_s"]["Li"]
    D_true = 0.1**2 / (2 * 0.01) * 1e-8
    assert with_com == pytest.approx(D_true, rel=0.1)
    assert raw > 5 * D_true  # the drift dominates without the correction
