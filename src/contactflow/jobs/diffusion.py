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

from jobflow import Flow, Maker, OutputReference, Response, job

from contactflow.analysis.dynamics import K_B_EV, arrhenius_fit
from contactflow.jobs.base import (
    contactflow_job, doc_key_for, make_provenance, preparation_failure, resolve_prepared, timed,
)
from contactflow.jobs.md import MDInputError, MDMaker, _check_md_fields, _is_real, atoms_key, structure_to_atoms
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
                  recipe_name: str | None, prepared_key: str | None = None) -> DiffusionDoc:
    """Gather the runs into a :class:`DiffusionDoc` (failed when no Arrhenius fit is possible)."""
    points = [point_from_md(d, species) for d in md_docs]
    fits = fit_points(points)
    engine = md_docs[0].engine
    ref = min(fits, key=lambda f: abs(f.strain_pct)) if fits else None
    key = doc_key_for("dif", {"md": sorted(d.doc_key for d in md_docs), "species": species, "settings": settings})
    return DiffusionDoc(
        doc_key=key, interface_id=interface_id, recipe_name=recipe_name, prepared_key=prepared_key,
        system=md_docs[0].system, engine=engine,
        species=species, settings=settings, points=points, fits=fits,
        state="successful" if fits else "failed",
        failure_reason=None if fits else "fewer than two temperatures gave a positive D at any strain",
        activation_energy_eV=ref.activation_energy_eV if ref else None,
        activation_energy_stderr_eV=ref.activation_energy_stderr_eV if ref else None,
        provenance=md_docs[0].provenance)


@contactflow_job
def fit_diffusion(md_docs: list[MDDoc], species: str, settings: dict, interface_id: str | None = None,
                  recipe_name: str | None = None, prepared_key: str | None = None) -> DiffusionDoc:
    """Job: Arrhenius fit of the MD runs' D into a :class:`DiffusionDoc`."""
    return diffusion_doc(md_docs, species, settings, interface_id, recipe_name, prepared_key)


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
    md_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_md_fields(self, at_least_one=("n_steps", "sample_interval"), counts=("insert_li",),
                         non_negative=("fix_bottom_A",), integers=("seed",))
        temps, strains = tuple(self.temperatures_K), tuple(self.strains_pct)
        if not temps or not all(_is_real(t) and t > 0 for t in temps):
            raise MDInputError(f"DiffusionMaker: temperatures_K must all be > 0 K, got {self.temperatures_K!r}")
        if len(set(temps)) < 2:
            raise MDInputError(f"DiffusionMaker: temperatures_K needs at least two distinct temperatures for an "
                               f"Arrhenius fit, got {self.temperatures_K!r}")
        if not strains or not all(_is_real(e) and -50 < e < 100 for e in strains):
            raise MDInputError(f"DiffusionMaker: strains_pct must all be in (-50, 100) %, got {self.strains_pct!r}")
        if not isinstance(self.species, str) or not self.species:
            raise MDInputError(f"DiffusionMaker: species must be an element symbol, got {self.species!r}")

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
                       seed=self.seed, diffusion_species=(self.species,), **self.md_kwargs)

    def settings(self) -> dict:
        return {"temperatures_K": list(self.temperatures_K), "strains_pct": list(self.strains_pct),
                "n_steps": self.n_steps, "sample_interval": self.sample_interval, "seed": self.seed,
                "fix_bottom_A": self.fix_bottom_A, "insert_li": self.insert_li, "md_kwargs": self.md_kwargs}

    def _check(self, structure) -> None:
        atoms = structure_to_atoms(structure)
        if self.species not in atoms.get_chemical_symbols():
            raise MDInputError(f"the structure has no {self.species} atoms to follow; it contains "
                               f"{', '.join(sorted(set(atoms.get_chemical_symbols())))}")
        for T in self.temperatures_K:
            self.md_maker(T, 0.0).validate(atoms)

    def _resolve(self, prepared, interface_id, recipe_name):
        structure, pdoc = resolve_prepared(prepared, relaxed=True)
        return (structure, pdoc, interface_id or (pdoc.interface_id if pdoc else None),
                recipe_name or (pdoc.recipe_name if pdoc else None), pdoc.doc_key if pdoc else None)

    def _failed(self, reason: str, interface_id, recipe_name, prepared_key) -> DiffusionDoc:
        from contactflow.engines import engine_info

        info = engine_info(self.engine, self.device)
        with timed() as timer:
            pass
        key = doc_key_for("dif", {"interface_id": interface_id, "species": self.species, "settings": self.settings(),
                                  "prepared_key": prepared_key, "failed": reason})
        return DiffusionDoc(doc_key=key, interface_id=interface_id, recipe_name=recipe_name, prepared_key=prepared_key,
                            engine=info.spec, species=self.species, settings=self.settings(), state="failed",
                            failure_reason=reason, provenance=make_provenance(info, timer))

    def execute(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> DiffusionDoc:
        """Run every (T, strain) sequentially and fit (nothing is written); no jobflow needed."""
        structure, pdoc, interface_id, recipe_name, pkey = self._resolve(prepared, interface_id, recipe_name)
        failure = preparation_failure(pdoc)
        if failure:
            return self._failed(failure, interface_id, recipe_name, pkey)
        structure = self.prepare(structure)
        self._check(structure)
        with timed() as timer:
            docs = [self.md_maker(T, e).execute(structure, interface_id, recipe_name, task="diffusion",
                                                prepared_key=pkey)[0]
                    for e in self.strains_pct for T in self.temperatures_K]
        doc = diffusion_doc(docs, self.species, self.settings(), interface_id, recipe_name, pkey)
        doc.provenance = doc.provenance.model_copy(update={"started_at": timer.started_at,
                                                            "finished_at": timer.finished_at,
                                                            "wall_time_s": timer.wall_time_s})
        return doc

    def _flow(self, structure, interface_id, recipe_name, prepared_key) -> Flow:
        structure = self.prepare(structure)
        self._check(structure)
        jobs = []
        for e in self.strains_pct:
            for T in self.temperatures_K:
                j = self.md_maker(T, e).make(structure, interface_id, recipe_name, prepared_key=prepared_key)
                jobs.append(j)
        fit = fit_diffusion([j.output for j in jobs], self.species, self.settings(), interface_id, recipe_name,
                            prepared_key)
        fit.name = f"diffusion fit {self.species}"
        key = atoms_key(structure_to_atoms(structure))
        return Flow([*jobs, fit], output=fit.output, name=f"{self.name} {self.species} {key[:8]}")

    @job
    def start(self, prepared, interface_id: str | None = None, recipe_name: str | None = None):
        """Job: resolve the prepared interface, then replace itself by the MD runs and the fit (or return a
        failed :class:`DiffusionDoc` when the preparation failed)."""
        structure, pdoc, interface_id, recipe_name, pkey = self._resolve(prepared, interface_id, recipe_name)
        failure = preparation_failure(pdoc)
        if failure:
            return self._failed(failure, interface_id, recipe_name, pkey)
        return Response(replace=self._flow(structure, interface_id, recipe_name, pkey))

    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None):
        """One MD job per (T, strain), then the Arrhenius fit job.

        ``prepared``: a :class:`~contactflow.schemas.PreparedInterfaceDoc` — by jobflow reference in a
        recipe flow, then a job that builds the runs once the preparation is done — or a structure, for
        which the Flow (and its input checks) is built now.
        """
        if isinstance(prepared, OutputReference):
            return self.start(prepared, interface_id, recipe_name)
        structure, pdoc, interface_id, recipe_name, pkey = self._resolve(prepared, interface_id, recipe_name)
        if preparation_failure(pdoc):
            return self.start(prepared, interface_id, recipe_name)
        return self._flow(structure, interface_id, recipe_name, pkey)
