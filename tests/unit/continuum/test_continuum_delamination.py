"""Core–shell delamination model: analytic limits and monotonic behaviour."""

import math

import numpy as np
import pytest

from contactflow.continuum.czm import CohesiveLaw
from contactflow.continuum.delamination import (
    CoreShellParticle, ModelError, misfit_for_opening, opening_at, plot_delamination, predict_delamination,
)


def lame_bonded_by_linear_system(p: CoreShellParticle, eps: float) -> tuple[float, float]:
    """Independent Lamé solution: unknowns (A1, A2, B2) of u = A r (core), u = A2 r + B2/r² (shell),
    from u continuity, σ_rr continuity at a and σ_rr(b) = 0. Returns (σ_rr(a), σ_θθ shell at a)."""
    a, b = p.core_radius_nm, p.outer_radius_nm

    def lame(e, nu):
        lam = e * nu / ((1 + nu) * (1 - 2 * nu))
        mu = e / (2 * (1 + nu))
        return lam, mu

    l1, m1 = lame(p.core_youngs_GPa, p.core_poisson)
    l2, m2 = lame(p.shell_youngs_GPa, p.shell_poisson)
    # σ_rr = (3λ+2μ) A − 4μ B/r³ (− (3λ+2μ) ε* in the core); σ_θθ = (3λ+2μ) A + 2μ B/r³
    k1, k2 = 3 * l1 + 2 * m1, 3 * l2 + 2 * m2
    M = np.array([
        [a, -a, -1 / a ** 2],                       # u1(a) = u2(a)
        [k1, -k2, 4 * m2 / a ** 3],                  # σ_rr continuous
        [0, k2, -4 * m2 / b ** 3],                   # σ_rr(b) = 0
    ])
    rhs = np.array([0.0, k1 * eps, 0.0])
    A1, A2, B2 = np.linalg.solve(M, rhs)
    return k1 * (A1 - eps), k2 * A2 + 2 * m2 * B2 / a ** 3


def test_identical_core_and_shell_reproduce_the_closed_form():
    """Same E, ν in core and shell: σ_rr(a) = −2Eε*(1 − a³/b³)/(3(1−ν)) (misfitting sphere in a
    finite sphere of the same material)."""
    E, nu, eps = 120.0, 0.27, 0.004
    for a, t in ((50, 5), (20, 30), (100, 1)):
        p = CoreShellParticle(core_radius_nm=a, shell_thickness_nm=t, core_youngs_GPa=E, core_poisson=nu,
                              shell_youngs_GPa=E, shell_poisson=nu)
        b = a + t
        exact = -2 * E * eps * (1 - a ** 3 / b ** 3) / (3 * (1 - nu))
        assert float(p.bonded_interface_stress_GPa(eps)) == pytest.approx(exact, rel=0.01)
        assert float(p.bonded_interface_stress_GPa(eps)) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("E1, nu1, E2, nu2", [(160, 0.22, 100, 0.2), (40, 0.28, 250, 0.15), (90, 0.3, 20, 0.35)])
def test_bonded_stresses_match_an_independent_lame_solution(E1, nu1, E2, nu2):
    p = CoreShellParticle(core_radius_nm=40, shell_thickness_nm=8, core_youngs_GPa=E1, core_poisson=nu1,
                          shell_youngs_GPa=E2, shell_poisson=nu2)
    eps = -0.006
    s_ref, hoop_ref = lame_bonded_by_linear_system(p, eps)
    s = float(p.bonded_interface_stress_GPa(eps))
    assert s == pytest.approx(s_ref, rel=0.01)
    assert float(p.shell_hoop_stress_GPa(s)) == pytest.approx(hoop_ref, rel=0.01)
    rr, tt = p.stress_field_GPa([p.core_radius_nm * 1.000001, p.outer_radius_nm], eps)
    assert rr[0] == pytest.approx(s_ref, rel=0.01) and abs(rr[1]) < 1e-9
    assert tt[0] == pytest.approx(hoop_ref, rel=0.01)
    # equilibrium of the shell: the mean hoop stress balances the inner pressure (∫σ_θθ r dr = −... )
    r = np.linspace(p.core_radius_nm, p.outer_radius_nm, 20001)
    _, tt_r = p.stress_field_GPa(r, eps)
    # force balance on a half shell: ∫_a^b σ_θθ 2πr dr = −σ_rr(a) π a²
    assert np.trapezoid(tt_r * 2 * r, r) == pytest.approx(-s_ref * p.core_radius_nm ** 2, rel=1e-6)


def test_stiff_cohesive_interface_reproduces_the_bonded_solution():
    """Far below onset a cohesive interface whose stiffness K = W/ℓ² ≫ 1/(aF) carries the bonded
    (Lamé) traction."""
    p = CoreShellParticle()
    law = CohesiveLaw.uber(1.5, 0.4)
    k_coh = law.normal_stiffness_GPa_per_A * 10  # GPa/nm
    assert k_coh * p.core_radius_nm * p.compliance_per_GPa > 100
    res = predict_delamination(law, p)
    for frac in (0.05, 0.2, 0.4):
        eta = frac * res.onset_strain
        d = opening_at(law, p, eta)
        traction = float(law.traction_GPa(d * 10))
        bonded = float(p.bonded_interface_stress_GPa(-eta))  # core shrinks by η: interface in tension
        assert traction == pytest.approx(bonded, rel=0.01)
        assert float(misfit_for_opening(law, p, d)) == pytest.approx(eta, rel=1e-9)


def test_onset_is_the_closed_form_and_delamination_follows():
    p = CoreShellParticle(core_radius_nm=30, shell_thickness_nm=10)
    law = CohesiveLaw.uber(0.9, 0.7)
    res = predict_delamination(law, p)
    F, a = p.compliance_per_GPa, p.core_radius_nm
    assert res.onset_strain == pytest.approx(F * law.sigma_max_GPa + law.delta_c_A / 10 / a, rel=1e-12)
    # numerically: the opening under the onset strain is δ_c
    assert opening_at(law, p, res.onset_strain * (1 - 1e-9)) == pytest.approx(law.delta_c_A / 10, rel=1e-3)
    assert res.delamination_strain >= res.onset_strain
    # along the load-controlled path the traction never exceeds σ_max
    assert np.nanmax(res.curve["traction_GPa"]) <= law.sigma_max_GPa * (1 + 1e-9)
    assert res.delamination_volume_change_pct == pytest.approx(((1 + res.delamination_strain) ** 3 - 1) * 100)


def test_stronger_interface_delays_delamination():
    p = CoreShellParticle()
    w_values = [0.2, 0.5, 0.8, 1.0, 1.5, 2.5, 4.0]
    strains = [predict_delamination(CohesiveLaw.uber(w, 0.6), p).delamination_strain for w in w_values]
    assert all(s2 > s1 for s1, s2 in zip(strains, strains[1:])), strains
    # also with σ_max held fixed (higher W_sep through a longer δ_c)
    strains_s = [predict_delamination(CohesiveLaw.uber(w, w / 1.5), p).delamination_strain for w in w_values]
    assert all(s2 > s1 for s1, s2 in zip(strains_s, strains_s[1:])), strains_s


def test_snap_through_for_large_particles_stable_for_tiny_ones():
    law = CohesiveLaw.uber(1.0, 3.0)  # compliant, long-range law
    tiny = predict_delamination(law, CoreShellParticle(core_radius_nm=0.5, shell_thickness_nm=5))
    big = predict_delamination(law, CoreShellParticle(core_radius_nm=500, shell_thickness_nm=50))
    assert not tiny.unstable and tiny.snap_strain is None
    assert big.unstable and big.snap_opening_nm > law.delta_c_A / 10


def test_bad_particle_parameters():
    with pytest.raises(ModelError, match="core_radius_nm must be positive"):
        CoreShellParticle(core_radius_nm=0)
    with pytest.raises(ModelError, match=r"shell_poisson must lie in \(-1, 0.5\)"):
        CoreShellParticle(shell_poisson=0.5)
    with pytest.raises(ModelError, match="dissipated fraction"):
        predict_delamination(CohesiveLaw.uber(1, 0.5), dissipated_fraction=1.0)


def test_plot_writes_a_png(tmp_path):
    res = predict_delamination(CohesiveLaw.uber(1.0, 0.5, recipe_name="si_graphite"))
    out = tmp_path / "d.png"
    plot_delamination(res, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert math.isfinite(res.summary()["shell_hoop_at_onset_swelling_GPa"])
