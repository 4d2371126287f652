"""Work of separation: W_sep = (E_film + E_substrate − E_interface)/A.

Rigid: both slabs cut from the interface geometry. Relaxed: the interface and each free slab relaxed
at fixed cell with the bottom substrate layer fixed.
"""

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms
from jobflow import Maker
from pymatgen.core.interface import Interface
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.jobs.base import contactflow_job, make_provenance, persist, timed
from contactflow.jobs.relax import relax_fixed_cell
from contactflow.schemas import AdhesionDoc
from contactflow.structures.interfaces import interface_area, principal_strain_pct

#: 1 eV/Å² in J/m² (1.602176634e-19 J / 1e-20 m²)
EV_PER_A2_TO_J_PER_M2 = 16.02176634


def work_of_separation_J_per_m2(e_film_eV: float, e_substrate_eV: float, e_interface_eV: float, area_A2: float) -> float:
    """W_sep in J/m² from total energies (eV) and the interface area (Å²); positive when bound."""
    if area_A2 <= 0:
        raise ValueError(f"interface area must be positive, got {area_A2} Å²")
    return (e_film_eV + e_substrate_eV - e_interface_eV) / area_A2 * EV_PER_A2_TO_J_PER_M2


def bottom_layer_indices(z: np.ndarray, indices: list[int], thickness_A: float) -> list[int]:
    """Indices (from ``indices``) whose z lies within ``thickness_A`` of the lowest of them."""
    zz = z[indices]
    zmin = zz.min()
    return [i for i, zi in zip(indices, zz) if zi - zmin <= thickness_A]


def split_interface(interface: Interface, fix_bottom_A: float) -> tuple[Atoms, Atoms, Atoms]:
    """Interface, film-only and substrate-only Atoms in the same cell.

    The substrate's bottom ``fix_bottom_A`` Å are fixed (``FixAtoms``) in the interface and in the
    substrate slab; the free film keeps no constraint.
    """
    atoms = AseAtomsAdaptor.get_atoms(interface)
    atoms.set_constraint()
    film_idx, sub_idx = list(interface.film_indices), list(interface.substrate_indices)
    fixed = bottom_layer_indices(atoms.positions[:, 2], sub_idx, fix_bottom_A) if fix_bottom_A > 0 else []
    film, sub = atoms[film_idx], atoms[sub_idx]
    if fixed:
        atoms.set_constraint(FixAtoms(indices=fixed))
        pos_in_sub = {j: k for k, j in enumerate(sub_idx)}
        sub.set_constraint(FixAtoms(indices=[pos_in_sub[i] for i in fixed]))
    return atoms, film, sub


def interface_gap_A(atoms: Atoms, film_idx: list[int], sub_idx: list[int]) -> float:
    """Smallest film z minus largest substrate z, Å (film above substrate)."""
    z = atoms.positions[:, 2]
    return float(z[film_idx].min() - z[sub_idx].max())


def settings_key(interface_id: str, engine: str, settings: dict) -> str:
    """Unique document key of (interface, engine, settings)."""
    blob = json.dumps({"interface_id": interface_id, "engine": engine, "settings": settings}, sort_keys=True)
    return "ad-" + hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass
class AdhesionMaker(Maker):
    """Work of separation of an interface, rigid and (optionally) relaxed.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec (see :func:`contactflow.engines.get_calculator`).
    device
        ``auto``, ``cpu`` or ``cuda``.
    relax
        Also relax interface and free slabs (fixed cell) and report the relaxed W_sep.
    fmax
        Force criterion of the relaxations, eV/Å.
    max_steps
        Optimizer step limit per structure; unconverged relaxations are stored as failed.
    fix_bottom_A
        Thickness of the fixed bottom substrate layer, Å.
    optimizer
        ASE optimizer name.
    store_result
        Upsert the :class:`AdhesionDoc` into the contactflow store.
    calculator_kwargs
        Reserved for engine options.
    """

    name: str = "adhesion"
    engine: str = "chgnet+d3"
    device: str = "auto"
    relax: bool = True
    fmax: float = 0.05
    max_steps: int = 300
    fix_bottom_A: float = 1.0
    optimizer: str = "FIRE"
    store_result: bool = True
    calculator_kwargs: dict = field(default_factory=dict)

    @contactflow_job
    def make(self, interface: Interface, interface_id: str, recipe_name: str | None = None) -> AdhesionDoc:
        """Compute W_sep of ``interface`` and return (and store) an :class:`AdhesionDoc`."""
        from contactflow.engines import engine_info, get_calculator

        info = engine_info(self.engine, self.device)
        settings = {
            "relax": self.relax, "fmax": self.fmax, "max_steps": self.max_steps,
            "fix_bottom_A": self.fix_bottom_A, "optimizer": self.optimizer,
        }
        film_f = interface.film.composition.reduced_formula
        sub_f = interface.substrate.composition.reduced_formula
        base = dict(
            doc_key=settings_key(interface_id, info.spec, settings), interface_id=interface_id,
            recipe_name=recipe_name, system=f"{film_f}/{sub_f}", engine=info.spec, settings=settings,
            area_A2=interface_area(interface),
            strain_pct=principal_strain_pct(interface), n_atoms=len(interface), relaxed=self.relax,
            fmax_eV_per_A=self.fmax if self.relax else None,
        )
        with timed() as timer:
            calc = get_calculator(self.engine, self.device)
            atoms, film, sub = split_interface(interface, self.fix_bottom_A)
            e = {k: relax_fixed_cell(a, calc, self.fmax, 1).energy_eV for k, a in
                 (("interface", atoms), ("film", film), ("substrate", sub))}
            w_rigid = work_of_separation_J_per_m2(e["film"], e["substrate"], e["interface"], base["area_A2"])
            result = dict(w_sep_rigid_J_per_m2=w_rigid, w_sep_J_per_m2=w_rigid, e_interface_eV=e["interface"],
                          e_film_eV=e["film"], e_substrate_eV=e["substrate"],
                          interface_gap_A=interface_gap_A(atoms, interface.film_indices, interface.substrate_indices))
            if self.relax:
                out = {k: relax_fixed_cell(a, calc, self.fmax, self.max_steps, self.optimizer)
                       for k, a in (("interface", atoms), ("film", film), ("substrate", sub))}
                converged = all(o.converged for o in out.values())
                result.update(
                    relax_converged=converged, relax_steps={k: o.steps for k, o in out.items()},
                    e_interface_eV=out["interface"].energy_eV, e_film_eV=out["film"].energy_eV,
                    e_substrate_eV=out["substrate"].energy_eV,
                    interface_gap_A=interface_gap_A(out["interface"].atoms, interface.film_indices,
                                                    interface.substrate_indices),
                )
                if converged:
                    result["w_sep_J_per_m2"] = work_of_separation_J_per_m2(
                        out["film"].energy_eV, out["substrate"].energy_eV, out["interface"].energy_eV,
                        base["area_A2"])
                else:
                    bad = [k for k, o in out.items() if not o.converged]
                    result["w_sep_J_per_m2"] = None
                    result["failure_reason"] = (
                        f"relaxation of {', '.join(bad)} did not reach fmax={self.fmax} eV/Å in "
                        f"{self.max_steps} steps"
                    )
        state = "failed" if result.get("failure_reason") else "successful"
        doc = AdhesionDoc(**base, **result, state=state, provenance=make_provenance(info, timer))
        if self.store_result:
            persist(doc)
        return doc

