"""Slabs with a chosen Miller index, termination, thickness, vacuum and fixed bottom layer.

pymatgen's ``SlabGenerator`` does the cutting. Terminations are enumerated explicitly and labelled with
their index (``"2_O_P2/m_2"``: index, top-plane formula, top-plane symmetry, sites in the top plane) the
way ``CoherentInterfaceBuilder(label_index=True)`` labels them, so a recipe can name one and every
candidate says which one it uses.
"""

from dataclasses import dataclass
from math import gcd

import numpy as np
from pymatgen.core import Structure
from pymatgen.core.interface import label_termination
from pymatgen.core.surface import Slab, SlabGenerator

from contactflow.errors import RecipeError

#: Largest |h|, |k|, |l| accepted: beyond this slabs get huge and terminations meaningless.
MAX_MILLER_INDEX = 5


@dataclass
class SlabModel:
    """One slab with its termination.

    Attributes
    ----------
    slab
        pymatgen ``Slab``: a, b in the xy plane, c along z; site property ``fixed`` (bool).
    termination
        Label ``"<index>_<formula>_<symmetry>_<n>"`` of the top plane (index starts at 1).
    index
        Termination index (1-based, the label's prefix).
    shift
        pymatgen's termination shift (fractional c of the oriented unit cell).
    """

    slab: Slab
    termination: str
    index: int
    shift: float


def check_miller(miller, field: str = "miller") -> tuple[int, int, int]:
    """Validate and reduce a Miller index; raise :class:`RecipeError` naming ``field`` if impossible."""
    try:
        hkl = tuple(int(x) for x in miller)
    except (TypeError, ValueError):
        raise RecipeError(f"{field}: Miller index must be three integers, got {miller!r}") from None
    if len(hkl) != 3 or any(int(x) != x for x in miller):
        raise RecipeError(f"{field}: Miller index must be three integers, got {miller!r}")
    if not any(hkl):
        raise RecipeError(f"{field}: Miller index (0, 0, 0) is not a plane; give three integers, not all zero")
    if max(abs(x) for x in hkl) > MAX_MILLER_INDEX:
        raise RecipeError(
            f"{field}: Miller index {hkl} is beyond the supported range |h|, |k|, |l| <= {MAX_MILLER_INDEX}"
        )
    g = gcd(gcd(abs(hkl[0]), abs(hkl[1])), abs(hkl[2]))
    return tuple(x // g for x in hkl)


def tag_fixed_bottom(structure: Structure, fix_bottom_A: float) -> Structure:
    """Set site property ``fixed``: True for sites within ``fix_bottom_A`` Å of the lowest z (in place)."""
    z = structure.cart_coords[:, 2]
    fixed = (z - z.min() <= fix_bottom_A + 1e-6) if fix_bottom_A > 0 else np.zeros(len(structure), bool)
    structure.add_site_property("fixed", [bool(f) for f in fixed])
    return structure


def slab_generator(bulk: Structure, miller, *, layers: int | None = None, thickness_A: float | None = None,
                   vacuum_A: float = 15.0) -> SlabGenerator:
    """A ``SlabGenerator`` for ``layers`` planes or at least ``thickness_A`` Å (one of them)."""
    hkl = check_miller(miller)
    if (layers is None) == (thickness_A is None):
        raise RecipeError("give exactly one of layers (planes of the slab generator) or thickness_A (Å)")
    in_planes = layers is not None
    # with in_unit_planes pymatgen counts the vacuum in planes too: convert Å to planes
    vac = int(np.ceil(vacuum_A / bulk.lattice.d_hkl(hkl))) if in_planes else vacuum_A
    try:
        return SlabGenerator(
            bulk, hkl, min_slab_size=layers if in_planes else thickness_A, min_vacuum_size=vac,
            in_unit_planes=in_planes, center_slab=True, primitive=True, reorient_lattice=True,
        )
    except Exception as exc:  # pymatgen raises ValueError/IndexError/… for degenerate planes
        raise RecipeError(f"miller: cannot cut {bulk.composition.reduced_formula}{hkl}: {exc}") from exc


def make_slabs(
    bulk: Structure,
    miller,
    *,
    layers: int | None = None,
    thickness_A: float | None = None,
    vacuum_A: float = 15.0,
    symmetric: bool = False,
    termination: int | None = None,
    fix_bottom_A: float = 0.0,
    supercell: tuple[int, int] = (1, 1),
    ftol: float = 0.25,
) -> list[SlabModel]:
    """All terminations of a slab (or the chosen one).

    Parameters
    ----------
    bulk
        Bulk structure (conventional cell).
    miller
        Miller index of the surface.
    layers, thickness_A
        Thickness as a number of hkl planes, or as a minimum in Å (whole oriented cells are stacked).
    vacuum_A
        Minimum vacuum, Å.
    symmetric
        Make top and bottom equivalent (pymatgen ``symmetrize``; may change the stoichiometry).
    termination
        1-based termination index; ``None`` returns all.
    fix_bottom_A
        Sites within this distance of the slab bottom get ``fixed=True``.
    supercell
        In-plane repetition (na, nb).
    ftol
        Clustering tolerance (Å) that separates terminating planes.

    Returns
    -------
    list[SlabModel]
        One per termination (ordered as pymatgen enumerates them).

    Raises
    ------
    RecipeError
        Impossible Miller index, or a termination index out of range.
    """
    gen = slab_generator(bulk, miller, layers=layers, thickness_A=thickness_A, vacuum_A=vacuum_A)
    slabs = gen.get_slabs(ftol=ftol, symmetrize=symmetric, filter_out_sym_slabs=True)
    if not slabs:
        raise RecipeError(f"miller: no {'symmetric ' if symmetric else ''}slab of "
                          f"{bulk.composition.reduced_formula}{tuple(miller)} exists; try symmetric: false")
    models = []
    for i, slab in enumerate(slabs, start=1):
        if termination is not None and i != termination:
            continue
        slab = slab.get_orthogonal_c_slab()
        if supercell != (1, 1):
            slab.make_supercell([int(supercell[0]), int(supercell[1]), 1])
        tag_fixed_bottom(slab, fix_bottom_A)
        models.append(SlabModel(slab=slab, termination=label_termination(slab, ftol, i), index=i, shift=slab.shift))
    if termination is not None and not models:
        raise RecipeError(f"termination: index {termination} out of range; "
                          f"{bulk.composition.reduced_formula}{tuple(miller)} has terminations 1..{len(slabs)}")
    return models
