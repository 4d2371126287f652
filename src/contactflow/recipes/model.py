"""``InterfaceRecipe``: everything needed to build an interface and say what to compute on it."""

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contactflow.engines import parse_spec

KNOWN_TASKS = ("adhesion",)


class SlabSpec(BaseModel):
    """One side of the interface."""

    model_config = ConfigDict(extra="forbid")

    structure: str = Field(..., description="shipped bulk name (e.g. 'Si') or path to a CIF/POSCAR")
    miller: tuple[int, int, int] = Field(..., description="Miller indices of the contact plane")
    layers: int = Field(2, ge=1, le=20, description="slab thickness in slab-generator layers")

    @field_validator("miller")
    @classmethod
    def _nonzero(cls, v):
        if not any(v):
            raise ValueError("Miller indices cannot all be zero")
        return v


class MatchSpec(BaseModel):
    """Zur–McGill lattice-matching limits."""

    model_config = ConfigDict(extra="forbid")

    max_strain_pct: float = Field(3.0, gt=0, le=20, description="largest lattice-vector mismatch, %")
    max_area_A2: float = Field(250.0, gt=0, description="largest interface area, Å²")
    max_candidates: int = Field(3, ge=1, le=100, description="candidates kept per termination")


class InterfaceRecipe(BaseModel):
    """A recipe: film, substrate, matching, vacuum, engine and tasks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="recipe name (file stem)")
    description: str = Field("", description="one line for listings")
    film: SlabSpec
    substrate: SlabSpec
    match: MatchSpec = Field(default_factory=MatchSpec)
    gap_A: float = Field(3.0, gt=0.5, lt=10, description="initial film–substrate gap, Å")
    vacuum_A: float = Field(15.0, ge=5, description="vacuum above the film, Å")
    engine: str = Field("chgnet+d3", description="engine spec for the tasks")
    tasks: list[str] = Field(default_factory=lambda: ["adhesion"], description="tasks to run")

    @field_validator("engine")
    @classmethod
    def _engine_valid(cls, v):
        parse_spec(v)  # raises EngineSpecError (a ValueError) naming the valid specs
        return v

    @field_validator("tasks")
    @classmethod
    def _tasks_valid(cls, v):
        bad = [t for t in v if t not in KNOWN_TASKS]
        if bad:
            raise ValueError(f"unknown task(s) {bad}; valid tasks: {', '.join(KNOWN_TASKS)}")
        return v

    @property
    def recipe_hash(self) -> str:
        """Hash of the building parameters (not engine/tasks): same hash ⇒ same structures."""
        blob = self.model_dump(include={"film", "substrate", "match", "gap_A", "vacuum_A"})
        return "rc-" + hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]

    def build(self):
        """Build the interface candidates (smallest area first).

        Returns
        -------
        list[contactflow.structures.InterfaceCandidate]
        """
        from contactflow.structures import build_interfaces, load_bulk

        cands = build_interfaces(
            load_bulk(self.film.structure), load_bulk(self.substrate.structure),
            self.film.miller, self.substrate.miller,
            film_layers=self.film.layers, substrate_layers=self.substrate.layers,
            gap_A=self.gap_A, vacuum_A=self.vacuum_A,
            max_strain_pct=self.match.max_strain_pct, max_area_A2=self.match.max_area_A2,
            max_candidates=self.match.max_candidates,
        )
        for c in cands:
            c.metadata.update(film_miller=list(self.film.miller), substrate_miller=list(self.substrate.miller))
        return cands
