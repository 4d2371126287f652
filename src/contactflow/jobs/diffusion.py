"""Li diffusion under in-plane strain: MSD at several temperatures and strains → D(T, strain), Arrhenius
fit, activation energy.

One NVT run per (T, strain) (:class:`~contactflow.jobs.md.MDMaker` with ``diffusion_species``); each
``MDDoc`` carries ``diffusivity_m2_per_s`` (tracer D from the multi-origin MSD, Einstein relation
MSD = 6 D t fitted past the ballistic part), ``temperature_K`` and ``strain_pct`` — the fields
:mod:`contactflow.continuum.diffusivity` exports. A final job fits ln D vs 1/T per strain into a
:class:`~contactflow.schemas.md.DiffusionDoc`. The uncertainty of E_a is the fit's standard error (≥ 3
temperatures) or, with two, the D standard errors propagated through the two-point slope.
"""

import math
from dataclasses import dataclass, field

from jobflow import Flow, Maker

from contactflow.analysis.dynamics import K_B_EV, arrhenius_fit
from contactflow.jobs.base import contactflow_job, doc_key_for, persist, timed
from contactflow.jobs.md import MDInputError, MDMaker, atoms_key, structure_to_atoms
from contactflow.schemas.md import ArrheniusFit, DiffusionDoc, DiffusionPoint, MDDoc


def fit_points(points: list[DiffusionPoint]) -> list[ArrheniusFit]:
    """Arrhenius fit per strain over the successful points with D > 0 (≥ 2 temperatures)."""
    fits = []
    for strain in sorted({p.strain_pct for p in points}):
        ps = [p for p in points if p.strain_pct == strain and p.state == "successful"
              and p.diffusivity_m2_per_s and p.diffusivity_m2_per_s > 0]
        T = [p.temperature_K for p in ps]
        if len(set(T)) < 2:
            continue
        f = arrhenius_fit(T, [p.diffusivity_m2_per_s for p in ps])
        err = f["activation_energy_stderr_eV"]
        if err is None and len(ps) == 2 and all(p.diffusivity_stderr_m2_per_s for p in ps):
            rel = math.sqrt(sum((p.diffusivity_stderr_m2_per_s / p.diffusivity_m2_per_s) ** 2 for p in ps))
            err = K_B_EV * rel / abs(1.0 / ps[0].temperature_K - 1.0 / ps[1].temperature_K)
        fits.append(ArrheniusFit(strain_pct=strain, activation_energy_eV=f["activation_energy_eV"],
                                 activation_energy_stderr_eV=err, D0_m2_per_s=f["D0"], temperatures_K=sorted(set(T))))
    return fits


def point_from_md(doc: MDDoc, species: str) -> DiffusionPoint:
    """The (T, strain, D) point of one MD document."""
    D = (doc.diffusivity_m2_per_s or {}).get(species)
    err = (doc.diffusivity_stderr_m2_per_s or {}).get(species)
    return DiffusionPoint(temperature_K=doc.temperature_K, strain_pct=doc.strain_pct, diffusivity_m2_per_s=D,
                          diffusivity_stderr_m2_per_s=err, md_doc_key=doc.doc_key,
                          state="successful" if doc.state == "successful" and D is not None else "failed")


def diffusion_doc(md_docs: list[MDDoc], species: str, settings: dict, interface_id: str | None,
                  recipe_name: str | None) -> DiffusionDoc:
    """Gather the runs into a :class:`DiffusionDoc` (failed when no Arrhenius fit is possible)."""
    points = [point_from_md(d, species) for d in md_docs]
    fits = fit_points(points)
    engine = md_docs[0].engine
    ref = min(fits, key=lambda f: abs(f.strain_pct)) if fits else None
    key = doc_key_for("dif", {"md": sorted(d.doc_key for d in md_docs), "species": species, "settings": settings})
    return DiffusionDoc(
        doc_key=key, interface_id=interface_id, recipe_name=recipe_name, system=md_docs[0].system, engine=engine,
        species=species, settings=settings, points=points, fits=fits,
        state="successful" if fits else "failed",
        failure_reason=None if fits else "fewer than two temperatures gave a positive D at any strain",
        activation_energy_eV=ref.activation_energy_eV if ref else None,
        activation_energy_stderr_eV=ref.activation_energy_stderr_eV if ref else None,
        provenance=md_docs[0].provenance)


@contactflow_job
def fit_diffusion(md_docs: list[MDDoc], species: str, settings: dict, interface_id: str | None = None,
                  recipe_name: str | None = None, store_result: bool = True) -> DiffusionDoc:
    """Job: Arrhenius fit of the MD runs' D into a stored :class:`DiffusionDoc`."""
    doc = diffusion_doc(md_docs, species, settings, interface_id, recipe_name)
    if store_result:
        persist(doc)
    return doc


@dataclass
class DiffusionMaker(Maker):
    """D(T, strain) of a species from MD, with Arrhenius fits and the activation energy.

    Parameters
    ----------
    name
        Flow name.
    engine
        Engine spec.
    device
        MLP device.
    species
        Diffusing species.
    temperatures_K
        Temperatures, K (≥ 2 for a fit; high temperatures make short runs informative).
    strains_pct
        Biaxial in-plane strains applied to the cell, %.
    n_steps
        MD steps per run.
    sample_interval
        Steps between frames used for the MSD.
    fix_bottom_A
        Fixed bottom layer for slabs/interfaces (0 for bulk cells).
    insert_li
        Li atoms to insert into the interface voids first (for interfaces without Li of their own).
    store_result
        Upsert the documents.
    md_kwargs
        Further :class:`~contactflow.jobs.md.MDMaker` fields.
    """

    name: str = "diffusion"
    engine: str = "chgnet"
    device: str = "auto"
    species: str = "Li"
    temperatures_K: tuple[float, ...] = (600.0, 900.0, 1200.0)
    strains_pct: tuple[float, ...] = (0.0,)
    n_steps: int = 2000
    sample_interval: int = 10
    fix_bottom_A: float = 0.0
    insert_li: int = 0
    seed: int = 0
    store_result: bool = True
    md_kwargs: dict = field(default_factory=dict)

    def prepare(self, structure):
        """The structure to run: ``structure`` itself, or with ``insert_li`` Li atoms placed in the largest
        voids of the film/substrate gap (then the film) when it has no Li of its own to follow."""
        if self.insert_li <= 0:
            return structure
        from ase import Atom

        from contactflow.jobs.lithiation import li_sites_in
        from contactflow.jobs.pull_off import film_substrate_indices

        film, sub = film_substrate_indices(structure)
        atoms = structure_to_atoms(structure)
        for _ in range(self.insert_li):
            sites = li_sites_in(atoms, film, sub, "interface") or li_sites_in(atoms, film, sub, "film")
            if not sites:
                raise MDInputError(f"no void left for Li after inserting {len(atoms) - len(film) - len(sub)} Li")
            atoms.append(Atom("Li", sites[0]))
            film = film + [len(atoms) - 1]
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(atoms)  # MSONable, so it can be a job input on any worker

    def md_maker(self, temperature_K: float, strain_pct: float) -> MDMaker:
        """The MD run at one (T, strain)."""
        return MDMaker(name=f"diffusion T={temperature_K:g} K strain={strain_pct:g} %", task="diffusion", engine=self.engine,
                       device=self.device, ensemble="nvt", temperature_K=temperature_K, strain_pct=strain_pct,
                       n_steps=self.n_steps, sample_interval=self.sample_interval, fix_bottom_A=self.fix_bottom_A,
                       seed=self.seed, diffusion_species=(self.species,), store_result=self.store_result,
                       **self.md_kwargs)

    def settings(self) -> dict:
        return {"temperatures_K": list(self.temperatures_K), "strains_pct": list(self.strains_pct),
                "n_steps": self.n_steps, "sample_interval": self.sample_interval, "seed": self.seed,
                "fix_bottom_A": self.fix_bottom_A, "insert_li": self.insert_li, "md_kwargs": self.md_kwargs}

    def _check(self, structure) -> None:
        atoms = structure_to_atoms(structure)
        if self.species not in atoms.get_chemical_symbols():
            raise MDInputError(f"the structure has no {self.species} atoms to follow; it contains "
                               f"{', '.join(sorted(set(atoms.get_chemical_symbols())))}")
        if len(set(self.temperatures_K)) < 2:
            raise MDInputError("give at least two distinct temperatures_K for an Arrhenius fit")
        for T in self.temperatures_K:
            self.md_maker(T, 0.0).validate(atoms)

    def execute(self, structure, interface_id: str | None = None, recipe_name: str | None = None) -> DiffusionDoc:
        """Run every (T, strain) sequentially and fit; no jobflow needed."""
        structure = self.prepare(structure)
        self._check(structure)
        with timed() as timer:
            docs = [self.md_maker(T, e).execute(structure, interface_id, recipe_name, task="diffusion")[0]
                    for e in self.strains_pct for T in self.temperatures_K]
        doc = diffusion_doc(docs, self.species, self.settings(), interface_id, recipe_name)
        doc.provenance = doc.provenance.model_copy(update={"started_at": timer.started_at,
                                                            "finished_at": timer.finished_at,
                                                            "wall_time_s": timer.wall_time_s})
        if self.store_result:
            persist(doc)
        return doc

    def make(self, structure, interface_id: str | None = None, recipe_name: str | None = None) -> Flow:
        """A flow: one MD job per (T, strain), then the Arrhenius fit job."""
        structure = self.prepare(structure)
        self._check(structure)
        jobs = []
        for e in self.strains_pct:
            for T in self.temperatures_K:
                j = self.md_maker(T, e).make(structure, interface_id, recipe_name)
                jobs.append(j)
        fit = fit_diffusion([j.output for j in jobs], self.species, self.settings(), interface_id, recipe_name,
                            self.store_result)
        fit.name = f"diffusion fit {self.species}"
        key = atoms_key(structure_to_atoms(structure))
        return Flow([*jobs, fit], output=fit.output, name=f"{self.name} {self.species} {key[:8]}")

