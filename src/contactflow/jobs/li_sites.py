"""Li sites ranked by energy and Li binding energies (:class:`LiAdsorptionMaker`).

Binding energy of Li at a site: E_b = E(host + Li) − E(host) − E(Li reference); the default reference is
bcc Li bulk relaxed with the same engine (energy per atom). E_b < 0 means the site binds Li more
strongly than Li metal does (no plating driving force).
"""

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from jobflow import Flow, Maker
from pymatgen.core import Structure

from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, resolve_prepared, timed
from contactflow.schemas.barrier import LiAdsorptionDoc, LiSiteEnergy
from contactflow.structures.li_sites import (
    LiSite, SiteFindingError, find_adsorption_sites, find_interface_sites, find_interstitial_sites, insert_li,
)

REGIONS = ("bulk", "surface", "interface")
LI_BCC_A_A = 3.44  # experimental bcc Li lattice parameter (start of the engine's own cell relaxation)


def candidate_sites(host: Structure, region: str, interface=None, min_dist_A: float = 1.5) -> list[LiSite]:
    """Candidate Li sites of a host by region: bulk voids (symmetry reduced), surface adsorption sites
    (top surface) or voids in an interface gap (``interface`` must be a pymatgen ``Interface``)."""
    if region == "bulk":
        return find_interstitial_sites(host, min_dist_A=min_dist_A)
    if region == "surface":
        return find_adsorption_sites(host)
    if region == "interface":
        if interface is None or not hasattr(interface, "film_indices"):
            raise SiteFindingError("region 'interface' needs a pymatgen Interface (film/substrate indices)")
        return find_interface_sites(interface, min_dist_A=min_dist_A)
    raise SiteFindingError(f"unknown region {region!r}; valid: {', '.join(REGIONS)}")


def rank_sites_by_energy(host: Structure, sites: list[LiSite], evaluator, chooser=None) -> list[tuple[LiSite, float]]:
    """Single-point energy (eV) of host + Li at each site, lowest first; all sites in one evaluator call."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.engines.batch import BatchChooser

    chooser = chooser or BatchChooser("auto", "cpu")
    plain = host.copy()
    for p in list(plain.site_properties):
        plain.remove_site_property(p)
    atoms = [AseAtomsAdaptor.get_atoms(insert_li(plain, s)) for s in sites]
    res = chooser.evaluate(evaluator, atoms)
    ranked = sorted(zip(sites, (r.energy_eV for r in res)), key=lambda t: t[1])
    return ranked


def li_bcc_energy_per_atom(engine: str, device: str = "auto", fmax: float = 0.01) -> float:
    """Energy per atom (eV) of bcc Li with positions and cell relaxed by the engine."""
    from ase.build import bulk
    from atomate2.ase.utils import AseRelaxer

    from contactflow.engines import get_calculator
    from contactflow.engines.properties import ENERGY_FORCES_STRESS

    li = bulk("Li", "bcc", a=LI_BCC_A_A, cubic=True)
    # a cell relaxation: the stress is used
    relaxer = AseRelaxer(calculator=get_calculator(engine, device, ENERGY_FORCES_STRESS), optimizer="FIRE",
                         relax_cell=True)
    res = relaxer.relax(li, fmax=fmax, steps=200, final_atoms_object_file=None, use_emmet_models=False)
    return float(res.trajectory.frame_properties[-1]["energy"]) / len(li)


@dataclass
class LiAdsorptionMaker(Maker):
    """Li binding energies at the candidate sites of one host, ranked.

    Sites are found geometrically (:mod:`contactflow.structures.li_sites`), pre-ranked by a single-point
    energy of host + Li (all candidates in one batched call where the engine has one), and the
    ``max_sites`` lowest are relaxed (fixed cell, fixed atoms held).

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec.
    device
        ``auto``, ``cpu`` or ``cuda``.
    fmax
        Relaxation force criterion, eV/Å.
    max_steps
        Relaxation step budget per structure.
    max_sites
        Sites relaxed after pre-ranking.
    relax
        Relax host and host + Li (else single points).
    fix_bottom_A
        Fix atoms within this height of the lowest atom (slabs, interfaces), Å.
    min_dist_A
        Smallest distance of a candidate site to a host atom, Å.
    li_reference
        ``bcc`` (bcc Li bulk relaxed with the engine) or ``atom`` (isolated Li atom, energy 0 for MLPs
        that reference atoms; stated in the document).
    """

    name: str = "li_adsorption"
    engine: str = "chgnet"
    device: str = "auto"
    fmax: float = 0.05
    max_steps: int = 200
    max_sites: int = 4
    relax: bool = True
    fix_bottom_A: float = 0.0
    min_dist_A: float = 1.5
    li_reference: str = "bcc"
    relax_kwargs: dict = field(default_factory=dict)

    @contactflow_job
    def make(self, host: Structure, label: str = "host", region: str = "bulk", interface_id: str | None = None,
             recipe_name: str | None = None, reference_binding_energy_eV: float | None = None,
             reference_source: str | None = None) -> LiAdsorptionDoc:
        """Binding energies of Li at the ranked sites of ``host`` (a Structure or pymatgen Interface)."""
        return self.compute(host, label, region, interface_id, recipe_name, reference_binding_energy_eV,
                            reference_source)

    def compute(self, host: Structure, label: str = "host", region: str = "bulk", interface_id: str | None = None,
                recipe_name: str | None = None, reference_binding_energy_eV: float | None = None,
                reference_source: str | None = None) -> LiAdsorptionDoc:
        """The calculation behind :meth:`make`."""
        from contactflow.engines import engine_info, get_calculator, resolve_device
        from contactflow.engines.batch import BatchChooser, get_evaluator
        from contactflow.engines.properties import ENERGY
        from contactflow.jobs.neb import to_atoms
        from contactflow.jobs.relax import relax_or_evaluate

        if self.li_reference not in ("bcc", "atom"):
            raise SiteFindingError(f"unknown li_reference {self.li_reference!r}; valid: bcc, atom")
        sites = candidate_sites(host, region, interface=host, min_dist_A=self.min_dist_A)
        info = engine_info(self.engine, self.device)
        settings = {"fmax": self.fmax, "max_steps": self.max_steps, "max_sites": self.max_sites, "relax": self.relax,
                    "fix_bottom_A": self.fix_bottom_A, "min_dist_A": self.min_dist_A, "li_reference": self.li_reference}
        ref_text = ("bcc Li bulk (Im-3m, cell and positions relaxed with the same engine), energy per atom"
                    if self.li_reference == "bcc" else "isolated Li atom (engine's atomic reference)")
        base = dict(
            doc_key=doc_key_for("la", {"interface_id": interface_id, "label": label, "engine": info.spec, "settings": settings,
                          "formula": host.composition.formula, "region": region}),
            interface_id=interface_id, recipe_name=recipe_name, system=host.composition.reduced_formula, label=label,
            region=region, engine=info.spec, settings=settings, li_reference=ref_text, n_atoms_host=len(host),
            fmax_eV_per_A=self.fmax, reference_binding_energy_eV=reference_binding_energy_eV,
            reference_source=reference_source,
        )
        with timed() as timer:
            calc = get_calculator(self.engine, self.device, ("energy", "forces"))
            evaluator = get_evaluator(self.engine, self.device, ENERGY)  # ranking and the Li atom: energies
            chooser = BatchChooser("auto", resolve_device(self.device))
            e_li = li_bcc_energy_per_atom(self.engine, self.device) if self.li_reference == "bcc" else 0.0
            if self.li_reference == "atom":
                li = Atoms("Li", positions=[[0, 0, 0]], cell=[20, 20, 20], pbc=True)
                e_li = evaluator.evaluate([li])[0].energy_eV
            steps = self.max_steps if self.relax else 0
            host_atoms = to_atoms(host, self.fix_bottom_A)
            rh = relax_or_evaluate(host_atoms, calc, self.fmax, steps)
            host_members = _member_energies(calc, rh.atoms)
            ranked = rank_sites_by_energy(host, sites, evaluator, chooser)[: self.max_sites]
            out, site_members = [], []
            for site, _ in ranked:
                with_li = insert_li(host, site)
                a = to_atoms(with_li, self.fix_bottom_A)
                r = relax_or_evaluate(a, calc, self.fmax, steps)
                li_new = r.atoms.get_scaled_positions()[-1]
                disp = float(np.linalg.norm(r.atoms.positions[-1] - a.positions[-1]))
                eb = r.energy_eV - rh.energy_eV - e_li if (r.converged and rh.converged) else None
                site_members.append(_member_energies(calc, r.atoms))
                out.append(LiSiteEnergy(
                    label=site.label, kind=site.kind, frac_coords=[float(x) for x in site.frac_coords],
                    relaxed_frac_coords=li_new.tolist(), multiplicity=site.multiplicity,
                    e_total_eV=r.energy_eV if r.converged else None, binding_energy_eV=eb, converged=r.converged,
                    displacement_A=disp,
                ))
            spread = _binding_spread(out, site_members, host_members, li_members(calc, self.li_reference))
            order = sorted(range(len(out)), key=lambda i: (out[i].binding_energy_eV is None, out[i].binding_energy_eV or 0.0))
            out = [out[i] for i in order]
            result: dict = {"sites": out, "e_li_reference_eV": e_li}
            if spread is not None and order:
                result["committee_binding_std_eV"] = spread[order[0]]
            if not rh.converged:
                result["failure_reason"] = f"host relaxation did not reach fmax={self.fmax} eV/Å in {self.max_steps} steps"
            elif not any(s.converged for s in out):
                result["failure_reason"] = f"no host+Li relaxation reached fmax={self.fmax} eV/Å in {self.max_steps} steps"
            else:
                result["e_host_eV"] = rh.energy_eV
                best = out[0]
                result.update(best_binding_energy_eV=best.binding_energy_eV, best_site=best.label)
                if reference_binding_energy_eV is not None and best.binding_energy_eV is not None:
                    result["deviation_from_reference_eV"] = best.binding_energy_eV - reference_binding_energy_eV
        state = "failed" if result.get("failure_reason") else "successful"
        if state == "successful":  # the binding energy's uncertainty: committee spread, else validation error
            from contactflow.engines.auto import trust

            state = trust(info.spec, set(host.symbol_set) | {"Li"}, "li_adsorption", "eV",
                          result.get("committee_binding_std_eV"), state, result, what="the Li binding energy")
        doc = LiAdsorptionDoc(**base, **result, state=state, provenance=make_provenance(info, timer))
        return doc


def _member_energies(calc, atoms):
    """Per-member energies of a committee engine at ``atoms`` (``None`` for a single model, whose last
    results carry no members: no extra evaluation)."""
    from contactflow.engines.calculators import committee_spread

    if committee_spread(calc) is None:
        return None
    a = atoms.copy()
    a.calc = calc
    a.get_potential_energy()
    s = committee_spread(calc)
    return np.asarray(s["energies_eV"]) if s else None


def li_members(calc, li_reference: str):
    """Per-member Li reference energy per atom (bcc Li at the reference lattice constant, or the free atom)."""
    from ase.build import bulk

    li = (bulk("Li", "bcc", a=LI_BCC_A_A, cubic=True) if li_reference == "bcc"
          else Atoms("Li", positions=[[0, 0, 0]], cell=[20, 20, 20], pbc=True))
    e = _member_energies(calc, li)
    return None if e is None else e / len(li)


def _binding_spread(sites, site_members, host_members, li_ref_members) -> list | None:
    """Committee std of each site's binding energy (``None`` for a single model or an unconverged site)."""
    if host_members is None or li_ref_members is None or any(m is None for m in site_members):
        return None
    return [float(np.std(m - host_members - li_ref_members)) if s.binding_energy_eV is not None else None
            for s, m in zip(sites, site_members)]


@dataclass
class InterfaceLiAdsorptionMaker(Maker):
    """Recipe task ``li_adsorption``: Li binding at the interface gap and, for comparison, on the bare
    substrate and bare film surfaces (e.g. Fe3O4/rGO interface vs bare rGO vs bare Fe3O4).

    ``make(interface, interface_id, recipe_name)`` returns a Flow of one :class:`LiAdsorptionMaker` job
    per host. Fields not listed here are passed to :class:`LiAdsorptionMaker`.
    """

    name: str = "li_adsorption"
    engine: str = "chgnet+d3"
    compare_bare: bool = True
    fix_bottom_A: float = 1.0
    adsorption_kwargs: dict = field(default_factory=dict)

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> list:
        """Binding energies at the prepared (relaxed) interface and on the bare sides: one
        :class:`LiAdsorptionDoc` per host (the prepared geometry arrives by reference, so the hosts are
        known only when the job runs)."""
        interface, pdoc = resolve_prepared(prepared)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        m = LiAdsorptionMaker(engine=self.engine, fix_bottom_A=self.fix_bottom_A, **self.adsorption_kwargs)
        film_f = interface.film.composition.reduced_formula
        sub_f = interface.substrate.composition.reduced_formula
        hosts = [(interface, f"{film_f}/{sub_f} interface", "interface")]
        if self.compare_bare:
            hosts += [(interface.substrate, f"bare {sub_f}", "surface"), (interface.film, f"bare {film_f}", "surface")]
        return [m.compute(h, label=lab, region=reg, interface_id=interface_id, recipe_name=recipe_name)
                for h, lab, reg in hosts]
