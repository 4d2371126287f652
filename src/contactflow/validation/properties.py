"""The properties a validation case computes, each with the committee's spread of the property itself.

Every function takes ``(built, engine, device, **settings)`` and returns ``{"value", "committee_std",
"n_atoms", "details"}``. A committee's spread is the standard deviation over its members of the *same*
energy combination (W_sep, barrier, binding energy), not of a single total energy; D3 (added to every
member alike) cancels out of the spread.
"""

import numpy as np
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.errors import ContactflowError

EV_PER_A2_TO_J_PER_M2 = 16.021766


def _evaluate(atoms: Atoms, calc) -> tuple[float, np.ndarray | None]:
    """Energy (eV) and the members' energies of a committee (``None`` for a single model)."""
    from contactflow.engines.calculators import committee_spread
    from contactflow.jobs.relax import single_point_energy

    e = single_point_energy(atoms, calc)
    spread = committee_spread(calc)
    return e, (np.asarray(spread["energies_eV"], float) if spread else None)


def _combine(terms: list[tuple[float, float, np.ndarray | None]], scale: float) -> tuple[float, float | None]:
    """Σ c·E × scale, and the std over members of the same combination (``None`` without a committee)."""
    value = scale * sum(c * e for c, e, _ in terms)
    if any(m is None for _, _, m in terms):
        return value, None
    per_member = scale * sum(c * m for c, _, m in terms)
    return value, float(np.std(per_member))


def _split(built):
    from pymatgen.core.interface import Interface

    if isinstance(built, Interface):
        atoms = AseAtomsAdaptor.get_atoms(built)
        atoms.set_constraint()
        return atoms, list(built.film_indices)
    atoms, film = built
    return atoms.copy(), list(film)


def w_sep_rigid(built, engine: str, device: str = "cpu", gap_shifts_A: list[float] | None = None,
                unit: str = "J/m2") -> dict:
    """Rigid W_sep = (E_film + E_substrate − E_interface)/A, J/m²; with ``gap_shifts_A`` the film is moved
    along z by each shift and the largest W_sep (the rigid optimum gap) is reported. ``unit: eV/cell``
    reports the binding energy per cell instead, −W_sep·A in eV (negative when bound)."""
    from contactflow.engines import get_calculator

    atoms, film = _split(built)
    sub = [i for i in range(len(atoms)) if i not in set(film)]
    calc = get_calculator(engine, device, ("energy",))  # single points
    area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    e_f = _evaluate(atoms[film], calc)
    e_s = _evaluate(atoms[sub], calc)
    best = None
    scan = {}
    for dz in gap_shifts_A or [0.0]:
        moved = atoms.copy()
        moved.positions[film, 2] += dz
        e_i = _evaluate(moved, calc)
        terms = [(1.0, *e_f), (1.0, *e_s), (-1.0, *e_i)]
        w, std = _combine(terms, EV_PER_A2_TO_J_PER_M2 / area)
        scan[f"{dz:+.2f}"] = w
        if best is None or w > best[0]:
            best = (w, std, dz)
    w, std, dz = best
    details = {"area_A2": area, "w_sep_J_per_m2": w, "best_gap_shift_A": dz, "scan_J_per_m2": scan}
    if unit == "eV/cell":
        k = area / EV_PER_A2_TO_J_PER_M2
        return {"value": -w * k, "committee_std": None if std is None else std * k, "n_atoms": len(atoms),
                "details": details}
    return {"value": w, "committee_std": std, "n_atoms": len(atoms), "details": details}


def energy_difference(built, engine: str, device: str = "cpu", scale: float = 1.0, per: str = "1") -> dict:
    """Σ c_i E_i of fixed cells (e.g. CP2K-labelled ones) × ``scale``; ``per: area`` divides by the first
    cell's in-plane area and converts to J/m²."""
    from contactflow.engines import get_calculator

    calc = get_calculator(engine, device, ("energy",))  # single points
    terms = []
    for atoms, coef, _ in built:
        terms.append((coef, *_evaluate(atoms, calc)))
    if per == "area":
        a0 = built[0][0]
        scale = scale * EV_PER_A2_TO_J_PER_M2 / float(np.linalg.norm(np.cross(a0.cell[0], a0.cell[1])))
    value, std = _combine(terms, scale)
    ref = scale * sum(c * e for _, c, e in built)
    return {"value": value, "committee_std": std, "n_atoms": max(len(a) for a, _, _ in built),
            "details": {"labels_value": ref}}


def neb_barrier(built, engine: str, device: str = "cpu", **neb) -> dict:
    """Climbing-image NEB forward barrier (eV) of ``(initial, final)``; committees give the barrier's std."""
    from contactflow.jobs.neb import LiMigrationNEBMaker

    ini, fin = built
    doc = LiMigrationNEBMaker(engine=engine, device=device, **neb).compute(ini, fin, label="validation")
    if doc.state not in ("successful", "extrapolating") or doc.barrier_forward_eV is None:  # the spread is kept
        raise ContactflowError(doc.failure_reason or f"NEB ended {doc.state}")
    return {"value": doc.barrier_forward_eV, "committee_std": doc.committee_barrier_std_eV,
            "n_atoms": len(ini), "details": {"barrier_reverse_eV": doc.barrier_reverse_eV,
                                             "converged": doc.converged, "n_images": neb.get("n_images")}}


def li_binding(built, engine: str, device: str = "cpu", fmax: float = 0.05, max_steps: int = 200,
               li_bcc_a_A: float = 3.44) -> dict:
    """Li binding energy at a site vs bcc Li (eV): E(host+Li) − E(host) − E(Li, bcc per atom); host and
    host+Li relaxed (fixed cell); bcc Li at the PBE lattice constant ``li_bcc_a_A`` (energies near the
    minimum are insensitive to a small lattice error)."""
    from contactflow.engines import get_calculator
    from contactflow.jobs.neb import to_atoms
    from contactflow.jobs.relax import relax_fixed_cell
    from contactflow.structures.li_sites import insert_li

    host, site = built
    calc = get_calculator(engine, device, ("energy", "forces"))  # fixed-cell relaxations
    out = {}
    for k, s in (("host", host), ("host+Li", insert_li(host, site))):
        r = relax_fixed_cell(to_atoms(s), calc, fmax, max_steps)
        if not r.converged:
            raise ContactflowError(f"relaxation of {k} did not reach fmax={fmax} eV/Å in {max_steps} steps")
        out[k] = _evaluate(r.atoms, calc)
    li = bulk("Li", "bcc", a=li_bcc_a_A, cubic=True)
    e_li, m_li = _evaluate(li, calc)
    per_atom = (e_li / len(li), None if m_li is None else m_li / len(li))
    value, std = _combine([(1.0, *out["host+Li"]), (-1.0, *out["host"]), (-1.0, *per_atom)], 1.0)
    return {"value": value, "committee_std": std, "n_atoms": len(host) + 1,
            "details": {"li_reference": f"bcc Li, a = {li_bcc_a_A} Å"}}


PROPERTIES = {f.__name__: f for f in (w_sep_rigid, energy_difference, neb_barrier, li_binding)}


def interface_gap_neb(built, engine: str, device: str = "cpu", **settings) -> dict:
    """Li hop between the two lowest-energy neighbouring voids in an interface's gap (the ``neb`` task's
    interface hop, on the as-built interface), forward barrier in eV."""
    from contactflow.jobs.neb import InterfaceNEBMaker
    from contactflow.structures.li_sites import insert_li

    maker = InterfaceNEBMaker(engine=engine, device=device, **settings)
    a, b, seen = maker.pick_interface_hop(built)
    doc = maker.neb_maker(fix_bottom_A=maker.fix_bottom_A, relax_radius_A=maker.relax_radius_A).compute(
        insert_li(built, a), insert_li(built, b), label="validation interface hop", region="interface")
    if doc.state not in ("successful", "extrapolating") or doc.barrier_forward_eV is None:  # the spread is kept
        raise ContactflowError(doc.failure_reason or f"NEB ended {doc.state}")
    return {"value": doc.barrier_forward_eV, "committee_std": doc.committee_barrier_std_eV,
            "n_atoms": len(built) + 1, "details": {**seen, "converged": doc.converged}}


def bulk_li_hop(built, engine: str, device: str = "cpu", **neb) -> dict:
    """Shortest symmetric Li hop between interstitial voids of a bulk crystal (eV)."""
    from contactflow.jobs.neb import LiMigrationNEBMaker, bulk_li_hop as hop

    doc = hop(built, LiMigrationNEBMaker(engine=engine, device=device, **neb))
    if doc.state not in ("successful", "extrapolating") or doc.barrier_forward_eV is None:  # the spread is kept
        raise ContactflowError(doc.failure_reason or f"NEB ended {doc.state}")
    return {"value": doc.barrier_forward_eV, "committee_std": doc.committee_barrier_std_eV,
            "n_atoms": doc.n_atoms, "details": {"converged": doc.converged}}


PROPERTIES.update({f.__name__: f for f in (interface_gap_neb, bulk_li_hop)})
