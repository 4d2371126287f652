"""Work of separation: W_sep = (E_film + E_substrate − E_interface)/A.

Rigid: both slabs cut from the interface geometry. Relaxed: the interface and each free slab relaxed
at fixed cell with the bottom substrate layer fixed.

Also here: the registry scan (rigid in-plane shifts of the film on an n × n grid: minimum-energy
stacking and the spread of W_sep over stackings, which no peer tool searches), the strain correction
(the film's elastic energy from the lattice match, reported separately so matches with different strain
compare fairly), and convergence of W_sep in slab thickness, vacuum and interface area.
"""

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from jobflow import Maker
from pymatgen.core.interface import Interface
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.engines.checks import CalculationFailedError
from contactflow.jobs.base import (
    check_fields, contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.jobs.relax import RelaxOutcome, relax_fixed_cell, single_point_energy
from contactflow.schemas import AdhesionDoc
from contactflow.structures.interfaces import interface_area, principal_strain_pct
from contactflow.structures.separation import (  # noqa: F401  (re-exported for callers of jobs.adhesion)
    bottom_layer_indices, interface_gap_A, registry_shifts, shifted, split_atoms,
)

#: 1 eV/Å² in J/m² (1.602176634e-19 J / 1e-20 m²)
EV_PER_A2_TO_J_PER_M2 = 16.02176634


def work_of_separation_J_per_m2(e_film_eV: float, e_substrate_eV: float, e_interface_eV: float, area_A2: float) -> float:
    """W_sep in J/m² from total energies (eV) and the interface area (Å²); positive when bound."""
    if area_A2 <= 0:
        raise ValueError(f"interface area must be positive, got {area_A2} Å²")
    return (e_film_eV + e_substrate_eV - e_interface_eV) / area_A2 * EV_PER_A2_TO_J_PER_M2


def split_interface(interface: Interface, fix_bottom_A: float) -> tuple[Atoms, Atoms, Atoms]:
    """Interface, film-only and substrate-only Atoms in the same cell (bottom substrate layer fixed);
    see :func:`contactflow.structures.separation.split_atoms`."""
    return split_atoms(AseAtomsAdaptor.get_atoms(interface), list(interface.film_indices),
                       list(interface.substrate_indices), fix_bottom_A)


def _structure(atoms: Atoms):
    """pymatgen Structure of ASE atoms (fixed atoms become selective dynamics), for result documents."""
    return AseAtomsAdaptor.get_structure(atoms)


def unstrained_film(film: Atoms, interface: Interface) -> Atoms | None:
    """The film slab at its own (unstrained) in-plane lattice, or ``None`` if the match is unknown.

    The lattice match stores the film's superlattice vectors (``film_sl_vectors``, film frame); the
    interface cell's a and b are their strained images. The film is given a cell with the lengths and
    angle of those vectors (a kept along a, same normal) and its atoms scaled with it.
    """
    sl = interface.interface_properties.get("film_sl_vectors")
    if sl is None:
        return None
    f0, f1 = np.asarray(sl, dtype=float)[:2]
    cell = np.array(film.cell)
    a_hat = cell[0] / np.linalg.norm(cell[0])
    n_hat = np.cross(cell[0], cell[1])
    n_hat /= np.linalg.norm(n_hat)
    perp = np.cross(n_hat, a_hat)
    cos_t = float(np.dot(f0, f1) / (np.linalg.norm(f0) * np.linalg.norm(f1)))
    sin_t = float(np.sqrt(max(0.0, 1.0 - cos_t**2)))
    new = np.vstack([np.linalg.norm(f0) * a_hat, np.linalg.norm(f1) * (cos_t * a_hat + sin_t * perp), cell[2]])
    out = film.copy()
    out.set_cell(new, scale_atoms=True)
    return out


@dataclass
class AdhesionMaker(Maker):
    """Work of separation of an interface: registry scan, rigid and relaxed W_sep, strain correction.

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
    registry_grid
        n > 1 scans the film's in-plane shift on an n × n grid of the interface cell (rigid single
        points, evaluated together) and reports the best stacking and the spread of W_sep; 0 or 1: no
        scan.
    registry_use_best
        Compute the rigid/relaxed W_sep at the best stacking of the scan (else at the built one).
    strain_correction
        Also compute the free film at its own lattice and report its strain energy per interface area
        and the strain-corrected W_sep.
    evaluation
        Registry-scan evaluation path: ``auto``, ``batched``, ``energy-only`` or ``sequential``.
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
    registry_grid: int = 0
    registry_use_best: bool = True
    strain_correction: bool = True
    evaluation: str = "auto"
    calculator_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        check_fields(self, relax=bool, registry_use_best=bool, strain_correction=bool)
        check_fields(self, fmax=(0.0, 5.0, "open_low"), max_steps=(1, 100000), fix_bottom_A=(0.0, 10.0),
                     registry_grid=(0, 12), optimizer=("FIRE", "BFGS", "LBFGS", "BFGSLineSearch", "MDMin"),
                     evaluation=("auto", "batched", "energy-only", "sequential"))

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> AdhesionDoc:
        """W_sep of the prepared interface (a PreparedInterfaceDoc by reference, or an Interface)."""
        return self.compute(prepared, interface_id, recipe_name)

    def settings(self) -> dict:
        """The settings that enter the document key."""
        return {
            "relax": self.relax, "fmax": self.fmax, "max_steps": self.max_steps,
            "fix_bottom_A": self.fix_bottom_A, "optimizer": self.optimizer,
            "registry_grid": self.registry_grid if self.registry_grid > 1 else 0,
            "registry_use_best": self.registry_use_best, "strain_correction": self.strain_correction,
        }

    def compute(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> AdhesionDoc:
        """The job body, callable outside jobflow (used by the convergence helper)."""
        from contactflow.engines import check_elements, engine_info

        interface, pdoc = resolve_prepared(prepared, relaxed=False)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        recipe_name = recipe_name or (pdoc.recipe_name if pdoc else None)
        check_elements(self.engine, [s.specie.symbol for s in interface])  # before any compute
        info = engine_info(self.engine, self.device)
        settings = self.settings()
        film_f = interface.film.composition.reduced_formula
        sub_f = interface.substrate.composition.reduced_formula
        prepared_key = pdoc.doc_key if pdoc else None
        base = dict(
            doc_key=doc_key_for("ad", {"interface_id": interface_id, "engine": info.spec, "settings": settings,
                                       **({"prepared": prepared_key} if prepared_key else {})}),
            interface_id=interface_id, recipe_name=recipe_name, system=f"{film_f}/{sub_f}", engine=info.spec,
            settings=settings, prepared_key=prepared_key, area_A2=interface_area(interface),
            strain_pct=principal_strain_pct(interface), n_atoms=len(interface), relaxed=self.relax,
            fmax_eV_per_A=self.fmax if self.relax else None, structure=interface,
            engine_reason=getattr(pdoc, "engine_reason", None),
        )
        result: dict = {}
        with timed() as timer:
            reason = preparation_failure(pdoc)
            if reason:
                result["failure_reason"] = reason
            else:
                try:
                    self._run(interface, base["area_A2"], result, pdoc)
                except CalculationFailedError as exc:
                    result["failure_reason"] = str(exc)
                    result["w_sep_J_per_m2"] = None
        state = "failed" if result.get("failure_reason") else "successful"
        w = result.get("w_sep_J_per_m2")
        if state == "successful" and w is not None and w <= 0:
            state = "unbound"
            result["failure_reason"] = (f"W_sep = {w:.3f} J/m² ≤ 0 with {info.spec}: the film does not bind to the "
                                        "substrate (no contact type; not exported)")
        from contactflow.engines.auto import trust

        state = trust(info.spec, {s.specie.symbol for s in interface}, "adhesion", "J/m2",
                      result.get("committee_w_sep_rigid_std_J_per_m2"), state, result, what="rigid W_sep")
        return AdhesionDoc(**base, **result, state=state, provenance=make_provenance(info, timer))

    def _run(self, interface: Interface, area: float, result: dict, pdoc=None) -> None:
        from contactflow.engines import get_calculator
        from contactflow.engines.calculators import committee_spread

        # fixed-cell relaxations and single points (a committee's spread needs its members' forces too)
        calc = get_calculator(self.engine, self.device, ("energy", "forces"))
        film_idx, sub_idx = list(interface.film_indices), list(interface.substrate_indices)
        iface = interface
        if self.registry_grid > 1:
            best = self._registry_scan(interface, calc, area, result)
            if self.registry_use_best and any(best):
                iface = interface.copy()
                iface.in_plane_offset = np.asarray(iface.in_plane_offset, dtype=float) + np.asarray(best)
        atoms, film, sub = split_interface(iface, self.fix_bottom_A)
        e, members = {}, {}
        for k, a in (("interface", atoms), ("film", film), ("substrate", sub)):
            e[k] = single_point_energy(a, calc)
            spread = committee_spread(calc)
            if spread:
                members[k] = np.asarray(spread["energies_eV"])
        w_rigid = work_of_separation_J_per_m2(e["film"], e["substrate"], e["interface"], area)
        if len(members) == 3:  # a committee engine: the members' spread of W_sep is its uncertainty
            result["committee_w_sep_rigid_std_J_per_m2"] = float(np.std(work_of_separation_J_per_m2(
                members["film"], members["substrate"], members["interface"], area)))
        result.update(w_sep_rigid_J_per_m2=w_rigid, w_sep_J_per_m2=w_rigid, e_interface_eV=e["interface"],
                      e_film_eV=e["film"], e_substrate_eV=e["substrate"],
                      interface_gap_A=interface_gap_A(atoms, film_idx, sub_idx))
        e_film_strained = e["film"]
        if self.relax:
            jobs = [("film", film), ("substrate", sub)]
            reuse = pdoc is not None and pdoc.relaxed and pdoc.relaxed_structure is not None
            if not reuse:
                jobs.insert(0, ("interface", atoms))
            out = {k: relax_fixed_cell(a, calc, self.fmax, self.max_steps, self.optimizer) for k, a in jobs}
            if reuse:  # the preparation relaxed the interface once for every task: reuse it
                r_atoms = AseAtomsAdaptor.get_atoms(pdoc.relaxed_structure)
                out["interface"] = RelaxOutcome(r_atoms, float(pdoc.e_interface_relaxed_eV),
                                                bool(pdoc.relax_converged), int(pdoc.relax_steps or 0),
                                                pdoc.relax_max_force_eV_per_A)
                result["relaxed_interface_from"] = "prepared"
            converged = all(o.converged for o in out.values())
            result.update(
                relax_converged=converged, relax_steps={k: o.steps for k, o in out.items()},
                relax_max_force_eV_per_A={k: o.max_force_eV_per_A for k, o in out.items()},
                e_interface_eV=out["interface"].energy_eV, e_film_eV=out["film"].energy_eV,
                e_substrate_eV=out["substrate"].energy_eV,
                interface_gap_A=interface_gap_A(out["interface"].atoms, film_idx, sub_idx),
                relaxed_structure=_structure(out["interface"].atoms),
                relaxed_film_structure=_structure(out["film"].atoms),
                relaxed_substrate_structure=_structure(out["substrate"].atoms),
            )
            e_film_strained = out["film"].energy_eV
            if converged:
                result["w_sep_J_per_m2"] = work_of_separation_J_per_m2(
                    out["film"].energy_eV, out["substrate"].energy_eV, out["interface"].energy_eV, area)
            else:
                bad = [k for k, o in out.items() if not o.converged]
                result["w_sep_J_per_m2"] = None
                result["failure_reason"] = (
                    f"relaxation of {', '.join(bad)} did not reach fmax={self.fmax} eV/Å in "
                    f"{self.max_steps} steps"
                )
        if self.strain_correction:
            self._strain_correction(film, iface, calc, area, e_film_strained, result)

    def _registry_scan(self, interface: Interface, calc, area: float, result: dict) -> tuple[float, float]:
        from contactflow.engines.energies import EnergyEvaluator

        atoms = AseAtomsAdaptor.get_atoms(interface)
        atoms.set_constraint()
        film_idx, sub_idx = list(interface.film_indices), list(interface.substrate_indices)
        shifts = registry_shifts(self.registry_grid)
        ev = EnergyEvaluator(self.engine, self.device, self.evaluation, calculator=calc)
        e_int = ev.energies([shifted(atoms, film_idx, s) for s in shifts], label="registry scan")
        result["evaluation_mode"] = ev.decision
        e_f, e_s = ev.energies([atoms[film_idx], atoms[sub_idx]])
        w = [work_of_separation_J_per_m2(e_f, e_s, ei, area) for ei in e_int]
        i_best = int(np.argmax(w))
        result.update(
            registry_grid=self.registry_grid, registry_shifts_frac=[list(s) for s in shifts],
            registry_w_sep_J_per_m2=w, registry_best_shift_frac=list(shifts[i_best]),
            registry_w_sep_max_J_per_m2=max(w), registry_w_sep_min_J_per_m2=min(w),
            registry_spread_J_per_m2=max(w) - min(w),
        )
        return shifts[i_best]

    def _strain_correction(self, film: Atoms, iface: Interface, calc, area: float, e_film_strained: float,
                           result: dict) -> None:
        free = unstrained_film(film, iface)
        if free is None:
            return  # no lattice-match record (e.g. a hand-built interface): nothing to correct against
        if self.relax:
            out = relax_fixed_cell(free, calc, self.fmax, self.max_steps, self.optimizer)
            if not out.converged:
                result["failure_reason"] = (result.get("failure_reason") or "") + (
                    f"relaxation of the unstrained film did not reach fmax={self.fmax} eV/Å in {self.max_steps} steps")
                return
        else:
            out = RelaxOutcome(free, single_point_energy(free, calc), True, 0)
        e_strain = (e_film_strained - out.energy_eV) / area * EV_PER_A2_TO_J_PER_M2
        result.update(e_film_unstrained_eV=out.energy_eV, film_strain_energy_J_per_m2=e_strain)
        if result.get("w_sep_J_per_m2") is not None:
            result["w_sep_strain_corrected_J_per_m2"] = result["w_sep_J_per_m2"] - e_strain


#: What :func:`converge_adhesion` can vary.
CONVERGENCE_PARAMETERS = ("film_layers", "substrate_layers", "layers", "vacuum_A", "area")


def recipe_variant(recipe, parameter: str, value):
    """A copy of ``recipe`` with one convergence parameter set (``area`` is handled by the caller).

    Raises
    ------
    RecipeError
        For an unknown parameter, or a side that has no ``layers`` (amorphous, cluster).
    """
    from contactflow.errors import RecipeError

    if parameter == "vacuum_A":
        return recipe.model_copy(update={"vacuum_A": float(value)})
    sides = {"film_layers": ("film",), "substrate_layers": ("substrate",), "layers": ("film", "substrate")}
    if parameter not in sides:
        raise RecipeError(f"unknown convergence parameter {parameter!r}; valid: {', '.join(CONVERGENCE_PARAMETERS)}")
    update = {}
    for side in sides[parameter]:
        spec = getattr(recipe, side)
        if "layers" not in type(spec).model_fields:
            raise RecipeError(f"the {side} side ({type(spec).__name__}) has no 'layers' to converge")
        update[side] = spec.model_copy(update={"layers": int(value)})
    return recipe.model_copy(update=update)


def converge_adhesion(recipe, parameter: str, values, maker: AdhesionMaker, tol_J_per_m2: float = 0.02):
    """Raise a parameter until W_sep changes by less than ``tol_J_per_m2`` between successive values.

    Parameters
    ----------
    recipe
        The :class:`~contactflow.recipes.InterfaceRecipe`.
    parameter
        One of :data:`CONVERGENCE_PARAMETERS`; ``area`` steps through the recipe's matches by area
        (values are candidate ranks 0, 1, 2 …; each match has its own strain, reported per step).
    values
        Increasing values to try (layers, vacuum in Å, or candidate ranks).
    maker
        The :class:`AdhesionMaker` that computes each step (its documents are stored as usual).
    tol_J_per_m2
        Stop at the first value whose W_sep is within this of the previous one (0.02 J/m² default).

    Returns
    -------
    contactflow.schemas.AdhesionConvergenceDoc
    """
    from contactflow.errors import RecipeError
    from contactflow.schemas import AdhesionConvergenceDoc, InterfaceDoc

    values = list(values)
    if len(values) < 2:
        raise RecipeError("convergence needs at least two values to compare")
    steps, converged, prev = [], False, None
    interfaces, documents = [], []
    cands_by_area = None
    for v in values:
        if parameter == "area":
            if cands_by_area is None:
                big = recipe.model_copy(update={"match": recipe.match.model_copy(
                    update={"max_candidates": max(int(x) for x in values) + 1})})
                cands_by_area = big.build()
            if int(v) >= len(cands_by_area):
                break
            rec, cand = recipe, cands_by_area[int(v)]
        else:
            rec = recipe_variant(recipe, parameter, v)
            cand = rec.build()[0]
        interfaces.append(InterfaceDoc.from_candidate(cand, rec.name, rec.recipe_hash))
        doc = maker.compute(cand.interface, cand.interface_id, rec.name)
        documents.append(doc)
        w = doc.w_sep_J_per_m2
        steps.append({"value": v, "interface_id": cand.interface_id, "n_atoms": doc.n_atoms,
                      "area_A2": doc.area_A2, "strain_pct": doc.strain_pct, "w_sep_J_per_m2": w,
                      "state": doc.state, "doc_key": doc.doc_key})
        if w is None:
            break
        if prev is not None and abs(w - prev) < tol_J_per_m2:
            converged = True
            break
        prev = w
    last = steps[-1] if steps else {}
    return AdhesionConvergenceDoc(
        interfaces=interfaces, documents=documents, recipe_name=recipe.name, engine=maker.engine, parameter=parameter, tol_J_per_m2=tol_J_per_m2,
        steps=steps, converged=converged, converged_value=last.get("value") if converged else None,
        w_sep_J_per_m2=last.get("w_sep_J_per_m2") if converged else None,
        failure_reason=None if converged else (
            f"W_sep did not settle within {tol_J_per_m2} J/m² over {parameter} = {values}"
            if all(s["w_sep_J_per_m2"] is not None for s in steps) else "a step failed; see its AdhesionDoc"),
    )


@dataclass
class AdhesionConvergenceMaker(Maker):
    """Converge W_sep in slab thickness, vacuum or interface area (stops at ΔW_sep < tol).

    Parameters
    ----------
    name
        Job name.
    parameter
        One of :data:`CONVERGENCE_PARAMETERS`.
    values
        Increasing values to try.
    tol_J_per_m2
        Convergence threshold on successive W_sep, J/m².
    adhesion_kwargs
        Fields of the :class:`AdhesionMaker` that computes each step (engine, relax …).
    """

    name: str = "adhesion_convergence"
    parameter: str = "layers"
    values: list = field(default_factory=lambda: [1, 2, 3, 4])
    tol_J_per_m2: float = 0.02
    adhesion_kwargs: dict = field(default_factory=dict)

    @contactflow_job
    def make(self, recipe):
        """Run the convergence series for ``recipe`` (an InterfaceRecipe)."""
        return converge_adhesion(recipe, self.parameter, self.values, AdhesionMaker(**self.adhesion_kwargs),
                                 self.tol_J_per_m2)
