"""Li migration barriers: relaxed endpoints, IDPP band, climbing-image NEB, :class:`BarrierDoc`.

The band is ASE's ``NEB`` (improved-tangent method, climbing image) driven by an ASE optimizer.
atomate2's ``AseNebInterface`` was checked first; it is not used because it deep-copies one calculator
per image and evaluates images one by one (no hook for a batched MLP call), and its convergence test
counts the endpoints and frozen atoms. Here every moving image is evaluated in one call to the engine
layer's :class:`~contactflow.engines.batch.ImageEvaluator`, batched or sequential as chosen per device
(:class:`~contactflow.engines.batch.BatchChooser`), so the batch is never the slower path.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixAtoms
from ase.geometry import find_mic
from ase.mep import NEB
from jobflow import Maker
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.engines.batch import BATCH_MODES, BatchChooser, ImageEvaluator
from contactflow.errors import ContactflowError
from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, resolve_prepared, timed
from contactflow.schemas.barrier import BarrierDoc
from contactflow.structures.li_sites import LiSite

OPTIMIZERS = ("FIRE", "BFGS", "MDMin", "LBFGS")
log = logging.getLogger(__name__)


class NEBInputError(ContactflowError, ValueError):
    """Endpoints or NEB settings that cannot describe a Li hop."""


# --------------------------------------------------------------------------------------------------
# pure helpers
# --------------------------------------------------------------------------------------------------
def to_atoms(structure: "Structure | Atoms", fix_bottom_A: float = 0.0) -> Atoms:
    """ASE Atoms with a ``FixAtoms`` constraint on fully fixed sites (``selective_dynamics`` all False or
    site property ``fixed`` True) and, when ``fix_bottom_A`` > 0, on every atom within that height of the lowest atom."""
    if isinstance(structure, Atoms):
        atoms = structure.copy()
        fixed = set()
        for c in atoms.constraints:
            if isinstance(c, FixAtoms):
                fixed |= set(int(i) for i in c.get_indices())
    else:
        plain = structure.copy()
        sd = plain.site_properties.get("selective_dynamics")
        fixed = {i for i, s in enumerate(sd) if s is not None and not any(s)} if sd else set()
        # contactflow's interface builder tags its fixed bottom layer with a boolean ``fixed`` property
        fixed |= {i for i, f in enumerate(plain.site_properties.get("fixed") or []) if f is True}
        for prop in list(plain.site_properties):
            plain.remove_site_property(prop)
        atoms = AseAtomsAdaptor.get_atoms(plain)
    atoms.set_constraint()
    if fix_bottom_A > 0:
        z = atoms.positions[:, 2]
        fixed |= set(np.nonzero(z - z.min() <= fix_bottom_A)[0].tolist())
    if fixed:
        atoms.set_constraint(FixAtoms(indices=sorted(fixed)))
    return atoms


def fixed_indices(atoms: Atoms) -> list[int]:
    """Indices fixed by ``FixAtoms`` constraints."""
    out: set[int] = set()
    for c in atoms.constraints:
        if isinstance(c, FixAtoms):
            out |= set(int(i) for i in c.get_indices())
    return sorted(out)


def mic_displacements(a: Atoms, b: Atoms) -> np.ndarray:
    """Minimum-image displacement vectors b − a per atom, Å."""
    d, _ = find_mic(b.positions - a.positions, a.cell, a.pbc)
    return d


def validate_endpoints(initial: Atoms, final: Atoms, moving_index: int | None = None,
                       min_path_dist_A: float = 0.5, n_check: int = 41) -> int:
    """Check two endpoints describe one Li hop; return the index of the hopping Li.

    Raises
    ------
    NEBInputError
        Different atom counts, species order or cells; no Li; the moving atom is not Li; more than one
        atom moves over 1 Å (endpoints ordered differently); or the straight path passes closer than
        ``min_path_dist_A`` to another atom.
    """
    if len(initial) != len(final):
        raise NEBInputError(
            f"endpoints have different atom counts ({len(initial)} vs {len(final)}); both endpoints must "
            "hold the same atoms in the same order")
    zi, zf = initial.get_chemical_symbols(), final.get_chemical_symbols()
    if zi != zf:
        bad = next(i for i, (x, y) in enumerate(zip(zi, zf)) if x != y)
        raise NEBInputError(
            f"endpoints list atoms in different orders (atom {bad} is {zi[bad]} in the initial and {zf[bad]} "
            "in the final endpoint); both endpoints must hold the same atoms in the same order")
    if not np.allclose(initial.cell.array, final.cell.array, atol=1e-4):
        raise NEBInputError("endpoints have different cells; a NEB needs one fixed cell for all images")
    if "Li" not in zi:
        raise NEBInputError(
            f"no Li in the structure ({initial.get_chemical_formula()}); a Li migration NEB needs a Li atom "
            "that hops (insert one with contactflow.structures.li_sites.insert_li)")
    disp = np.linalg.norm(mic_displacements(initial, final), axis=1)
    movers = [int(i) for i in np.nonzero(disp > 1.0)[0] if i != moving_index]
    if len(movers) > (1 if moving_index is None else 0):
        raise NEBInputError(
            f"{len(movers)} atoms move more than 1 Å between the endpoints (indices {movers[:8]}); a hop moves "
            "one Li: the endpoints are probably ordered differently, keep the same atom order in both")
    if moving_index is None:
        moving_index = int(np.argmax(disp))
    if not 0 <= moving_index < len(initial):
        raise NEBInputError(f"moving_index {moving_index} out of range 0..{len(initial) - 1}")
    if zi[moving_index] != "Li":
        raise NEBInputError(
            f"the atom that moves most between the endpoints is {zi[moving_index]} (index {moving_index}), "
            "not Li; give endpoints where a Li hops, or pass moving_index")
    if disp[moving_index] < 0.3:
        raise NEBInputError(
            f"the Li (index {moving_index}) moves only {disp[moving_index]:.2f} Å between the endpoints; "
            "endpoints must be two different sites (≥ 0.3 Å apart)")
    dmin, t = path_min_distance(initial, final, moving_index, n_check)
    if dmin < min_path_dist_A:
        raise NEBInputError(
            f"the straight path of Li {moving_index} passes {dmin:.2f} Å from another atom (at {t:.2f} of "
            f"the path); paths must keep ≥ {min_path_dist_A} Å from every atom: choose other endpoints")
    return moving_index


def path_min_distance(initial: Atoms, final: Atoms, moving_index: int, n_points: int = 41) -> tuple[float, float]:
    """Closest approach (Å) of the moving atom to any other atom along the straight minimum-image
    interpolation (all atoms interpolated), and the path fraction where it occurs."""
    from ase.geometry import get_distances

    d = mic_displacements(initial, final)
    others = [i for i in range(len(initial)) if i != moving_index]
    best, where = np.inf, 0.0
    for t in np.linspace(0.0, 1.0, n_points):
        pos = initial.positions + t * d
        _, dist = get_distances(pos[moving_index][None, :], pos[others], cell=initial.cell, pbc=initial.pbc)
        m = float(dist.min())
        if m < best:
            best, where = m, float(t)
    return best, where


def far_from_path(initial: Atoms, final: Atoms, moving_index: int, radius_A: float) -> list[int]:
    """Atoms farther than ``radius_A`` (minimum image) from the moving atom in both endpoints."""
    idx = list(range(len(initial)))
    d0 = initial.get_distances(moving_index, idx, mic=True)
    d1 = final.get_distances(moving_index, idx, mic=True)
    return [i for i in idx if i != moving_index and d0[i] > radius_A and d1[i] > radius_A]


def band_min_approach(images: list[Atoms], moving_index: int) -> float:
    """Closest distance of the moving atom to any other atom over all images, Å."""
    others = [i for i in range(len(images[0])) if i != moving_index]
    return float(min(im.get_distances(moving_index, others, mic=True).min() for im in images))


def interpolate_band(initial: Atoms, final: Atoms, n_images: int, method: str = "idpp") -> list[Atoms]:
    """:func:`contactflow.structures.separation.interpolate_band`, its input errors as NEBInputError."""
    from contactflow.structures.separation import interpolate_band as _band

    try:
        return _band(initial, final, n_images, method)
    except ValueError as exc:
        raise NEBInputError(str(exc)) from None


def reaction_coordinate(images: list[Atoms]) -> np.ndarray:
    """Cumulative 3N-dimensional minimum-image distance along the band, Å."""
    s = [0.0]
    for a, b in zip(images[:-1], images[1:]):
        s.append(s[-1] + float(np.linalg.norm(mic_displacements(a, b))))
    return np.array(s)


def li_path_length(images: list[Atoms], moving_index: int) -> float:
    """Length of the moving atom's polyline through the images, Å."""
    return float(sum(np.linalg.norm(mic_displacements(a, b)[moving_index]) for a, b in zip(images[:-1], images[1:])))


def barrier_numbers(energies_eV: np.ndarray) -> dict:
    """Forward/reverse barriers, reaction energy and saddle index from image energies (eV)."""
    e = np.asarray(energies_eV, dtype=float)
    imax = int(np.argmax(e))
    return {
        "barrier_forward_eV": float(e[imax] - e[0]),
        "barrier_reverse_eV": float(e[imax] - e[-1]),
        "delta_E_eV": float(e[-1] - e[0]),
        "saddle_index": imax,
        "energies_eV": (e - e[0]).tolist(),
    }


# --------------------------------------------------------------------------------------------------
# the band
# --------------------------------------------------------------------------------------------------
class _BandImageCalculator(Calculator):
    """Holds the energy/forces the band evaluated for its image; evaluates alone if asked directly."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, evaluator: ImageEvaluator):
        super().__init__()
        self.evaluator = evaluator

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        r = self.evaluator.evaluate([self.atoms])[0]
        self.results = {"energy": r.energy_eV, "free_energy": r.energy_eV, "forces": r.forces}


class BatchedNEB(NEB):
    """ASE ``NEB`` whose moving images are evaluated together, one evaluator call per force call.

    Parameters
    ----------
    images
        Band including both endpoints (endpoints need their own calculators or stored results).
    evaluator
        Engine-layer evaluator (batched path where the engine has one).
    chooser
        Decides batched vs sequential (per device; ``auto`` measures on CPU).
    **kwargs
        Passed to :class:`ase.mep.NEB` (``k``, ``climb``, ``method`` …).
    """

    def __init__(self, images: list[Atoms], evaluator: ImageEvaluator, chooser: BatchChooser, **kwargs):
        kwargs.setdefault("method", "improvedtangent")
        super().__init__(images, **kwargs)
        self.evaluator, self.chooser = evaluator, chooser
        for im in images[1:-1]:
            im.calc = _BandImageCalculator(evaluator)
        self.n_force_calls = 0

    def get_forces(self):
        stale = [im for im in self.images[1:-1] if not im.calc.results or im.calc.check_state(im)]
        if stale:
            for im, r in zip(stale, self.chooser.evaluate(self.evaluator, stale)):
                im.calc.atoms = im.copy()
                im.calc.results = {"energy": r.energy_eV, "free_energy": r.energy_eV, "forces": r.forces}
            self.n_force_calls += 1
        return super().get_forces()


@dataclass
class NEBOutcome:
    """Final band and what the optimizer reached."""

    images: list[Atoms]
    energies_eV: np.ndarray
    converged: bool
    steps: int
    max_force_eV_per_A: float
    climbing_image_max_force_eV_per_A: float
    climbing_index: int
    batch_mode: str | None
    batch_timings_s: dict = field(default_factory=dict)


def attach_endpoint_results(atoms: Atoms, evaluator: ImageEvaluator) -> float:
    """Evaluate an endpoint once and freeze its energy/forces on it (endpoints do not move)."""
    r = evaluator.evaluate([atoms])[0]
    atoms.calc = SinglePointCalculator(atoms, energy=r.energy_eV, free_energy=r.energy_eV, forces=r.forces)
    return r.energy_eV


def run_climbing_neb(images: list[Atoms], evaluator: ImageEvaluator, chooser: BatchChooser, fmax: float,
                     max_steps: int, optimizer: str = "FIRE", k: float = 0.1, climb: bool = True,
                     optimizer_kwargs: dict | None = None) -> NEBOutcome:
    """Optimise a band (endpoints fixed) with a climbing image until every force is below ``fmax``.

    Parameters
    ----------
    images
        Band including endpoints; endpoints are evaluated once and frozen.
    evaluator, chooser
        Engine evaluator and batch decision.
    fmax
        Convergence criterion on the NEB forces of every moving image (climbing image included), eV/Å.
    max_steps
        Optimizer step budget.
    optimizer
        ASE optimizer: FIRE, BFGS, LBFGS or MDMin.
    k
        Spring constant, eV/Å².
    climb
        Climbing image on.
    """
    import ase.optimize

    if optimizer not in OPTIMIZERS:
        raise NEBInputError(f"unknown optimizer {optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
    for end in (images[0], images[-1]):
        if not isinstance(end.calc, SinglePointCalculator):
            attach_endpoint_results(end, evaluator)
    from contactflow.engines.cost import ProgressMeter

    band = BatchedNEB(images, evaluator, chooser, k=k, climb=climb)
    opt = getattr(ase.optimize, optimizer)(band, logfile=None, **(optimizer_kwargs or {}))
    meter = ProgressMeter(f"NEB {images[0].get_chemical_formula()} ({len(images) - 2} moving images)", max_steps,
                          "steps", upper_bound=True, logger=log)
    converged = False
    for converged in opt.irun(fmax=fmax, steps=max_steps):
        if opt.nsteps and meter.due(opt.nsteps):
            f = band.get_forces().reshape(len(images) - 2, len(images[0]), 3)
            meter.update(opt.nsteps, f"max NEB force {np.linalg.norm(f, axis=2).max():.3f} eV/Å")
    converged = bool(converged)
    f = band.get_forces().reshape(len(images) - 2, len(images[0]), 3)
    norms = np.linalg.norm(f, axis=2).max(axis=1)
    imax = int(band.imax)
    return NEBOutcome(
        images=images, energies_eV=np.array(band.energies, dtype=float), converged=converged,
        steps=int(opt.nsteps), max_force_eV_per_A=float(norms.max()),
        climbing_image_max_force_eV_per_A=float(norms[imax - 1]), climbing_index=imax,
        batch_mode=chooser.decided, batch_timings_s=dict(chooser.timings_s),
    )


# --------------------------------------------------------------------------------------------------
# the Maker
# --------------------------------------------------------------------------------------------------
@dataclass
class LiMigrationNEBMaker(Maker):
    """Li migration barrier between two endpoints by climbing-image NEB.

    Endpoints are checked (same atoms and order, Li present and hopping, straight path ≥
    ``min_path_dist_A`` from every atom) before anything is computed, relaxed at fixed cell with their
    fixed atoms held, joined by an IDPP band and optimised with a climbing image until all NEB forces are
    below ``fmax``. A band that does not converge in ``max_steps`` is stored as failed, without barrier.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec (see :func:`contactflow.engines.get_calculator`).
    device
        ``auto``, ``cpu`` or ``cuda``.
    n_images
        Interior images (odd numbers put an image on the midpoint of symmetric hops).
    fmax
        Force criterion of the NEB and of the endpoint relaxations, eV/Å.
    max_steps
        NEB optimizer step budget.
    relax_endpoints
        Relax both endpoints first (fixed cell, fixed atoms held).
    endpoint_max_steps
        Step budget of each endpoint relaxation.
    fix_bottom_A
        Also fix every atom within this height of the lowest atom (slabs and interfaces), Å.
    interpolation
        ``idpp`` (default) or ``linear``.
    climb
        Climbing image on.
    spring_k
        NEB spring constant, eV/Å².
    optimizer
        ASE optimizer of the band: FIRE, BFGS, LBFGS or MDMin.
    batch
        Image evaluation: ``auto`` (batched on CUDA, sequential on CPU where the batch is slower),
        ``batched``, ``sequential`` or ``measure`` (time both on the first two steps, keep the faster).
    min_path_dist_A
        Smallest allowed distance of the straight Li path to another atom, Å.
    relax_radius_A
        When set, only atoms within this distance of the Li's initial or final position move (endpoints
        and band); the far field is frozen. For large interface cells: fewer soft modes, fewer steps.
    optimizer_kwargs
        Extra keyword arguments of the band optimizer.
    """

    name: str = "li_migration_neb"
    engine: str = "chgnet"
    device: str = "auto"
    n_images: int = 5
    fmax: float = 0.05
    max_steps: int = 300
    relax_endpoints: bool = True
    endpoint_max_steps: int = 300
    fix_bottom_A: float = 0.0
    interpolation: str = "idpp"
    climb: bool = True
    spring_k: float = 0.1
    optimizer: str = "FIRE"
    batch: str = "auto"
    min_path_dist_A: float = 0.5
    relax_radius_A: float | None = None
    optimizer_kwargs: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`NEBInputError` for settings no NEB can run with."""
        if self.n_images < 1:
            raise NEBInputError(f"n_images must be ≥ 1, got {self.n_images}")
        if self.fmax <= 0:
            raise NEBInputError(f"fmax must be positive, got {self.fmax} eV/Å")
        if self.batch not in BATCH_MODES:
            raise NEBInputError(f"unknown batch mode {self.batch!r}; valid: {', '.join(BATCH_MODES)}")
        if self.optimizer not in OPTIMIZERS:
            raise NEBInputError(f"unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}")

    @contactflow_job
    def make(self, initial: Structure, final: Structure, label: str = "Li hop", interface_id: str | None = None,
             recipe_name: str | None = None, region: str = "custom", mechanism: str = "given",
             reference_barrier_eV: float | None = None, reference_source: str | None = None,
             moving_index: int | None = None) -> BarrierDoc:
        """Run the NEB between ``initial`` and ``final`` and return (and store) a :class:`BarrierDoc`."""
        return self.compute(initial, final, label=label, interface_id=interface_id, recipe_name=recipe_name,
                            region=region, mechanism=mechanism, reference_barrier_eV=reference_barrier_eV,
                            reference_source=reference_source, moving_index=moving_index)

    def compute(self, initial: "Structure | Atoms", final: "Structure | Atoms", label: str = "Li hop",
                interface_id: str | None = None, recipe_name: str | None = None, region: str = "custom",
                mechanism: str = "given", reference_barrier_eV: float | None = None,
                reference_source: str | None = None, moving_index: int | None = None,
                system: str | None = None) -> BarrierDoc:
        """The calculation behind :meth:`make`, callable outside jobflow (other jobs reuse it).

        Raises
        ------
        NEBInputError
            Before any compute, for endpoints or settings that cannot describe a Li hop.
        """
        from contactflow.engines import engine_info, get_calculator, resolve_device
        from contactflow.engines.batch import get_evaluator
        from contactflow.engines.properties import ENERGY_FORCES, evaluation_record
        from contactflow.jobs.relax import relax_fixed_cell

        self.check()
        a0 = to_atoms(initial, self.fix_bottom_A)
        a1 = to_atoms(final, 0.0)
        a1.set_constraint([c.copy() for c in a0.constraints])
        mi = validate_endpoints(a0, a1, moving_index, self.min_path_dist_A)
        if self.relax_radius_A is not None:
            far = far_from_path(a0, a1, mi, self.relax_radius_A)
            keep = sorted(set(fixed_indices(a0)) | set(far))
            for a in (a0, a1):
                a.set_constraint(FixAtoms(indices=keep) if keep else None)
        info = engine_info(self.engine, self.device)
        settings = {
            "n_images": self.n_images, "fmax": self.fmax, "max_steps": self.max_steps,
            "relax_endpoints": self.relax_endpoints, "endpoint_max_steps": self.endpoint_max_steps,
            "fix_bottom_A": self.fix_bottom_A, "interpolation": self.interpolation, "climb": self.climb,
            "spring_k": self.spring_k, "optimizer": self.optimizer, "relax_radius_A": self.relax_radius_A,
        }
        key = doc_key_for("nb", {
            "interface_id": interface_id, "label": label, "engine": info.spec, "settings": settings,
            "formula": a0.get_chemical_formula(), "li0": np.round(a0.get_scaled_positions()[mi], 3).tolist(),
            "li1": np.round(a1.get_scaled_positions()[mi], 3).tolist(),
        })
        base = dict(
            doc_key=key, interface_id=interface_id, recipe_name=recipe_name,
            system=system or a0.get_chemical_formula(mode="hill", empirical=False), label=label, region=region,
            mechanism=mechanism, engine=info.spec, settings=settings, n_atoms=len(a0),
            n_images=self.n_images + 2, moving_index=mi, fixed_indices=fixed_indices(a0), fmax_eV_per_A=self.fmax,
            endpoints_relaxed=self.relax_endpoints, reference_barrier_eV=reference_barrier_eV,
            reference_source=reference_source,
        )
        result: dict = {}
        evaluator = get_evaluator(self.engine, self.device)
        calc = get_calculator(self.engine, self.device, ENERGY_FORCES) if self.relax_endpoints else None
        estimate = self.estimate(a0, evaluator.calculator)
        estimate.announce(log)
        with timed() as timer:
            timer.estimate = estimate
            chooser = BatchChooser(self.batch, resolve_device(self.device))
            if self.relax_endpoints:
                r0 = relax_fixed_cell(a0, calc, self.fmax, self.endpoint_max_steps, self.optimizer)
                r1 = relax_fixed_cell(a1, calc, self.fmax, self.endpoint_max_steps, self.optimizer)
                a0, a1 = r0.atoms, r1.atoms
                result["endpoints_converged"] = r0.converged and r1.converged
                if not result["endpoints_converged"]:
                    bad = [n for n, r in (("initial", r0), ("final", r1)) if not r.converged]
                    result["failure_reason"] = (f"relaxation of the {' and '.join(bad)} endpoint did not reach "
                                                f"fmax={self.fmax} eV/Å in {self.endpoint_max_steps} steps")
                elif np.linalg.norm(mic_displacements(a0, a1)[mi]) < 0.3:
                    result["failure_reason"] = ("both endpoints relaxed into the same Li site; the initial "
                                                "sites were not distinct minima")
            if "failure_reason" not in result:
                images = interpolate_band(a0, a1, self.n_images, self.interpolation)
                out = run_climbing_neb(images, evaluator, chooser, self.fmax, self.max_steps, self.optimizer,
                                       self.spring_k, self.climb, self.optimizer_kwargs)
                result.update(
                    converged=out.converged, neb_steps=out.steps, max_force_eV_per_A=out.max_force_eV_per_A,
                    climbing_image_max_force_eV_per_A=out.climbing_image_max_force_eV_per_A,
                    batch_mode=out.batch_mode, batch_timings_s=out.batch_timings_s,
                    hop_distance_A=float(np.linalg.norm(mic_displacements(images[0], images[-1])[mi])),
                    initial_structure=AseAtomsAdaptor.get_structure(_plain(images[0])),
                    final_structure=AseAtomsAdaptor.get_structure(_plain(images[-1])),
                    initial_li_frac_coords=images[0].get_scaled_positions()[mi].tolist(),
                    final_li_frac_coords=images[-1].get_scaled_positions()[mi].tolist(),
                )
                if out.converged:
                    nums = barrier_numbers(out.energies_eV)
                    sad = images[nums["saddle_index"]]
                    others = [i for i in range(len(sad)) if i != mi]
                    result.update(
                        nums, reaction_coordinate_A=reaction_coordinate(images).tolist(),
                        path_length_A=li_path_length(images, mi), min_approach_A=band_min_approach(images, mi),
                        saddle_li_frac_coords=sad.get_scaled_positions()[mi].tolist(),
                        saddle_li_min_dist_A=float(sad.get_distances(mi, others, mic=True).min()),
                        saddle_structure=AseAtomsAdaptor.get_structure(_plain(sad)).as_dict(),
                        band_images=[AseAtomsAdaptor.get_structure(_plain(im)).as_dict() for im in images],
                    )
                    result.update(committee_uncertainty(self.engine, self.device, images))
                    notes = []
                    e = np.asarray(nums["energies_eV"])
                    k = int(np.argmin(e[1:-1])) + 1
                    if e[k] < min(e[0], e[-1]) - 0.01:
                        notes.append(f"interior image {k} lies {min(e[0], e[-1]) - e[k]:.3f} eV below the lower "
                                     "endpoint: the path crosses a deeper site (two hops, not one)")
                    if nums["saddle_index"] in (0, len(e) - 1):
                        notes.append("the highest point is an endpoint: no barrier in one direction")
                    if reference_barrier_eV is not None:
                        dev = nums["barrier_forward_eV"] - reference_barrier_eV
                        result["deviation_from_reference_eV"] = dev
                        notes.append(f"{info.spec} barrier {nums['barrier_forward_eV']:.3f} eV vs reference "
                                     f"{reference_barrier_eV:.3f} eV: deviation {dev:+.3f} eV (measured)")
                    result["note"] = "; ".join(notes) or None
                else:
                    result["failure_reason"] = (
                        f"NEB did not converge in {self.max_steps} steps: largest force "
                        f"{out.max_force_eV_per_A:.3f} eV/Å > fmax {self.fmax} eV/Å")
        timer.evaluation = evaluation_record(calc, evaluator.calculator)
        state = "failed" if result.get("failure_reason") else "successful"
        if state == "successful":  # the barrier's uncertainty: the committee's spread, else the validation error
            from contactflow.engines.auto import trust

            state = trust(info.spec, set(a0.get_chemical_symbols()), "neb", "eV", result.get("committee_barrier_std_eV"),
                          state, result, what="the barrier")
        return BarrierDoc(**base, **result, state=state, provenance=make_provenance(info, timer))

    def estimate(self, atoms: Atoms, calculator):
        """The cost of :meth:`compute` at most: endpoint relaxations plus ``max_steps`` band steps of
        ``n_images`` evaluations, at the time per evaluation measured on ``atoms``."""
        from contactflow.engines import parse_spec, resolve_device
        from contactflow.engines.cost import CostEstimate, time_per_evaluation_s
        from contactflow.engines.properties import ENERGY_FORCES

        dev = resolve_device(self.device)
        per = time_per_evaluation_s(calculator, atoms, key=(parse_spec(self.engine).canonical, dev, ENERGY_FORCES))
        parts = {"endpoint relaxation": 2 * self.endpoint_max_steps if self.relax_endpoints else 0,
                 "band": self.max_steps * self.n_images + 2}
        return CostEstimate(f"NEB {atoms.get_chemical_formula()}", self.engine, dev, len(atoms),
                            sum(parts.values()), per, parts=parts)


def committee_uncertainty(engine: str, device: str, images: list[Atoms]) -> dict:
    """Committee spread along a converged band (empty for single-model engines).

    Per-member energies relative to each member's initial image give a barrier per member; their std is
    the barrier's uncertainty.
    """
    from contactflow.engines import get_calculator, parse_spec
    from contactflow.engines.calculators import committee_spread, model_path
    from contactflow.engines.properties import ENERGY_FORCES

    parsed = parse_spec(engine)
    if parsed.base != "mace" or not model_path(parsed.arg).is_dir():
        return {}
    calc = get_calculator(engine, device, ENERGY_FORCES)
    members, fstd = [], 0.0
    for im in images:
        work = _plain(im)
        work.calc = calc
        work.get_forces()
        s = committee_spread(calc)
        if s is None:
            return {}
        members.append(s["energies_eV"])
        fstd = max(fstd, float(np.max(s["forces_std_eV_per_A"])))
    e = np.asarray(members)  # images × members
    rel = e - e[0]
    return {"committee_energy_std_eV": rel.std(axis=1).tolist(),
            "committee_barrier_std_eV": float(np.std(rel.max(axis=0))),
            "committee_max_force_std_eV_per_A": fstd}


def _plain(atoms: Atoms) -> Atoms:
    a = atoms.copy()
    a.set_constraint()
    return a


# --------------------------------------------------------------------------------------------------
# recipe task ``neb``: automatic sites, a hop at the interface and one in the film's bulk
# --------------------------------------------------------------------------------------------------
#: Literature barriers recorded next to computed ones (deviation stored, never tuned to).
REFERENCE_BARRIERS: dict[tuple[str, str], tuple[float, str]] = {
    ("Si", "bulk"): (0.595, "DFT (GGA) Td-Hex-Td 0.57-0.62 eV: Wan et al., J. Phys.: Condens. Matter 22, "
                            "415501 (2010); Jung & Han (2012)"),
    ("LiF/C", "interface"): (0.13, "DFT Li+ migration at the LiF/C interface ~0.13 eV (review of anode contact "
                                   "interfaces; vs ~0.20 eV on LiF, ~0.25 eV on graphitic C)"),
}


def reference_for(system: str, region: str) -> tuple[float | None, str | None]:
    """Literature barrier for (system, region), or (None, None)."""
    return REFERENCE_BARRIERS.get((system, region), (None, None))


def film_bulk_of(recipe_name: str | None) -> Structure | None:
    """The film's bulk crystal from a recipe (None when the recipe is unknown or its film is a builder)."""
    if not recipe_name:
        return None
    from contactflow.errors import ContactflowError as _CE
    from contactflow.recipes import load_recipe
    from contactflow.structures import load_bulk

    try:
        rec = load_recipe(recipe_name)
    except _CE:
        return None
    src = getattr(rec.film, "structure", None)
    if not isinstance(src, str):
        return None
    try:
        return load_bulk(src)
    except _CE:
        return None


def supercell_at_least(structure: Structure, min_length_A: float) -> Structure:
    """Diagonal supercell whose every cell height is ≥ ``min_length_A``."""
    latt = structure.lattice
    heights = latt.volume / np.array([np.linalg.norm(np.cross(latt.matrix[(i + 1) % 3], latt.matrix[(i + 2) % 3]))
                                      for i in range(3)])
    return structure * tuple(int(np.ceil(min_length_A / h)) for h in heights)


@dataclass
class InterfaceNEBMaker(Maker):
    """Recipe task ``neb``: Li hop barriers found automatically for an interface.

    ``make(interface, interface_id, recipe_name)`` returns a Flow of two jobs: (1) a hop in the
    interface gap: voids between film and substrate are found geometrically, pre-ranked by the energy of
    interface + Li (one evaluator call), and the Li hops from the lowest-energy void to the nearest
    other void (``min_hop_A``–``max_hop_A`` away, at most ``max_site_dE_eV`` higher) whose straight
    path keeps ≥ ``min_path_dist_A`` from every atom; (2) for comparison, the shortest symmetric hop between the largest voids of the film's
    bulk crystal (when the recipe's film is a crystal). Both use :class:`LiMigrationNEBMaker`.

    Parameters
    ----------
    name
        Flow name prefix.
    engine
        Engine spec.
    bulk_hop
        Also compute the film-bulk hop.
    max_candidates
        Largest gap voids that are pre-ranked by energy.
    max_hop_A, min_hop_A
        Longest and shortest hop considered, Å (closer voids usually relax into one minimum).
    max_site_dE_eV
        Partner voids may lie at most this much above the lowest-energy void (single points), eV.
    min_path_dist_A
        Smallest distance of a candidate straight hop path to any atom, Å.
    fix_bottom_A
        Substrate bottom layer held fixed in the interface hop, Å.
    relax_radius_A
        Interface hop only: atoms farther than this from the Li endpoints are frozen (None: all move), Å.
    bulk_min_length_A
        Smallest cell height of the bulk supercell, Å.
    n_images, fmax, max_steps, batch
        Interior images, force criterion (eV/Å), step budget and image evaluation of both NEBs.
    neb_kwargs
        Further fields of :class:`LiMigrationNEBMaker` (spring_k, optimizer, relax_endpoints …).
    """

    name: str = "neb"
    engine: str = "chgnet+d3"
    device: str = "auto"
    bulk_hop: bool = True
    max_candidates: int = 24
    max_hop_A: float = 3.5
    min_hop_A: float = 1.5
    max_site_dE_eV: float = 0.5
    min_path_dist_A: float = 1.0
    fix_bottom_A: float = 1.0
    relax_radius_A: float | None = 6.0
    bulk_min_length_A: float = 8.0
    n_images: int = 5
    fmax: float = 0.05
    max_steps: int = 300
    batch: str = "auto"
    neb_kwargs: dict = field(default_factory=dict)

    def neb_maker(self, **over) -> LiMigrationNEBMaker:
        """The LiMigrationNEBMaker both hops use."""
        kw = {"engine": self.engine, "device": self.device, "n_images": self.n_images, "fmax": self.fmax,
              "max_steps": self.max_steps, "batch": self.batch, **self.neb_kwargs, **over}
        return LiMigrationNEBMaker(**kw)

    def make(self, interface, interface_id: str, recipe_name: str | None = None):
        """Flow of the interface hop and (when available) the film-bulk hop."""
        from jobflow import Flow

        jobs = [self.interface_hop(interface, interface_id, recipe_name)]
        jobs[0].name = f"neb-interface:{interface_id}"
        bulk = film_bulk_of(recipe_name) if self.bulk_hop else None
        if bulk is not None:
            j = self.film_bulk_hop(bulk, interface_id, recipe_name)
            j.name = f"neb-bulk:{bulk.composition.reduced_formula}"
            jobs.append(j)
        return Flow(jobs, name=f"neb:{interface_id}")

    def pick_interface_hop(self, interface) -> tuple[LiSite, LiSite, dict]:
        """The two gap voids the interface hop joins, and what the ranking saw."""
        from contactflow.engines import resolve_device
        from contactflow.engines.batch import get_evaluator
        from contactflow.jobs.li_sites import rank_sites_by_energy
        from contactflow.structures.li_sites import SiteFindingError, find_interface_sites, path_min_distance_A

        sites = find_interface_sites(interface)[: self.max_candidates]
        ranked = rank_sites_by_energy(interface, sites, get_evaluator(self.engine, self.device, ("energy",)),
                                      BatchChooser(self.batch, resolve_device(self.device)))
        a, e_a = ranked[0]
        latt = interface.lattice
        options = []
        for b, e_b in ranked[1:]:
            hop = latt.get_all_distances(a.frac_coords[None, :], b.frac_coords[None, :])[0, 0]
            if not self.min_hop_A <= hop <= self.max_hop_A or e_b - e_a > self.max_site_dE_eV:
                continue
            if path_min_distance_A(interface, a.frac_coords, b.frac_coords)[0] < self.min_path_dist_A:
                continue
            options.append((hop, b, e_b))
        if options:
            # the nearest low-energy neighbour: a single hop between adjacent minima, not a path that
            # crosses a third site on the way
            hop, b, e_b = min(options, key=lambda t: t[0])
            return a, b, {"n_candidates": len(sites), "e_a_eV": e_a, "e_b_eV": e_b, "hop_A": float(hop)}
        raise SiteFindingError(
            f"no second gap void {self.min_hop_A}–{self.max_hop_A} Å from the lowest-energy site, within "
            f"{self.max_site_dE_eV} eV of it, with a clear path "
            f"(≥ {self.min_path_dist_A} Å from atoms) among {len(sites)} candidates; raise max_hop_A")

    @contactflow_job
    def interface_hop(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> BarrierDoc:
        """NEB of a Li hop between the two chosen voids in the gap of the prepared (relaxed) interface."""
        from contactflow.structures.li_sites import insert_li

        from contactflow.jobs.base import preparation_failure

        interface, pdoc = resolve_prepared(prepared)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        if preparation_failure(pdoc):
            return BarrierDoc(doc_key=doc_key_for("nb", {"prepared": pdoc.doc_key, "engine": self.engine}),
                              interface_id=interface_id, recipe_name=recipe_name, system=pdoc.system,
                              label=f"{pdoc.system} interface", region="interface", engine=pdoc.engine,
                              state="failed", failure_reason=preparation_failure(pdoc), prepared_key=pdoc.doc_key,
                              n_atoms=pdoc.n_atoms + 1, n_images=self.n_images + 2, moving_index=pdoc.n_atoms,
                              fmax_eV_per_A=self.fmax)
        a, b, _ = self.pick_interface_hop(interface)
        system = f"{interface.film.composition.reduced_formula}/{interface.substrate.composition.reduced_formula}"
        ref, src = reference_for(system, "interface")
        doc = self.neb_maker(fix_bottom_A=self.fix_bottom_A, relax_radius_A=self.relax_radius_A).compute(
            insert_li(interface, a), insert_li(interface, b), label=f"{system} interface", region="interface",
            mechanism="interstitial", interface_id=interface_id, recipe_name=recipe_name, system=system,
            reference_barrier_eV=ref, reference_source=src,
        )
        doc.prepared_key = pdoc.doc_key if pdoc else None
        return doc

    @contactflow_job
    def film_bulk_hop(self, bulk: Structure, interface_id: str | None = None, recipe_name: str | None = None) -> BarrierDoc:
        """NEB of the shortest symmetric hop between the largest interstitial voids of a bulk crystal."""
        return bulk_li_hop(bulk, self.neb_maker(fix_bottom_A=0.0), self.bulk_min_length_A, self.max_hop_A,
                           self.min_path_dist_A, interface_id=interface_id, recipe_name=recipe_name)


def bulk_li_hop(bulk: Structure, maker: LiMigrationNEBMaker, min_length_A: float = 8.0, max_hop_A: float = 3.5,
                min_path_dist_A: float = 1.0, interface_id: str | None = None,
                recipe_name: str | None = None) -> BarrierDoc:
    """Li interstitial hop between two symmetry-equivalent largest voids of ``bulk`` (supercell ≥
    ``min_length_A``), computed with ``maker``."""
    from contactflow.structures.li_sites import SiteFindingError, find_interstitial_sites, hop_pairs, insert_li

    sc = supercell_at_least(bulk, min_length_A)
    voids = find_interstitial_sites(sc, symmetry_reduce=False)
    dmax = max(v.min_dist_A for v in voids)
    largest = [v for v in voids if v.min_dist_A > dmax - 0.05]
    pairs = hop_pairs(sc, largest, max_hop_A=max_hop_A, min_path_dist_A=min_path_dist_A, equivalent_only=True)
    if not pairs:
        raise SiteFindingError(f"no symmetric hop ≤ {max_hop_A} Å between the largest voids of "
                               f"{bulk.composition.reduced_formula}; raise max_hop_A")
    a, b, _ = pairs[0]
    system = bulk.composition.reduced_formula
    ref, src = reference_for(system, "bulk")
    return maker.compute(insert_li(sc, a), insert_li(sc, b), label=f"{system} bulk", region="bulk",
                         mechanism="interstitial", interface_id=interface_id, recipe_name=recipe_name, system=system,
                         reference_barrier_eV=ref, reference_source=src)
