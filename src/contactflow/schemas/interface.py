"""InterfaceDoc: one built interface model with its matching metadata."""

from typing import Any

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance
from contactflow.schemas.types import InterfaceField


class InterfaceDoc(BaseModel):
    """An interface candidate as built from a recipe."""

    interface_id: str = Field(..., description="content hash of the interface structure")
    recipe_name: str | None = Field(None, description="name of the recipe that built it")
    recipe_hash: str | None = Field(None, description="hash of the recipe's building parameters")
    system: str = Field(..., description="film/substrate formulas, e.g. 'Si/C'")
    film_formula: str = Field(..., description="reduced formula of the film")
    substrate_formula: str = Field(..., description="reduced formula of the substrate")
    film_miller: list[int] = Field(..., description="Miller indices of the film contact plane")
    substrate_miller: list[int] = Field(..., description="Miller indices of the substrate contact plane")
    termination: list[str] = Field(..., description="(film, substrate) termination labels")
    match_index: int = Field(..., description="rank of the Zur–McGill match by area (0 = smallest)")
    area_A2: float = Field(..., description="in-plane interface area, Å²")
    strain_pct: float = Field(..., description="largest absolute principal in-plane film strain, %")
    von_mises_strain_pct: float = Field(..., description="von Mises equivalent film strain, %")
    n_atoms: int = Field(..., description="atoms in the interface cell")
    n_film_atoms: int = Field(..., description="atoms in the film slab")
    n_substrate_atoms: int = Field(..., description="atoms in the substrate slab")
    composition: dict[str, float] = Field(..., description="element counts of the interface cell")
    structure: InterfaceField = Field(..., description="the built interface (pymatgen Interface)")
    provenance: Provenance = Field(default_factory=Provenance, description="who built it and when")

    @classmethod
    def from_candidate(cls, candidate, recipe_name: str | None = None, recipe_hash: str | None = None):
        """Build from a :class:`contactflow.structures.InterfaceCandidate`."""
        iface = candidate.interface
        film_f = iface.film.composition.reduced_formula
        sub_f = iface.substrate.composition.reduced_formula
        props = iface.interface_properties
        return cls(
            interface_id=candidate.interface_id,
            recipe_name=recipe_name,
            recipe_hash=recipe_hash,
            system=f"{film_f}/{sub_f}",
            film_formula=film_f,
            substrate_formula=sub_f,
            film_miller=list(props.get("film_miller", candidate.metadata.get("film_miller", []))),
            substrate_miller=list(props.get("substrate_miller", candidate.metadata.get("substrate_miller", []))),
            termination=list(candidate.termination),
            match_index=candidate.match_index,
            area_A2=candidate.area_A2,
            strain_pct=candidate.strain_pct,
            von_mises_strain_pct=candidate.von_mises_strain_pct,
            n_atoms=len(iface),
            n_film_atoms=len(iface.film_indices),
            n_substrate_atoms=len(iface.substrate_indices),
            composition={str(k): float(v) for k, v in iface.composition.as_dict().items()},
            structure=iface.as_dict(),
        )
