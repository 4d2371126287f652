"""Traction–separation: rigid separation curve E(d), UBER fit, cohesive-zone parameters.

The film is moved rigidly along the interface normal over a range of gaps; each configuration is a
single point, evaluated together (see :mod:`contactflow.engines.energies`). The binding energy per
area, E_b(g) = (E_interface(g) − E_film − E_substrate)/A, is fitted with the universal binding energy
relation (Rose, Smith, Ferrante, Phys. Rev. B 28, 1835 (1983)):

    E_b(g) = −W_sep (1 + x) exp(−x),   x = (g − g0)/ℓ,

whose derivative, the traction σ = dE_b/dg = W_sep x exp(−x)/ℓ, peaks at x = 1 with
σ_max = W_sep/(e ℓ). 1 J/m² per Å is 10 GPa.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from jobflow import Maker
from pymatgen.core.interface import Interface
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.jobs.adhesion import EV_PER_A2_TO_J_PER_M2
from contactflow.structures.separation import interface_gap_A, separation_images  # noqa: F401
from contactflow.jobs.base import (
    check_fields, contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.schemas.traction import TractionSeparationDoc
from contactflow.structures.interfaces import interface_area, principal_strain_pct

#: GPa per (J/m² / Å)
J_PER_M2_PER_A_TO_GPA = 10.0

#: a binding weaker than this (J/m²) is numerical tail (dispersion at 10+ Å), not a contact: unbound
UNBOUND_BELOW_J_PER_M2 = 1e-3


def uber_energy(gap_A, w_sep_J_per_m2: float, length_A: float, gap0_A: float):
    """UBER binding energy per area, J/m² (negative when bound), at gap(s) ``gap_A``."""
    x = (np.asarray(gap_A, dtype=float) - gap0_A) / length_A
    return -w_sep_J_per_m2 * (1.0 + x) * np.exp(-x)


def uber_traction_GPa(gap_A, w_sep_J_per_m2: float, length_A: float, gap0_A: float):
    """UBER traction dE_b/dg, GPa (positive = resisting opening)."""
    x = (np.asarray(gap_A, dtype=float) - gap0_A) / length_A
    return w_sep_J_per_m2 * x * np.exp(-x) / length_A * J_PER_M2_PER_A_TO_GPA


def sigma_max_GPa(w_sep_J_per_m2: float, length_A: float) -> float:
    """Peak traction of the UBER law, W_sep/(e ℓ), in GPa."""
    return w_sep_J_per_m2 / (math.e * length_A) * J_PER_M2_PER_A_TO_GPA


@dataclass
class UberFit:
    """Result of :func:`fit_uber`."""

    w_sep_J_per_m2: float
    length_A: float
    gap0_A: float
    r2: float
    rms_J_per_m2: float
    n_points: int

    @property
    def sigma_max_GPa(self) -> float:
        """Peak traction, GPa."""
        return sigma_max_GPa(self.w_sep_J_per_m2, self.length_A)


def fit_uber(gaps_A, e_binding_J_per_m2, repulsive_cut: float = 0.5) -> UberFit:
    """Least-squares UBER fit of a binding-energy curve.

    Parameters
    ----------
    gaps_A
        Gaps, Å.
    e_binding_J_per_m2
        Binding energy per area at each gap, J/m² (negative when bound).
    repulsive_cut
        Points on the repulsive side of the minimum are kept while E_b ≤ −(1 − repulsive_cut)·W
        (UBER describes the well and the attractive tail; the hard wall deep in compression is not its
        domain). 0.5 keeps repulsive points down to half the well depth.

    Returns
    -------
    UberFit

    Raises
    ------
    ValueError
        If the curve has no bound minimum inside the scanned range, or too few points remain.
    """
    from scipy.optimize import curve_fit

    g = np.asarray(gaps_A, dtype=float)
    e = np.asarray(e_binding_J_per_m2, dtype=float)
    order = np.argsort(g)
    g, e = g[order], e[order]
    i_min = int(np.argmin(e))
    w0 = -float(e[i_min])
    if w0 <= 0:
        raise ValueError("the separation curve has no bound minimum (E_b ≥ 0 everywhere): nothing to fit")
    if i_min == len(g) - 1:
        raise ValueError("the lowest energy is at the largest gap: the scan does not reach the attractive tail")
    keep = (np.arange(len(g)) >= i_min) | (e <= -(1.0 - repulsive_cut) * w0)
    gk, ek = g[keep], e[keep]
    if len(gk) < 4:
        raise ValueError(f"only {len(gk)} curve points near and beyond the minimum; need ≥ 4 for a 3-parameter fit")
    # initial ℓ from the curvature-free estimate: E_b drops to W(1+1)/e ≈ 0.74 W at one ℓ past g0
    tail = gk[(gk > g[i_min]) & (ek > -0.74 * w0)]
    l0 = float(tail[0] - g[i_min]) if len(tail) else 0.7
    p0 = [w0, max(l0, 0.2), float(g[i_min])]
    popt, _ = curve_fit(
        uber_energy, gk, ek, p0=p0, bounds=([0.0, 0.05, g.min() - 2.0], [np.inf, 10.0, g.max()]), maxfev=20000
    )
    res = ek - uber_energy(gk, *popt)
    ss_tot = float(np.sum((ek - ek.mean()) ** 2))
    r2 = 1.0 - float(np.sum(res**2)) / ss_tot if ss_tot > 0 else float("nan")
    return UberFit(float(popt[0]), float(popt[1]), float(popt[2]), r2, float(np.sqrt(np.mean(res**2))), len(gk))


@dataclass
class TractionSeparationMaker(Maker):
    """Cohesive-zone law of an interface from its rigid separation curve and a UBER fit.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec (see :func:`contactflow.engines.get_calculator`).
    device
        ``auto``, ``cpu`` or ``cuda``.
    gaps_A
        Explicit gaps, Å; ``None`` uses ``n_points`` gaps from ``gap_min_A`` (or the built gap minus
        ``below_A``) to the built gap plus ``above_A``.
    n_points
        Number of gaps when ``gaps_A`` is not given.
    below_A, above_A
        Range below/above the as-built gap, Å.
    gap_min_A
        Smallest gap ever scanned, Å (atoms closer than this are not a separation curve).
    repulsive_cut
        See :func:`fit_uber`.
    min_r2
        A fit with a lower R² is stored as failed (the curve is not UBER-like).
    evaluation
        ``auto``, ``batched``, ``energy-only`` or ``sequential`` (see :mod:`contactflow.engines.energies`).
    """

    name: str = "traction_separation"
    engine: str = "chgnet+d3"
    device: str = "auto"
    gaps_A: list[float] | None = None
    n_points: int = 20
    below_A: float = 1.0
    above_A: float = 6.0
    gap_min_A: float = 1.2
    repulsive_cut: float = 0.5
    min_r2: float = 0.98
    evaluation: str = "auto"
    evaluation_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        check_fields(self, n_points=(5, 500), below_A=(0.0, 5.0), above_A=(0.5, 30.0), gap_min_A=(0.3, 10.0),
                     repulsive_cut=(0.0, 1.0), min_r2=(0.0, 1.0),
                     evaluation=("auto", "batched", "energy-only", "sequential"))
        if self.gaps_A is not None:
            if not isinstance(self.gaps_A, (list, tuple)) or len(self.gaps_A) < 5 or not all(
                    isinstance(g, (int, float)) and not isinstance(g, bool) and g > 0 for g in self.gaps_A):
                from contactflow.errors import MakerFieldError

                raise MakerFieldError(f"TractionSeparationMaker.gaps_A = {self.gaps_A!r}: expected a list of ≥ 5 "
                                      "positive gaps in Å (or null for n_points gaps around the prepared gap)")

    def gap_grid(self, built_gap_A: float) -> list[float]:
        """The gaps to scan, Å, ascending."""
        if self.gaps_A is not None:
            return sorted(float(g) for g in self.gaps_A)
        lo = max(self.gap_min_A, built_gap_A - self.below_A)
        return [float(x) for x in np.linspace(lo, built_gap_A + self.above_A, self.n_points)]

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> TractionSeparationDoc:
        """Scan from the prepared registry and gap (a PreparedInterfaceDoc by reference, or an Interface),
        fit, and return a :class:`TractionSeparationDoc`."""
        return self.compute(prepared, interface_id, recipe_name)

    def compute(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> TractionSeparationDoc:
        """The job body, callable outside jobflow."""
        from contactflow.engines import CalculationFailedError, check_elements, engine_info
        from contactflow.engines.energies import EnergyEvaluator

        # the rigid prepared geometry: the separation curve is rigid, so it starts unrelaxed at the
        # prepared registry and gap (the adhesion job's rigid W_sep is computed on the same geometry)
        interface, pdoc = resolve_prepared(prepared, relaxed=False)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        recipe_name = recipe_name or (pdoc.recipe_name if pdoc else None)
        prepared_key = pdoc.doc_key if pdoc else None

        check_elements(self.engine, [s.specie.symbol for s in interface])  # before any compute
        info = engine_info(self.engine, self.device)
        atoms = AseAtomsAdaptor.get_atoms(interface)
        atoms.set_constraint()
        film_idx, sub_idx = list(interface.film_indices), list(interface.substrate_indices)
        built_gap = interface_gap_A(atoms, film_idx, sub_idx)
        gaps = self.gap_grid(built_gap)
        settings = {
            "gaps_A": [round(g, 4) for g in gaps], "repulsive_cut": self.repulsive_cut, "min_r2": self.min_r2,
        }
        area = interface_area(interface)
        film_f = interface.film.composition.reduced_formula
        sub_f = interface.substrate.composition.reduced_formula
        base = dict(
            doc_key=doc_key_for("ts", {"interface_id": interface_id, "engine": info.spec, "settings": settings,
                                       **({"prepared": prepared_key} if prepared_key else {})}),
            interface_id=interface_id, prepared_key=prepared_key, structure=interface, recipe_name=recipe_name, system=f"{film_f}/{sub_f}", engine=info.spec, settings=settings,
            area_A2=area, strain_pct=principal_strain_pct(interface), n_atoms=len(interface), gaps_A=gaps,
            engine_reason=getattr(pdoc, "engine_reason", None),
        )
        result: dict = {}
        with timed() as timer:
            if preparation_failure(pdoc):
                result["failure_reason"] = preparation_failure(pdoc)
            else:
                self._scan(atoms, film_idx, sub_idx, gaps, area, result)
        state = "failed" if result.get("failure_reason") else "successful"
        if result.get("unbound"):
            state = "unbound"
        result.pop("unbound", None)
        from contactflow.engines.auto import trust

        state = trust(info.spec, {s.specie.symbol for s in interface}, "traction_separation", "J/m2", None, state, result)
        return TractionSeparationDoc(**base, **result, state=state, provenance=make_provenance(info, timer))

    def _scan(self, atoms, film_idx, sub_idx, gaps, area, result) -> None:
        from contactflow.engines import CalculationFailedError
        from contactflow.engines.energies import EnergyEvaluator

        images, cell_atoms = separation_images(atoms, film_idx, gaps)
        ev = EnergyEvaluator(self.engine, self.device, self.evaluation, **self.evaluation_kwargs)
        result["evaluation_mode"] = ev.mode
        try:
            t0 = time.perf_counter()
            e_img = ev.energies(images, label="traction–separation scan")
            result["evaluation_wall_s"] = time.perf_counter() - t0
            result["evaluation_mode"] = ev.decision
            e_film, e_sub = ev.energies([cell_atoms[film_idx], cell_atoms[sub_idx]])
        except CalculationFailedError as exc:
            result["failure_reason"] = str(exc)
        else:
            eb = [(e - e_film - e_sub) / area * EV_PER_A2_TO_J_PER_M2 for e in e_img]
            result.update(
                e_film_eV=e_film, e_substrate_eV=e_sub, binding_energy_J_per_m2=eb,
                w_sep_curve_J_per_m2=-min(eb),
                raw_curve_data={"gaps_A": gaps, "e_interface_eV": e_img},
            )
            if min(eb) >= -UNBOUND_BELOW_J_PER_M2:
                result.update(unbound=True, failure_reason=(
                    f"E_b(d) ≥ −{UNBOUND_BELOW_J_PER_M2} J/m² at every gap ({min(eb):.2e} J/m² lowest): the film "
                    "does not bind; no cohesive law"))
            else:
                result.update(self._fit(gaps, eb))

    def _fit(self, gaps: list[float], eb: list[float]) -> dict:
        try:
            fit = fit_uber(gaps, eb, self.repulsive_cut)
        except (ValueError, RuntimeError) as exc:  # RuntimeError: curve_fit did not converge
            return {"failure_reason": f"UBER fit failed: {exc}"}
        out = dict(
            w_sep_J_per_m2=fit.w_sep_J_per_m2, sigma_max_GPa=fit.sigma_max_GPa, delta_c_A=fit.length_A,
            uber_length_A=fit.length_A, equilibrium_gap_A=fit.gap0_A, fit_r2=fit.r2,
            fit_rms_residual_J_per_m2=fit.rms_J_per_m2, n_points_fitted=fit.n_points,
        )
        if not fit.r2 >= self.min_r2:
            out["failure_reason"] = f"UBER fit R² = {fit.r2:.4f} below min_r2 = {self.min_r2}: curve is not UBER-like"
        return out
