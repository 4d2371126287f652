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


def interface_area(structure: Structure) -> float:
    """In-plane area |a × b| of a cell, Å²."""
    a, b = structure.lattice.matrix[:2]
    return float(np.linalg.norm(np.cross(a, b)))


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
        Indices into the builder's termination list; ``None`` enumerates all.

    Returns
    -------
    list[InterfaceCandidate]
        Ranked by (area, strain); each says which termination it uses.

    Raises
    ------
    RecipeError
        If no match exists within the strain and area limits.
    """
    zsl = ZSLGenerator(
        max_area_ratio_tol=0.09,
        max_area=max_area_A2,
        max_length_tol=max_strain_pct / 100.0,
        max_angle_tol=0.01,
    )
    cib = CoherentInterfaceBuilder(
        substrate_structure=substrate,
        film_structure=film,
        film_miller=tuple(film_miller),
        substrate_miller=tuple(substrate_miller),
        zslgen=zsl,
        label_index=True,
    )
    if not cib.zsl_matches:
        raise RecipeError(
            f"no lattice match for film {film.composition.reduced_formula}{tuple(film_miller)} on "
            f"substrate {substrate.composition.reduced_formula}{tuple(substrate_miller)} within "
            f"{max_strain_pct} % strain and {max_area_A2} Å²; raise max_strain_pct or max_area_A2"
        )
    # Build only the smallest matches: building all of them (hundreds) costs ~10 s per termination.
    order = sorted(range(len(cib.zsl_matches)), key=lambda i: cib.zsl_matches[i].match_area)
    keep = order[:max_candidates]
    all_matches = cib.zsl_matches
    term_ids = range(len(cib.terminations)) if terminations is None else terminations
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
                        film_thickness=film_layers,
                        substrate_thickness=substrate_layers,
                        in_layers=True,
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
