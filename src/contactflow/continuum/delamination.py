"""Reference continuum consumer: delamination of a Si core from its carbon shell.

A spherical core (radius a) carries an isotropic misfit (lithiation) eigenstrain ε* relative to a
concentric shell (outer radius b); both are linear-elastic and isotropic, and they are joined by a
cohesive interface whose normal traction–separation law is the exported CZM law (UBER shape).

Elasticity (Lamé, spherical symmetry, u = A r + B/r²):

* the core is in uniform hydrostatic stress s = σ_rr(a⁻), so u_core(a) = a (ε* + s/(3K₁));
* the shell with inner traction σ_rr(a⁺) = s and a free outer surface gives
  u_shell(a) = −s a f₂ with f₂ = [(1−2ν₂) a³ + (1+ν₂) b³/2] / (E₂ (b³ − a³));
* the interface opening is δ = u_shell(a) − u_core(a) = −a ε* − a F s, F = f₂ + 1/(3K₁).

Perfect bonding (δ = 0) gives s = −ε*/F; for identical core and shell this is the classical
s = −2Eε*(1 − a³/b³)/(3(1−ν)). Swelling (ε* > 0) therefore compresses the interface and puts the
shell in hoop tension; the interface is pulled open when the core contracts relative to the shell
(η = −ε* > 0: delithiation from a state in which the shell has accommodated the swollen core).
With the cohesive law T(δ), equilibrium s = T(δ) reads

    η(δ) = F T(δ) + δ/a,

which gives the misfit strain needed to hold an opening δ. Under increasing misfit the interface
follows the running maximum of η(δ): it starts to soften at the peak traction (onset,
η = F σ_max + δ_c/a) and has delaminated when the opening passes δ_f, where a chosen fraction (95 %)
of the work of separation is spent; the delamination strain is max η(δ) over [0, δ_f]. A local
maximum before δ_f means the opening snaps through (unstable debonding).
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from contactflow.continuum.czm import CohesiveLaw
from contactflow.errors import ContactflowError


class ModelError(ContactflowError, ValueError):
    """Model parameters outside their physical range."""


@dataclass(frozen=True)
class CoreShellParticle:
    """Geometry and isotropic elastic constants of the core–shell particle.

    Defaults: a 50 nm Si core (Voigt–Reuss–Hill average of crystalline Si, E ≈ 160 GPa, ν ≈ 0.22) in a
    5 nm amorphous-carbon shell (E ≈ 100 GPa, ν ≈ 0.2; a-C coatings span ~50–300 GPa with sp³
    fraction). Lithiated Si is much softer (LixSi E ≈ 35–90 GPa): pass the values of the state you model.
    """

    core_radius_nm: float = 50.0
    shell_thickness_nm: float = 5.0
    core_youngs_GPa: float = 160.0
    core_poisson: float = 0.22
    shell_youngs_GPa: float = 100.0
    shell_poisson: float = 0.2

    def __post_init__(self):
        for name in ("core_radius_nm", "shell_thickness_nm", "core_youngs_GPa", "shell_youngs_GPa"):
            if not getattr(self, name) > 0:
                raise ModelError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("core_poisson", "shell_poisson"):
            if not -1.0 < getattr(self, name) < 0.5:
                raise ModelError(f"{name} must lie in (-1, 0.5), got {getattr(self, name)}")

    @property
    def outer_radius_nm(self) -> float:
        """b = a + shell thickness, nm."""
        return self.core_radius_nm + self.shell_thickness_nm

    @property
    def core_bulk_GPa(self) -> float:
        """K₁ = E₁ / (3 (1 − 2ν₁)), GPa."""
        return self.core_youngs_GPa / (3 * (1 - 2 * self.core_poisson))

    @property
    def shell_compliance_per_GPa(self) -> float:
        """f₂: inner-surface radial displacement of the shell per unit inner pressure and radius, 1/GPa."""
        a3, b3 = self.core_radius_nm ** 3, self.outer_radius_nm ** 3
        nu, e = self.shell_poisson, self.shell_youngs_GPa
        return ((1 - 2 * nu) * a3 + (1 + nu) * b3 / 2) / (e * (b3 - a3))

    @property
    def compliance_per_GPa(self) -> float:
        """F = f₂ + 1/(3K₁): misfit strain per unit interface stress, 1/GPa."""
        return self.shell_compliance_per_GPa + 1.0 / (3 * self.core_bulk_GPa)

    def bonded_interface_stress_GPa(self, eigenstrain):
        """σ_rr at the perfectly bonded interface for a core misfit strain ε* (tension > 0), GPa."""
        return -np.asarray(eigenstrain, dtype=float) / self.compliance_per_GPa

    def shell_hoop_stress_GPa(self, interface_stress_GPa):
        """σ_θθ at the inner shell surface for an interface radial stress s, GPa (Lamé thick shell)."""
        a3, b3 = self.core_radius_nm ** 3, self.outer_radius_nm ** 3
        return -np.asarray(interface_stress_GPa, dtype=float) * (a3 + b3 / 2) / (b3 - a3)

    def stress_field_GPa(self, r_nm, eigenstrain: float, opening_nm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Radial and hoop stress at radii ``r_nm`` for misfit ε* and interface opening δ, GPa."""
        a, b = self.core_radius_nm, self.outer_radius_nm
        s = -(eigenstrain + opening_nm / a) / self.compliance_per_GPa
        r = np.asarray(r_nm, dtype=float)
        # thick shell under inner pressure p = −s: σ_rr = p a³(1 − b³/r³)/(b³ − a³),
        # σ_θθ = p a³(1 + b³/(2r³))/(b³ − a³)
        k = -s * a ** 3 / (b ** 3 - a ** 3)
        shell_rr = k * (1 - b ** 3 / r ** 3)
        shell_tt = k * (1 + b ** 3 / (2 * r ** 3))
        core = np.full_like(r, s)
        inside = r < a
        return np.where(inside, core, shell_rr), np.where(inside, core, shell_tt)


@dataclass
class DelaminationResult:
    """What the model predicts for one cohesive law and one particle."""

    law: CohesiveLaw
    particle: CoreShellParticle
    onset_strain: float
    delamination_strain: float
    unstable: bool
    snap_strain: float | None
    snap_opening_nm: float | None
    final_opening_nm: float
    dissipated_fraction: float
    bonded_stress_per_strain_GPa: float
    curve: dict = field(default_factory=dict)

    @property
    def delamination_volume_change_pct(self) -> float:
        """Volumetric misfit (1+η)³ − 1 at delamination, %."""
        return ((1 + self.delamination_strain) ** 3 - 1) * 100

    def summary(self) -> dict:
        """Plain numbers for printing/JSON (strains in %)."""
        return {
            "recipe_name": self.law.recipe_name, "engine": self.law.engine, "interface_id": self.law.interface_id,
            "w_sep_J_per_m2": self.law.w_sep_J_per_m2, "sigma_max_GPa": self.law.sigma_max_GPa,
            "delta_c_A": self.law.delta_c_A,
            "core_radius_nm": self.particle.core_radius_nm, "shell_thickness_nm": self.particle.shell_thickness_nm,
            "onset_strain_pct": self.onset_strain * 100,
            "delamination_strain_pct": self.delamination_strain * 100,
            "delamination_volume_change_pct": self.delamination_volume_change_pct,
            "unstable": self.unstable,
            "snap_strain_pct": None if self.snap_strain is None else self.snap_strain * 100,
            "bonded_stress_per_strain_GPa": self.bonded_stress_per_strain_GPa,
            "shell_hoop_at_onset_swelling_GPa": float(self.particle.shell_hoop_stress_GPa(
                self.particle.bonded_interface_stress_GPa(self.onset_strain))),
        }


def _x_dissipated(fraction: float) -> float:
    """x = δ/δ_c at which the UBER law has dissipated ``fraction`` of its work: 1 − (1+x)e^(−x)."""
    if not 0 < fraction < 1:
        raise ModelError(f"dissipated fraction must lie in (0, 1), got {fraction}")
    return brentq(lambda x: 1 - (1 + x) * math.exp(-x) - fraction, 1e-9, 200.0)


def misfit_for_opening(law: CohesiveLaw, particle: CoreShellParticle, opening_nm):
    """η(δ) = F T(δ) + δ/a: the misfit (shrink) strain that holds an interface opening δ (nm)."""
    d = np.asarray(opening_nm, dtype=float)
    return particle.compliance_per_GPa * law.traction_GPa(d * 10.0) + d / particle.core_radius_nm


def opening_at(law: CohesiveLaw, particle: CoreShellParticle, eta: float, d_max_nm: float | None = None) -> float:
    """Interface opening (nm) under a monotonically increasing misfit η (load control)."""
    dc = law.delta_c_A / 10.0
    d_max = d_max_nm or 60 * dc
    grid = np.linspace(0, d_max, 20001)
    run = np.maximum.accumulate(misfit_for_opening(law, particle, grid))
    i = int(np.searchsorted(run, eta))
    if i >= len(grid):
        return float(d_max)
    if i == 0:
        return 0.0
    lo, hi = grid[i - 1], grid[i]
    f = lambda d: float(misfit_for_opening(law, particle, d)) - eta  # noqa: E731
    if f(lo) <= 0 <= f(hi):
        return float(brentq(f, lo, hi, xtol=1e-14))
    return float(hi)  # inside a snap: the opening jumps past this grid point


def predict_delamination(law: CohesiveLaw, particle: CoreShellParticle | None = None,
                         dissipated_fraction: float = 0.95, n_points: int = 400) -> DelaminationResult:
    """Onset and delamination misfit strains of a core–shell particle with a cohesive interface.

    Parameters
    ----------
    law
        Cohesive law (from the store or a JSON export); its UBER shape is used.
    particle
        Geometry and elastic constants (default :class:`CoreShellParticle`).
    dissipated_fraction
        Fraction of W_sep spent at which the interface counts as delaminated.
    n_points
        Points of the stress–strain curve kept for plotting.
    """
    p = particle or CoreShellParticle()
    F, a = p.compliance_per_GPa, p.core_radius_nm
    dc = law.delta_c_A / 10.0
    sig = law.sigma_max_GPa
    onset = F * sig + dc / a
    d_f = _x_dissipated(dissipated_fraction) * dc
    eta_f = float(misfit_for_opening(law, p, d_f))
    # dη/dδ = F T'(δ) + 1/a; T'(δ) = (e σ/δ_c)(1 − x) e^(−x) is most negative at x = 2
    slope = lambda x: F * (math.e * sig / dc) * (1 - x) * math.exp(-x) + 1 / a  # noqa: E731
    unstable, snap, d_t = False, None, None
    if slope(2.0) < 0:
        x_t = brentq(slope, 1.0, 2.0)
        d_t = x_t * dc
        if d_t < d_f:
            unstable = True
            snap = float(misfit_for_opening(law, p, d_t))
    delam = max(eta_f, snap) if unstable else eta_f
    # load-controlled response for plotting
    etas = np.linspace(0, 1.25 * delam, n_points)
    grid = np.linspace(0, 1.5 * d_f, 20001)
    run = np.maximum.accumulate(misfit_for_opening(law, p, grid))
    idx = np.minimum(np.searchsorted(run, etas), len(grid) - 1)
    openings = grid[idx]
    curve = {
        "misfit_strain": etas, "opening_nm": openings,
        "traction_GPa": law.traction_GPa(openings * 10.0),
        "bonded_traction_GPa": etas / F,
    }
    return DelaminationResult(
        law=law, particle=p, onset_strain=float(onset), delamination_strain=float(delam), unstable=unstable,
        snap_strain=snap, snap_opening_nm=float(d_t) if unstable else None, final_opening_nm=float(d_f),
        dissipated_fraction=dissipated_fraction, bonded_stress_per_strain_GPa=1.0 / F, curve=curve,
    )


def plot_delamination(result: DelaminationResult, path=None):
    """Interface traction vs misfit strain (cohesive and bonded), the cohesive law with the elastic
    unloading line, and the swelling-side shell hoop stress. Returns the matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c, law, p = result.curve, result.law, result.particle
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    eps = c["misfit_strain"] * 100
    ax1.plot(eps, c["bonded_traction_GPa"], "--", color="0.5", label="perfectly bonded (Lamé)")
    ax1.plot(eps, c["traction_GPa"], color="C0", lw=2, label="cohesive interface")
    ax1r = ax1.twinx()
    ax1r.plot(eps, p.shell_hoop_stress_GPa(-c["bonded_traction_GPa"]), ":", color="C3")
    ax1r.set_ylabel("shell hoop stress if the core swells by this strain, GPa", color="C3", fontsize=8)
    ax1r.tick_params(axis="y", colors="C3")
    ax1r.set_ylim(bottom=0)
    ax1.axhline(law.sigma_max_GPa, color="C1", lw=0.8, label=f"σ_max = {law.sigma_max_GPa:.2f} GPa")
    ax1.axvline(result.onset_strain * 100, color="C1", ls=":", lw=0.8)
    ax1.axvline(result.delamination_strain * 100, color="k", ls="-.", lw=0.8,
                label=f"delamination at {result.delamination_strain * 100:.3g} %")
    ax1.set_xlabel("core–shell misfit (linear lithiation) strain, %")
    ax1.set_ylabel("interface normal traction, GPa")
    ax1.set_ylim(0, max(law.sigma_max_GPa * 1.3, float(np.nanmax(c["traction_GPa"])) * 1.1))
    ax1.legend(fontsize=7)
    ax1.set_title(f"a = {p.core_radius_nm:g} nm core, {p.shell_thickness_nm:g} nm shell", fontsize=9)
    d = np.linspace(0, result.final_opening_nm * 1.2, 400)
    ax2.plot(d * 10, law.traction_GPa(d * 10), color="C0", label="cohesive law T(δ)")
    if result.unstable and result.snap_strain is not None:
        line = (result.snap_strain - d / p.core_radius_nm) / p.compliance_per_GPa
        ax2.plot(d * 10, line, "--", color="k", lw=0.8, label="elastic line at snap-through")
    ax2.axvline(law.delta_c_A, color="C1", ls=":", lw=0.8, label=f"δ_c = {law.delta_c_A:.2f} Å")
    ax2.set_ylim(0, law.sigma_max_GPa * 1.2)
    ax2.set_xlabel("interface opening δ, Å")
    ax2.set_ylabel("traction, GPa")
    ax2.legend(fontsize=7)
    ax2.set_title(f"{law.recipe_name or ''} {law.engine}: W_sep {law.w_sep_J_per_m2:.2f} J/m²", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
