"""Structure builders of the validation cases (named in the case files' ``builder``).

Each returns what its property needs: ``w_sep_rigid`` an :class:`Interface` or ``(atoms, film_indices)``;
``neb_barrier`` ``(initial, final)``; ``li_binding`` ``(host, site)``; ``energy_difference``
``[(atoms, coefficient), ...]`` plus the normalisation. Small cells only (the suite runs on 2 cores).
"""

import numpy as np
from ase import Atoms

from contactflow.errors import ContactflowError
from contactflow.paths import POTENTIALS_DIR


def _graphene(n: int, c_A: float = 20.0):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.hexagonal(2.46, c_A), ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]]) * (n, n, 1)


def ab_bilayer(gap_A: float = 3.35):
    """AB graphene bilayer (the interface of the lisic CP2K reference), a pymatgen Interface."""
    from contactflow.structures.carbon import ab_bilayer_interface

    return ab_bilayer_interface(gap_A=gap_A)


def graphite_halves(layers: int = 3, gap_A: float = 3.35, vacuum_A: float = 15.0):
    """ABAB… graphite of ``2 × layers`` sheets (a = 2.46 Å); the film is the top half: its W_sep is the
    cleavage energy of graphite when ``layers`` is large enough (3: > 95 % of the dispersion)."""
    a = 2.46
    n = 2 * layers
    cell = [[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, (n - 1) * gap_A + vacuum_A]]
    pos = []
    for k in range(n):
        shift = (1 / 3, 2 / 3) if k % 2 else (0.0, 0.0)
        for f in ((0, 0), (1 / 3, 2 / 3)):
            xy = (f[0] + shift[0]) * np.array(cell[0]) + (f[1] + shift[1]) * np.array(cell[1])
            pos.append([xy[0], xy[1], 2.0 + k * gap_A])
    at = Atoms(f"C{2 * n}", positions=pos, cell=cell, pbc=True)
    at.wrap()
    return at, list(range(2 * layers, 2 * n))


def si_td_hop():
    """Li Td–Hex–Td hop in c-Si (33 atoms, a = 5.431 Å): the cell of the shipped CP2K NEB."""
    from contactflow.mlp.plans import si_td_hop as hop

    _, ini, fin = hop()
    return ini, fin


def graphene_li_hop(n: int = 4, height_A: float = 1.75):
    """Li on n × n graphene, two neighbouring hollow sites (hollow → bridge → hollow)."""
    from contactflow.structures.li_sites import find_adsorption_sites, insert_li

    g = _graphene(n)
    hollow = next(s for s in find_adsorption_sites(g, height_A=height_A) if s.kind == "hollow")
    shift = g.lattice.get_fractional_coords([2.46, 0.0, 0.0])
    return insert_li(g, hollow), insert_li(g, hollow.frac_coords + shift)


def graphene_li_site(n: int = 4, height_A: float = 1.75, kind: str = "hollow"):
    """n × n graphene host and its first ``kind`` adsorption site."""
    from contactflow.structures.li_sites import find_adsorption_sites

    g = _graphene(n)
    return g, next(s for s in find_adsorption_sites(g, height_A=height_A) if s.kind == kind)


def recipe_interface(recipe: str, candidate: int = 0, contact: list[str] | None = None, **overrides):
    """The ``candidate``-th interface of a shipped recipe (smallest area first). ``contact``: keep only
    candidates whose two film atoms nearest the substrate are these species (picks a termination by
    geometry, as pymatgen's termination labels are not stable between runs)."""
    from contactflow.recipes import load_recipe

    rec = load_recipe(recipe)
    for side in ("film", "substrate"):
        if side in overrides:
            rec = rec.model_copy(update={side: getattr(rec, side).model_copy(update=overrides.pop(side))})
    if overrides:
        rec = rec.model_copy(update=overrides)
    cands = rec.build()
    if contact:
        def species(c):
            iface = c.interface
            film = sorted(iface.film_indices, key=lambda k: iface[k].coords[2])
            return [iface[k].species_string for k in film[:len(contact)]]
        cands = [c for c in cands if species(c) == list(contact)]
    if len(cands) <= candidate:
        raise ContactflowError(f"recipe {recipe} gives no candidate {candidate} (contact {contact})")
    return cands[candidate].interface


def shipped_labels(configs: list[dict], dataset: str = "lisic"):
    """CP2K-labelled cells of a shipped data set (``potentials/mlp/<dataset>/data``), by ``doc_key``, each with
    its coefficient: ``[{"doc_key": …, "coefficient": 1}, …]`` → ``[(atoms, coefficient, cp2k_energy_eV)]``."""
    from ase.io import read

    data = POTENTIALS_DIR / "mlp" / dataset / "data"
    by_key = {a.info.get("doc_key"): a for f in ("train", "test") for a in read(data / f"{f}.extxyz", ":")}
    path = data
    out = []
    for c in configs:
        if c["doc_key"] not in by_key:
            raise ContactflowError(f"no configuration {c['doc_key']} in {path}")
        a = by_key[c["doc_key"]]
        e = float(a.info.get("REF_energy"))
        clean = Atoms(a.get_chemical_symbols(), positions=a.positions, cell=a.cell, pbc=a.pbc)
        out.append((clean, float(c.get("coefficient", 1.0)), e))
    return out


BUILDERS = {f.__name__: f for f in (ab_bilayer, graphite_halves, si_td_hop, graphene_li_hop, graphene_li_site,
                                    recipe_interface, shipped_labels)}


def build(builder: str, /, **kwargs):
    """Run a builder by name (positional-only, so a builder may take a ``name`` argument of its own)."""
    if builder not in BUILDERS:
        raise ContactflowError(f"unknown validation builder {builder!r}; valid: {', '.join(BUILDERS)}")
    return BUILDERS[builder](**kwargs)


def bulk_crystal(name: str):
    """A shipped bulk crystal (structures/), e.g. ``LiF``."""
    from contactflow.structures import load_bulk

    return load_bulk(name)


BUILDERS["bulk_crystal"] = bulk_crystal
