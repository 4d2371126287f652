"""Lattice-matched interfaces (Zur–McGill via pymatgen's ``CoherentInterfaceBuilder``).

Every termination pair is enumerated explicitly (``label_index=True``) and each candidate says which
one it uses; candidates are ranked by area, then strain, with both reported.
"""

import hashlib
from dataclasses import dataclass, field

import numpy as np
from pymatgen.analysis.interfaces import CoherentInterfaceBuilder
from pymatgen.analysis.interfaces.zsl import ZSLGenerator
from pymatgen.core import Structure
from pymatgen.core.interface import Interface

from contactflow.errors import RecipeError


@dataclass
class InterfaceCandidate:
    """One interface model with its matching metadata.

    Attributes
    ----------
    interface
        The pymatgen ``Interface`` (film on top of substrate, ``interface_label`` site property).
    termination
        The (film, substrate) termination labels from pymatgen.
    area_A2
        In-plane area of the interface cell, Å².
    strain_pct
        Largest absolute principal in-plane strain applied to the film, %.
    von_mises_strain_pct
        Von Mises equivalent of the film strain, %.
    match_index
        Index of the Zur–McGill match (0 = smallest area) in the builder's list.
    """

    interface: Interface
    termination: tuple[str, str]
    area_A2: float
    strain_pct: float
    von_mises_strain_pct: float
    match_index: int
    metadata: dict = field(default_factory=dict)

    @property
    def n_atoms(self) -> int:
        """Number of atoms in the interface cell."""
        return len(self.interface)

    @property
    def interface_id(self) -> str:
        """Content hash of the structure (species, lattice, positions rounded to 1e-3)."""
        return structure_hash(self.interface)


def structure_hash(structure: Structure) -> str:
    """Stable short hash of a structure's lattice, species and fractional coordinates."""
    parts = [
        np.round(structure.lattice.matrix, 3).tobytes(),
        ",".join(s.species_string for s in structure).encode(),
        np.round(np.mod(structure.frac_coords, 1.0), 3).tobytes(),
    ]
    return "if-" + hashlib.sha256(b"|".join(parts)).hexdigest()[:16]


def principal_strain_pct(interface: Interface) -> float:
    """Largest absolute principal in-plane strain of the film, % (0 when the match is unstrained)."""
    strain = np.asarray(interface.interface_properties.get("strain", []), dtype=float)
    if strain.size == 0:
        return 0.0
    return float(100.0 * np.max(np.abs(np.linalg.eigvalsh(0.5 * (strain + strain.T)))))


def match_strain_pct(match) -> float:
    """Largest absolute principal Green–Lagrange strain (%) of a ZSL match's film deformation."""
    from pymatgen.analysis.elasticity.strain import Deformation

    e = np.asarray(Deformation(match.match_transformation).green_lagrange_strain, dtype=float)
    return float(100.0 * np.max(np.abs(np.linalg.eigvalsh(0.5 * (e + e.T)))))


def interface_area(structure: Structure) -> float:
    """In-plane area |a × b| of a cell, Å²."""
    a, b = structure.lattice.matrix[:2]
    return float(np.linalg.norm(np.cross(a, b)))


def zsl_generator(max_strain_pct: float = 3.0, max_area_A2: float = 250.0) -> ZSLGenerator:
    """The Zur–McGill generator contactflow uses (length tolerance = strain bound, 1 % angle, 9 % area ratio)."""
    return ZSLGenerator(
        max_area_ratio_tol=0.09,
        max_area=max_area_A2,
        max_length_tol=max_strain_pct / 100.0,
        max_angle_tol=0.01,
    )


def coherent_builder(film: Structure, substrate: Structure, film_miller, substrate_miller,
                     max_strain_pct: float = 3.0, max_area_A2: float = 250.0) -> CoherentInterfaceBuilder:
    """pymatgen's ``CoherentInterfaceBuilder`` with every termination labelled (``label_index=True``).

    Raises
    ------
    RecipeError
        If pymatgen cannot cut or match the planes (degenerate Miller index).
    """
    from contactflow.structures.slabs import check_miller

    fm = check_miller(film_miller, "film.miller")
    sm = check_miller(substrate_miller, "substrate.miller")
    try:
        return CoherentInterfaceBuilder(
            substrate_structure=substrate,
            film_structure=film,
            film_miller=fm,
            substrate_miller=sm,
            zslgen=zsl_generator(max_strain_pct, max_area_A2),
            label_index=True,
        )
    except (ValueError, IndexError, np.linalg.LinAlgError) as exc:
        raise RecipeError(f"miller: cannot match {film.composition.reduced_formula}{fm} on "
                          f"{substrate.composition.reduced_formula}{sm}: {exc}") from exc


def build_interfaces(
    film: Structure,
    substrate: Structure,
    film_miller: tuple[int, int, int],
    substrate_miller: tuple[int, int, int],
    *,
    film_layers: int = 2,
    substrate_layers: int = 2,
    gap_A: float = 3.0,
    vacuum_A: float = 15.0,
    max_strain_pct: float = 3.0,
    max_area_A2: float = 250.0,
    max_candidates: int = 5,
    terminations: list[int] | None = None,
    film_thickness_A: float | None = None,
    substrate_thickness_A: float | None = None,
    film_termination: int | None = None,
    substrate_termination: int | None = None,
) -> list[InterfaceCandidate]:
    """Build lattice-matched interface candidates, smallest area first.

    Parameters
    ----------
    film, substrate
        Bulk structures (conventional cells).
    film_miller, substrate_miller
        Miller indices of the contact planes.
    film_layers, substrate_layers
        Slab thicknesses in pymatgen "layers" (planes of the slab generator).
    gap_A
        Initial film–substrate gap, Å.
    vacuum_A
        Vacuum above the film, Å (≥ 15 Å recommended).
    max_strain_pct
        Largest allowed lattice-vector length mismatch, %.
    max_area_A2
        Largest allowed interface area, Å².
    max_candidates
        Number of candidates returned per termination (smallest areas first).
    terminations
        Indices into the builder's (film, substrate) termination-pair list; ``None`` enumerates all.
    film_thickness_A, substrate_thickness_A
        Minimum thickness in Å instead of layers (whole oriented cells are stacked).
    film_termination, substrate_termination
        1-based termination index of one side (the label prefix, ``"2_O_P2/m_2"`` → 2); ``None``: all.

    Returns
    -------
    list[InterfaceCandidate]
        Ranked by (area, strain); each says which termination it uses.

    Raises
    ------
    RecipeError
        If no match exists within the strain and area limits.
    """
    cib = coherent_builder(film, substrate, film_miller, substrate_miller, max_strain_pct, max_area_A2)
    if not cib.zsl_matches:
        raise RecipeError(
            f"match: no lattice match for film {film.composition.reduced_formula}{tuple(film_miller)} on "
            f"substrate {substrate.composition.reduced_formula}{tuple(substrate_miller)} within "
            f"{max_strain_pct} % strain and {max_area_A2} Å²; raise max_strain_pct or max_area_A2"
        )
    # ZSL bounds vector-length mismatch and angle separately; keep only matches whose principal film
    # strain is within the bound too, so every candidate honours max_strain_pct.
    ok = [i for i, m in enumerate(cib.zsl_matches) if match_strain_pct(m) <= max_strain_pct + 1e-9]
    if not ok:
        raise RecipeError(
            f"match.max_strain_pct: no lattice match for film {film.composition.reduced_formula}"
            f"{tuple(film_miller)} on substrate {substrate.composition.reduced_formula}{tuple(substrate_miller)} "
            f"has a principal strain within {max_strain_pct} % (area <= {max_area_A2} Å²); raise max_strain_pct"
        )
    # Build only the smallest matches: building all of them (hundreds) costs ~10 s per termination.
    order = sorted(ok, key=lambda i: (round(cib.zsl_matches[i].match_area, 2), match_strain_pct(cib.zsl_matches[i])))
    keep = order[:max_candidates]
    all_matches = cib.zsl_matches
    term_ids = list(range(len(cib.terminations)) if terminations is None else terminations)
    for side, want, pos in (("film", film_termination, 0), ("substrate", substrate_termination, 1)):
        if want is None:
            continue
        labels = sorted({t[pos] for t in cib.terminations}, key=lambda x: int(x.split("_")[0]))
        if not any(int(lab.split("_")[0]) == want for lab in labels):
            raise RecipeError(f"{side}.termination: index {want} out of range; valid: "
                              + ", ".join(labels))
        term_ids = [t for t in term_ids if int(cib.terminations[t][pos].split("_")[0]) == want]
    if film_thickness_A is None and substrate_thickness_A is None:
        thick, in_layers = (film_layers, substrate_layers), True
    else:
        thick = (film_thickness_A if film_thickness_A is not None else
                 film_layers * film.lattice.d_hkl(tuple(film_miller)) - 1e-6,
                 substrate_thickness_A if substrate_thickness_A is not None else
                 substrate_layers * substrate.lattice.d_hkl(tuple(substrate_miller)) - 1e-6)
        in_layers = False
    candidates: list[InterfaceCandidate] = []
    for t in term_ids:
        if not 0 <= t < len(cib.terminations):
            raise RecipeError(f"termination index {t} out of range; this pair has {len(cib.terminations)}")
        term = cib.terminations[t]
        for idx in keep:
            cib.zsl_matches = [all_matches[idx]]
            try:
                ifaces = list(
                    cib.get_interfaces(
                        term,
                        gap=gap_A,
                        vacuum_over_film=vacuum_A,
                        film_thickness=thick[0],
                        substrate_thickness=thick[1],
                        in_layers=in_layers,
                    )
                )
            finally:
                cib.zsl_matches = all_matches
            for iface in ifaces:
                candidates.append(
                    InterfaceCandidate(
                        interface=iface,
                        termination=tuple(term),
                        area_A2=interface_area(iface),
                        strain_pct=principal_strain_pct(iface),
                        von_mises_strain_pct=float(100.0 * iface.interface_properties["von_mises_strain"]),
                        match_index=order.index(idx),
                    )
                )
    candidates.sort(key=lambda c: (round(c.area_A2, 2), c.strain_pct, c.n_atoms))
    return candidates
