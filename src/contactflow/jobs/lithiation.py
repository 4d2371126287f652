"""Stepwise lithiation of an interface: insert Li, relax, equilibrate; track volume strain and integrity.

Each step inserts ``li_per_step`` Li atoms into the largest interstitial voids (Voronoi voids from
:func:`contactflow.structures.li_sites.find_interstitial_sites`) of the chosen region — the film
(``region="film"``) or the film/substrate gap (``region="interface"``) — then relaxes at fixed cell
(substrate bottom fixed) and runs NVT MD. Li joins the film side.

After each step: film volume V = A × (z extent of the film with its Li), volume strain (V − V₀)/V₀, the
film–substrate gap, the real contact-area fraction and the bonds across the interface
(:mod:`contactflow.analysis.descriptors`). The contact counts as intact while the contact-area fraction
stays ≥ ``min_contact_fraction`` and the gap below ``debond_gap_A``.
"""

from dataclasses import dataclass, field

import numpy as np
from ase import Atom
from ase.constraints import FixAtoms
from jobflow import Maker

from contactflow.analysis.descriptors import contact_area_fraction, cross_interface_bonds, interface_gap_A
from contactflow.jobs.base import (
    contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.jobs.md import MDInputError, MDMaker, _check_md_fields, _system_of, bottom_indices, structure_to_atoms
from contactflow.jobs.pull_off import film_substrate_indices
from contactflow.schemas.md import LithiationDoc, LithiationStep

REGIONS = ("film", "interface")


def film_volume_A3(atoms, film) -> tuple[float, float]:
    """(film volume = in-plane area × z extent of the film, Å³; that thickness, Å)."""
    z = atoms.positions[np.asarray(film, int), 2]
    area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    t = float(z.max() - z.min())
    return area * t, t


def li_sites_in(atoms, film, sub, region: str, min_dist_A: float = 1.6) -> list[np.ndarray]:
    """Cartesian Li candidate positions in ``region``, most open void first."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.structures.li_sites import SiteFindingError, find_interstitial_sites

    z = atoms.positions[:, 2]
    if region == "interface":
        window = (float(z[sub].max()) - 0.5, float(z[film].min()) + 0.5)
    else:
        window = (float(z[film].min()) - 0.5, float(z[film].max()) + 0.5)
    structure = AseAtomsAdaptor.get_structure(atoms)
    try:
        sites = find_interstitial_sites(structure, min_dist_A=min_dist_A, max_dist_A=4.0, z_window_A=window,
                                        symmetry_reduce=False)
    except SiteFindingError:
        return []
    return [np.asarray(s.cart_coords, float) for s in sites]


@dataclass
class LithiationMaker(Maker):
    """Insert Li stepwise into a film or interface; volume strain and interface integrity vs Li content.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec (an MLP through ASE, or ReaxFF with a Li-containing ffield).
    device
        MLP device.
    n_insertions
        Insertion steps.
    li_per_step
        Li atoms inserted per step.
    region
        ``film`` (voids inside the film) or ``interface`` (voids in the film/substrate gap).
    relax_steps, relax_fmax
        Fixed-cell relaxation after each insertion (FIRE), steps and eV/Å.
    md_steps
        NVT steps after each relaxation (0: relax only).
    temperature_K
        MD temperature, K.
    fix_bottom_A
        Fixed substrate bottom, Å.
    min_contact_fraction, debond_gap_A
        Integrity criteria: contact-area fraction at least this, gap below this (Å).
    md_kwargs
        Further :class:`~contactflow.jobs.md.MDMaker` fields.
    """

    name: str = "lithiation"
    engine: str = "chgnet"
    device: str = "auto"
    n_insertions: int = 3
    li_per_step: int = 1
    region: str = "film"
    relax_steps: int = 100
    relax_fmax: float = 0.05
    md_steps: int = 200
    temperature_K: float = 300.0
    fix_bottom_A: float = 1.0
    min_contact_fraction: float = 0.5
    debond_gap_A: float = 4.5
    seed: int = 0
    md_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_md_fields(self, at_least_one=("n_insertions", "li_per_step"), counts=("relax_steps", "md_steps"),
                         positive=("relax_fmax", "temperature_K", "debond_gap_A"),
                         non_negative=("fix_bottom_A",), integers=("seed",),
                         ranges={"min_contact_fraction": (0.0, 1.0 + 1e-12, "[0, 1]")}, choices={"region": REGIONS})

    def _measure(self, atoms, film, sub, n_li, n_host, v0, epa) -> LithiationStep:
        vol, t = film_volume_A3(atoms, film)
        frac = contact_area_fraction(atoms, film, sub)
        gap = interface_gap_A(atoms, film, sub)
        bonds = cross_interface_bonds(atoms, film, sub)
        return LithiationStep(
            n_li=n_li, li_per_film_atom=n_li / n_host, film_volume_A3=vol,
            volume_strain_pct=(vol - v0) / v0 * 100.0 if v0 else 0.0, film_thickness_A=t, interface_gap_A=gap,
            contact_area_fraction=frac, n_cross_bonds=int(sum(bonds.values())), potential_energy_per_atom_eV=epa,
            intact=bool(frac >= self.min_contact_fraction and gap < self.debond_gap_A))

    def execute(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> LithiationDoc:
        """Run the insertion steps and build the :class:`LithiationDoc` (nothing is written); no jobflow needed.

        ``prepared``: a :class:`~contactflow.schemas.PreparedInterfaceDoc` (its relaxed geometry when there
        is one) or an interface; a failed preparation gives a failed document and no compute.
        """
        from contactflow.engines import engine_info, get_calculator
        from contactflow.engines.checks import check_elements
        from contactflow.jobs.relax import relax_fixed_cell

        interface, pdoc = resolve_prepared(prepared, relaxed=True)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None) or "unnamed"
        recipe_name = recipe_name or (pdoc.recipe_name if pdoc else None)
        pkey = pdoc.doc_key if pdoc else None
        atoms = structure_to_atoms(interface)
        check_elements(self.engine, atoms.get_chemical_symbols() + ["Li"])
        film, sub = film_substrate_indices(interface)
        n_host = len([i for i in film if atoms[i].symbol != "Li"])
        info = engine_info(self.engine, self.device)
        settings = {k: getattr(self, k) for k in ("n_insertions", "li_per_step", "region", "relax_steps", "relax_fmax",
                                                  "md_steps", "temperature_K", "fix_bottom_A", "seed")}
        settings["md_kwargs"] = self.md_kwargs
        base = dict(doc_key=doc_key_for("li", {"interface_id": interface_id, "engine": info.spec, "settings": settings,
                                               "prepared_key": pkey}),
                    interface_id=interface_id, recipe_name=recipe_name, prepared_key=pkey,
                    system=_system_of(interface, atoms), engine=info.spec, settings=settings,
                    n_atoms_initial=len(atoms))
        failure = preparation_failure(pdoc)
        if failure:
            with timed() as timer:
                pass
            return LithiationDoc(**base, state="failed", failure_reason=failure, provenance=make_provenance(info, timer))
        md = MDMaker(engine=self.engine, device=self.device, ensemble="nvt", temperature_K=self.temperature_K,
                     n_steps=max(1, self.md_steps), **self.md_kwargs)
        md.validate(atoms)
        calc = get_calculator(self.engine, self.device, ("energy", "forces"))  # fixed-cell relaxations
        steps, reason, md_runs = [], None, []
        with timed() as timer:
            fixed = bottom_indices(atoms, self.fix_bottom_A, sub)
            v0, _ = film_volume_A3(atoms, film)
            steps.append(self._measure(atoms, film, sub, 0, n_host, v0, None))
            n_li = 0
            for k in range(self.n_insertions):
                for _ in range(self.li_per_step):
                    sites = li_sites_in(atoms, film, sub, self.region)
                    if not sites and self.region == "interface":
                        sites = li_sites_in(atoms, film, sub, "film")
                    if not sites:
                        reason = f"no void left for Li in the {self.region} after {n_li} Li"
                        break
                    atoms.append(Atom("Li", sites[0]))
                    film = film + [len(atoms) - 1]
                    n_li += 1
                if reason:
                    break
                work = atoms.copy()
                work.set_constraint(FixAtoms(indices=fixed))
                relaxed = relax_fixed_cell(work, calc, self.relax_fmax, self.relax_steps)
                atoms = relaxed.atoms
                atoms.set_constraint()
                epa = relaxed.energy_eV / len(atoms)
                if self.md_steps > 0:
                    md.seed = self.seed + k
                    mdoc, run = md.execute(atoms, interface_id, recipe_name, task="lithiation", fixed=fixed,
                                           system=base["system"], prepared_key=pkey)
                    md_runs.append(mdoc)
                    if run is None:
                        reason = f"MD after inserting {n_li} Li failed: {mdoc.failure_reason}"
                        break
                    atoms.positions = run.final_positions
                    epa = mdoc.mean_potential_energy_eV / len(atoms)
                steps.append(self._measure(atoms, film, sub, n_li, n_host, v0, epa))
        from pymatgen.io.ase import AseAtomsAdaptor

        lost = next((s.n_li for s in steps if not s.intact), None)
        a = atoms.copy()
        a.wrap()
        doc = LithiationDoc(**base, steps=steps, state="failed" if reason else "successful", failure_reason=reason,
                            max_volume_strain_pct=max(s.volume_strain_pct for s in steps),
                            integrity_lost_at_n_li=lost, final_structure=AseAtomsAdaptor.get_structure(a).as_dict(),
                            md_runs=md_runs, provenance=make_provenance(info, timer))
        return doc

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> LithiationDoc:
        """Lithiate the prepared interface stepwise; returns the :class:`LithiationDoc` carrying its MD runs."""
        return self.execute(prepared, interface_id, recipe_name)
