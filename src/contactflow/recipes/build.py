"""Turn an ``InterfaceRecipe`` into ``InterfaceCandidate`` objects.

Procedure, by the kinds of the two sides (see :mod:`contactflow.recipes.specs`):

* **crystal/sheet film on crystal/sheet substrate** — Zur–McGill matching and slab cutting by pymatgen's
  ``CoherentInterfaceBuilder`` (every termination labelled), the smallest ``max_candidates`` matches per
  termination pair within the strain bound. A sheet substrate is matched as a single pristine graphene
  layer; that matched layer is then kept as the top (contact) layer and stacked (AB graphite) or decorated
  (rGO groups, N doping) in place, after the matched cell has been tiled (film with it) until the sheet
  holds at least the requested number of carbons. The film may then be hydroxylated or lithiated.
* **amorphous side or cluster** — the other side is cut alone (crystal slab with ``supercell``, or a
  sheet of ``supercell``) and the amorphous block / cluster is built on its in-plane cell (no strain).

Every candidate is restacked with :func:`contactflow.structures.assembly.stack_interface` (gap, vacuum,
registry, fixed bottom layer) and carries metadata: each side's composition and builder parameters, O/C
where the substrate has C and O, and the smallest distances overall and across the interface.
"""

import numpy as np
from pymatgen.core import Lattice, Structure

from contactflow.errors import RecipeError
from contactflow.recipes.specs import kind_of
from contactflow.structures import carbon
from contactflow.structures.amorphous import amorphous_slab
from contactflow.structures.assembly import registry_shift, stack_interface
from contactflow.structures.bulk import load_bulk
from contactflow.structures.clusters import cluster_from_bulk, place_on_support
from contactflow.structures.geometry import cross_min_distance_A, min_distance_A, o_to_c_ratio
from contactflow.structures.interfaces import (
    InterfaceCandidate,
    build_interfaces,
    interface_area,
    principal_strain_pct,
)
from contactflow.structures.slabs import make_slabs
from contactflow.structures.surface_chem import hydroxylate, lithiate

#: Minimum in-plane width (Å) of an automatically chosen crystal supercell under an amorphous partner.
AUTO_WIDTH_A = 10.0


def graphene_pseudo_bulk(a_A: float = carbon.GRAPHENE_A) -> Structure:
    """Single-sheet (AA, c = 3.35 Å) graphene 'bulk' whose (001) slab of one layer is one sheet."""
    lat = Lattice.hexagonal(a_A, carbon.GRAPHITE_INTERLAYER_A)
    return Structure(lat, ["C", "C"], [[1 / 3, 2 / 3, 0.0], [2 / 3, 1 / 3, 0.0]])


def _flip_z(s: Structure) -> Structure:
    """Mirror a slab through the xy plane so its top termination becomes the bottom (contact) face."""
    xyz = s.cart_coords.copy()
    xyz[:, 2] = -xyz[:, 2]
    xyz[:, 2] -= xyz[:, 2].min() - 1.0
    out = Structure(s.lattice, s.species, xyz, coords_are_cartesian=True,
                    site_properties={k: v for k, v in s.site_properties.items()})
    return out


def _sheet_label(spec) -> str:
    b = spec.builder
    if b == "graphene":
        return "graphene" if spec.layers == 1 else f"graphite_{spec.layers}L_AB"
    if b == "rgo":
        return f"rgo_OC{spec.o_to_c:.3f}_{'+'.join(spec.groups)}_v{spec.vacancies}_{spec.side}_seed{spec.seed}"
    return f"N-graphene_{spec.kind}_{spec.n_fraction:.3f}_seed{spec.seed}"


def decorate_sheet(sheet: Structure, spec) -> Structure:
    """Stack or decorate a pristine matched graphene layer according to a sheet spec."""
    if spec.builder == "graphene":
        return carbon.stack_layers(sheet, spec.layers, spec.interlayer_A)
    if spec.builder == "rgo":
        return carbon.functionalise_rgo(sheet, spec.o_to_c, spec.groups, vacancies=spec.vacancies, side=spec.side,
                                        seed=spec.seed, group_weights=spec.group_weights)
    return carbon.n_dope(sheet, spec.n_fraction, spec.kind, seed=spec.seed)


def decorate_film(film: Structure, spec) -> Structure:
    """Hydroxylate and/or lithiate a crystal film (film frame: its contact face is the bottom)."""
    if getattr(spec, "passivation", None) == "OH":
        film = hydroxylate(film, "bottom" if spec.passivation_side == "contact" else "both")
    if getattr(spec, "lithiation", None) is not None:
        li = spec.lithiation
        film = lithiate(film, li.li_per_host, host=li.host, seed=li.seed)
    return film


def _side_meta(s: Structure, spec, role: str) -> dict:
    meta = {f"{role}_composition": {str(k): float(v) for k, v in s.composition.as_dict().items()},
            f"{role}_builder": getattr(spec, "builder", "crystal"),
            f"{role}_spec": spec.model_dump(mode="json")}
    if s.composition["C"] and s.composition["O"]:
        meta[f"{role}_o_to_c"] = o_to_c_ratio(s)
    return meta


def _tile_for_sheet(film: Structure, sub: Structure, spec) -> tuple[Structure, Structure, tuple[int, int]]:
    """Tile film and sheet together until the sheet has >= 2·n·m carbons (``spec.supercell``)."""
    need = 2 * spec.supercell[0] * spec.supercell[1]
    have = len(sub)
    if have >= need or spec.builder == "graphene":  # pristine layers need no minimum size
        return film, sub, (1, 1)
    la, lb = sub.lattice.abc[:2]
    best = None
    for i in range(1, 9):
        for j in range(1, 9):
            if have * i * j >= need:
                key = (i * j, abs(la * i - lb * j))
                if best is None or key < best[0]:
                    best = (key, (i, j))
    i, j = best[1]
    film, sub = film.copy(), sub.copy()
    film.make_supercell([i, j, 1])
    sub.make_supercell([i, j, 1])
    return film, sub, (i, j)


def _auto_supercell(lattice: Lattice) -> tuple[int, int]:
    a, b = lattice.matrix[:2]
    area = np.linalg.norm(np.cross(a, b))
    # widths across the cell (heights of the parallelogram)
    wa, wb = area / np.linalg.norm(b), area / np.linalg.norm(a)
    return int(np.ceil(AUTO_WIDTH_A / wa)), int(np.ceil(AUTO_WIDTH_A / wb))


def _finish(recipe, sub: Structure, film: Structure, *, termination, match_index: int,
            props: dict, extra: dict) -> InterfaceCandidate:
    shift = registry_shift(sub, film, recipe.registry)
    iface = stack_interface(sub, film, gap_A=recipe.gap_A, vacuum_A=recipe.vacuum_A, in_plane_shift=shift,
                            fix_bottom_A=recipe.fix_bottom_A, interface_properties=props)
    f_idx, s_idx = iface.film_indices, iface.substrate_indices
    d_all, d_cross = min_distance_A(iface), cross_min_distance_A(iface, f_idx, s_idx)
    if d_all < 0.7:
        raise RecipeError(f"built {recipe.name} has atoms {d_all:.2f} Å apart (< 0.7 Å); please report this recipe")
    meta = {"recipe_name": recipe.name, "recipe_hash": recipe.recipe_hash, "registry": recipe.registry,
            "min_distance_A": d_all, "cross_min_distance_A": d_cross, "gap_A": iface.gap, **extra}
    meta.update(_side_meta(iface.film, recipe.film, "film"))
    meta.update(_side_meta(iface.substrate, recipe.substrate, "substrate"))
    return InterfaceCandidate(
        interface=iface, termination=tuple(termination), area_A2=interface_area(iface),
        strain_pct=principal_strain_pct(iface),
        von_mises_strain_pct=float(100.0 * float(props.get("von_mises_strain", 0.0))),
        match_index=match_index, metadata=meta,
    )


def _matched(recipe) -> list[InterfaceCandidate]:
    f, s = recipe.film, recipe.substrate
    sheet = kind_of(s) == "sheet"
    fbulk = load_bulk(f.structure)
    sbulk = graphene_pseudo_bulk(s.a_A) if sheet else load_bulk(s.structure)
    smiller = (0, 0, 1) if sheet else s.miller
    raw = build_interfaces(
        fbulk, sbulk, f.miller, smiller,
        film_layers=f.layers, substrate_layers=1 if sheet else s.layers,
        film_thickness_A=f.thickness_A, substrate_thickness_A=None if sheet else s.thickness_A,
        film_termination=f.termination, substrate_termination=None if sheet else s.termination,
        gap_A=recipe.gap_A, vacuum_A=recipe.vacuum_A, max_strain_pct=recipe.match.max_strain_pct,
        max_area_A2=recipe.match.max_area_A2, max_candidates=recipe.match.max_candidates,
    )
    out = []
    for c in raw:
        film_s, sub_s = c.interface.film, c.interface.substrate
        tiles = (1, 1)
        sub_label = c.termination[1]
        if sheet:
            film_s, sub_s, tiles = _tile_for_sheet(film_s, sub_s, s)
            sub_s = decorate_sheet(sub_s, s)
            sub_label = _sheet_label(s)
        film_s = decorate_film(film_s, f)
        props = dict(c.interface.interface_properties)
        props.update(film_miller=list(f.miller), substrate_miller=list(smiller), tiling=list(tiles))
        out.append(_finish(recipe, sub_s, film_s, termination=(c.termination[0], sub_label),
                           match_index=c.match_index, props=props,
                           extra={"film_miller": list(f.miller), "substrate_miller": list(smiller),
                                  "tiling": list(tiles)}))
    return out


def _crystal_side(spec, role: str, seed_cell: Lattice | None = None) -> list[tuple[Structure, str]]:
    """Slabs of a crystal side under/over a non-crystalline partner: [(slab, termination label)]."""
    bulk = load_bulk(spec.structure)
    kw = {"thickness_A": spec.thickness_A} if spec.thickness_A else {"layers": spec.layers}
    models = make_slabs(bulk, spec.miller, termination=spec.termination, vacuum_A=10.0, **kw)
    out = []
    for m in models:
        slab = Structure(m.slab.lattice, m.slab.species, m.slab.cart_coords, coords_are_cartesian=True)
        sc = spec.supercell or _auto_supercell(slab.lattice)
        slab.make_supercell([sc[0], sc[1], 1])
        out.append((slab, m.termination))
    return out


def _unmatched(recipe, quench=None) -> list[InterfaceCandidate]:
    f, s = recipe.film, recipe.substrate
    fk, sk = kind_of(f), kind_of(s)
    out = []
    if sk == "amorphous":  # crystal film on an amorphous substrate
        for slab, term in _crystal_side(f, "film"):
            film_s = decorate_film(_flip_z(slab), f)
            sub_s = _amorphous(s, film_s.lattice, quench)
            out.append(_finish(recipe, sub_s, film_s, termination=(term, _amorphous_label(s)), match_index=0,
                               props={"film_miller": list(f.miller)}, extra={"film_miller": list(f.miller)}))
        return out
    if sk == "sheet":
        sheet = carbon.graphene_sheet(s.supercell, a_A=s.a_A)
        subs = [(decorate_sheet(sheet, s), _sheet_label(s), [0, 0, 1])]
    else:
        subs = [(slab, term, list(s.miller)) for slab, term in _crystal_side(s, "substrate")]
    for sub_s, term, smiller in subs:
        if fk == "amorphous":
            film_s = _amorphous(f, sub_s.lattice, quench)
            label = _amorphous_label(f)
        elif fk == "cluster":
            film_s = place_on_support(cluster_from_bulk(load_bulk(f.structure), f.n_atoms), sub_s, recipe.gap_A)
            label = f"{film_s.composition.reduced_formula}{f.n_atoms}_cluster"
        else:
            raise RecipeError("film: a crystal film needs a crystal or sheet substrate to be matched on")
        out.append(_finish(recipe, sub_s, film_s, termination=(label, term), match_index=0,
                           props={"substrate_miller": smiller}, extra={"substrate_miller": smiller}))
    return out


def _amorphous_label(spec) -> str:
    if spec.builder == "amorphous_carbon":
        return f"a-C_{spec.density_g_cm3:.2f}gcc_seed{spec.seed}"
    comp = "".join(f"{k}{v:g}" for k, v in sorted(spec.composition.items()))
    return f"a-{comp}_seed{spec.seed}"


def _amorphous(spec, lattice: Lattice, quench=None) -> Structure:
    """The amorphous side; ``quench`` (side spec → (Structure → Structure)) gives the melt–quench of a
    side that asks for ``melt_quench_steps`` with its own engine, steps and seed (the recipe layer runs
    no engine: the caller injects it)."""
    quench = quench(spec) if quench is not None and spec.melt_quench_steps else None
    if spec.builder == "amorphous_carbon":
        if spec.melt_quench_steps:
            return amorphous_slab(lattice, spec.thickness_A, {"C": 1}, spec.density_g_cm3, seed=spec.seed,
                                  melt_quench_steps=spec.melt_quench_steps, quench=quench)
        return carbon.amorphous_carbon(lattice, spec.thickness_A, spec.density_g_cm3, seed=spec.seed)
    return amorphous_slab(lattice, spec.thickness_A, spec.composition, spec.density_g_cm3, seed=spec.seed,
                          melt_quench_steps=spec.melt_quench_steps, quench=quench)


def build_recipe(recipe, quench=None) -> list[InterfaceCandidate]:
    """All candidates of a recipe, smallest area first (then strain, then atom count).

    ``quench``: ``side spec → (Structure → Structure)``, the melt–quench for amorphous sides with ``melt_quench_steps``
    (e.g. ``contactflow.jobs.melt_quench.quencher(engine, steps, seed)``); recipes run no engine.

    Raises
    ------
    RecipeError
        Unknown structure, impossible Miller index or termination, no match within the bounds, an
        unreachable O/C ratio, no room for groups/Li …; each message names the field and the valid range.
    """
    lattice_sides = {kind_of(recipe.film), kind_of(recipe.substrate)} <= {"crystal", "sheet"}
    cands = _matched(recipe) if lattice_sides else _unmatched(recipe, quench)
    cands.sort(key=lambda c: (round(c.area_A2, 2), round(c.strain_pct, 4), c.n_atoms, c.termination))
    return cands
