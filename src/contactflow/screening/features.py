"""Cheap features of a recipe variant: build its smallest candidate (no calculator) and describe it.

Candidate fields (n_atoms, strain_pct, area_A2, von_mises_strain_pct) are what constraints on the
build filter on; descriptors (O/C, contact-area fraction, cross bonds, gap, interphase thickness)
come from :mod:`contactflow.analysis.descriptors` on the as-built interface. Results are cached by
the recipe's building hash, so a design proposed twice is built once.
"""

from contactflow.errors import ContactflowError

_CACHE: dict[tuple, dict] = {}


def featurize(recipe, names: list[str] | tuple[str, ...]) -> dict[str, float]:
    """Candidate fields and descriptors of a recipe's smallest candidate.

    Returns ``{"error": message}`` (no numbers) when the recipe builds no candidate: the design is
    infeasible before it is run.
    """
    from contactflow.screening.space import CANDIDATE_FIELDS

    names = tuple(sorted(set(names) | set(CANDIDATE_FIELDS)))
    key = (recipe.recipe_hash, names)
    if key in _CACHE:
        return dict(_CACHE[key])
    try:
        cands = recipe.build()
    except ContactflowError as exc:
        return {"error": str(exc)}
    if not cands:
        return {"error": "no interface candidate"}
    c = cands[0]
    out: dict[str, float] = {"n_atoms": float(c.n_atoms), "strain_pct": float(c.strain_pct),
                             "area_A2": float(c.area_A2), "von_mises_strain_pct": float(c.von_mises_strain_pct)}
    want = [n for n in names if n not in out]
    if want:
        out.update(_descriptors(c.interface, want))
    _CACHE[key] = dict(out)
    return out


def _descriptors(interface, names: list[str]) -> dict[str, float]:
    from contactflow.analysis import descriptors as d
    from contactflow.structures.geometry import in_plane_area_A2, o_to_c_ratio

    out = {}
    if "o_to_c" in names:
        carbon_side = getattr(interface, "substrate", interface)  # O/C of the carbon (substrate) side
        out["o_to_c"] = float(o_to_c_ratio(carbon_side))
    rest = [n for n in names if n != "o_to_c"]
    if not rest:
        return out
    atoms = d.as_atoms(interface)
    film, sub = d.split_sides(interface)
    if "contact_area_fraction" in rest:
        out["contact_area_fraction"] = float(d.contact_area_fraction(atoms, film, sub))
    if "n_cross_bonds" in rest or "cross_bonds_per_nm2" in rest:
        n = sum(d.cross_interface_bonds(atoms, film, sub).values())
        out["n_cross_bonds"] = float(n)
        out["cross_bonds_per_nm2"] = float(n / (in_plane_area_A2(interface.lattice) / 100.0))
    if "interface_gap_A" in rest:
        out["interface_gap_A"] = float(d.interface_gap_A(atoms, film, sub))
    if "interphase_thickness_A" in rest:
        out["interphase_thickness_A"] = float(d.interphase_thickness_A(atoms, film, sub))
    return {k: v for k, v in out.items() if k in names}
