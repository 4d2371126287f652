"""``InterfaceRecipe``: everything needed to build an interface and say what to compute on it."""

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contactflow.recipes.specs import Side, SlabSpec, kind_of  # noqa: F401  (SlabSpec re-exported)



#: Largest ``match.max_area_A2`` a recipe may ask for, Å². The Zur–McGill search (pymatgen) grows much
#: faster than the area: Si(111)/graphite(0001) at 3 % strain, measured with ``recipe.build()`` on 2 shared
#: cores: 250 Å² 2 s, 500 Å² 25 s, 1000 Å² 615 s (10 min), and 1e9 Å² runs without end. 500 Å² keeps a
#: build under a minute and is twice the shipped recipes' 250 Å²; the smallest match is found long
#: before (68 atoms at every area tried).
MAX_AREA_A2 = 500.0


class MatchSpec(BaseModel):
    """Zur–McGill lattice-matching limits."""

    model_config = ConfigDict(extra="forbid")

    max_strain_pct: float = Field(3.0, gt=0, le=20, description="largest lattice-vector mismatch, %")
    max_area_A2: float = Field(250.0, gt=0, le=MAX_AREA_A2,
                               description=f"largest interface area, Å² (0 < max_area_A2 <= {MAX_AREA_A2:g})")
    max_candidates: int = Field(3, ge=1, le=100, description="candidates kept per termination")

    @field_validator("max_area_A2", mode="before")
    @classmethod
    def _area_in_range(cls, v):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return v  # not a number: pydantic's own type error names the field
        if not 0 < x <= MAX_AREA_A2:
            raise ValueError(f"{v!r} is outside the valid range 0 < max_area_A2 <= {MAX_AREA_A2:g} Å² (the lattice "
                             f"search time grows steeply with the area: 2 s at 250 Å², 25 s at 500 Å², 10 min at 1000 Å²)")
        return v


class InterfaceRecipe(BaseModel):
    """A recipe: film, substrate, matching, vacuum, engine and tasks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="recipe name (file stem)")
    description: str = Field("", description="one line for listings")
    film: Side = Field(..., description="film side: a crystal slab or a builder (see recipes.specs)")
    substrate: Side = Field(..., description="substrate side: a crystal slab or a builder (see recipes.specs)")
    match: MatchSpec = Field(default_factory=MatchSpec)
    gap_A: float = Field(3.0, gt=0.5, lt=10, description="initial film–substrate gap, Å")
    vacuum_A: float = Field(15.0, ge=5, description="vacuum above the film, Å")
    fix_bottom_A: float = Field(1.0, ge=0, le=10, description="substrate atoms this close to its bottom are tagged fixed, Å")
    registry: Literal["as_built", "coupled", "non_aligned"] = Field(
        "as_built", description="in-plane film placement: as matched, film cation over a substrate O (coupled), "
                                "or film contact atoms as far as possible from substrate O (non_aligned)")
    engine: str = Field("auto", description="default engine spec of the tasks; auto: per structure, the engine with "
                                          "the best validation record on its chemistry (contactflow.engines.auto)")
    engines: dict[str, str] = Field(default_factory=dict,
                                    description="engine per task where a task needs its own, e.g. {pull_off: reaxff:Fe_O_C_H}")
    tasks: list[str] = Field(default_factory=lambda: ["adhesion"], description="tasks to run")

    # Engine specs and task names are checked against the engine and task registries by
    # ``contactflow.api.load_recipe`` (recipes sit below engines and flows and import neither).

    @model_validator(mode="after")
    def _sides_compatible(self):
        fk, sk = kind_of(self.film), kind_of(self.substrate)
        if sk == "cluster":
            raise ValueError("substrate.builder: 'cluster' can only be a film; substrate builders: crystal, "
                             "graphene, rgo, n_graphene, amorphous_carbon, amorphous")
        if fk == "sheet":
            raise ValueError(f"film.builder: {self.film.builder!r} can only be a substrate; film builders: "
                             "crystal, amorphous_carbon, amorphous, cluster")
        if fk in ("amorphous", "cluster") and sk == "amorphous":
            raise ValueError("substrate: an amorphous substrate needs a crystal film to take its cell from; "
                             "use a crystal or sheet substrate under an amorphous film or cluster")
        return self

    @property
    def recipe_hash(self) -> str:
        """Hash of the building parameters (not engine/tasks): same hash ⇒ same structures."""
        blob = self.model_dump(include={"film", "substrate", "match", "gap_A", "vacuum_A", "fix_bottom_A",
                                        "registry"})
        return "rc-" + hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]

    def build(self, quench=None):
        """Build the interface candidates (smallest area first; see :mod:`contactflow.recipes.build`).

        Parameters
        ----------
        quench
            ``side spec -> (Structure -> Structure)``: the melt–quench of amorphous sides with
            ``melt_quench_steps`` (an engine runs it, so :mod:`contactflow.api` passes it in; recipes
            import no engine).

        Returns
        -------
        list[contactflow.structures.InterfaceCandidate]
        """
        from contactflow.recipes.build import build_recipe

        return build_recipe(self, quench)
