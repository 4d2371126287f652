"""The two sides of a recipe: a crystal slab or a builder (graphene, rGO, N-graphene, a-C, amorphous,
cluster). A side without ``builder:`` is a crystal slab; ``builder:`` picks one of the other models.

Which side may be what:

* crystal (``structure`` + ``miller``): film or substrate; matched by Zur–McGill.
* ``graphene`` (n AB layers), ``rgo``, ``n_graphene``: substrate only. Matched by Zur–McGill on the
  pristine graphene lattice (a single-sheet pseudo-bulk, a = 2.464 Å); the matched sheet is then
  stacked/decorated in place, so the film keeps its matched strain. A sheet smaller than ``supercell``
  (in carbons) is tiled, together with the film, until it is at least that large.
* ``amorphous_carbon``, ``amorphous`` (a-Si, LixSi …): film or substrate; they adopt the in-plane cell
  of the other side (no strain).
* ``cluster``: film only, placed over the centre of the substrate cell.
"""

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

CRYSTAL = "crystal"
SHEET_BUILDERS = ("graphene", "rgo", "n_graphene")
AMORPHOUS_BUILDERS = ("amorphous_carbon", "amorphous")
FILM_ONLY = ("cluster",)
GroupName = Literal["hydroxyl", "epoxy", "carboxyl"]


def _check_structure(v: str) -> str:
    from pathlib import Path

    from contactflow.errors import RecipeError
    from contactflow.structures.bulk import ALIASES, available_bulks

    names = {n.lower() for n in available_bulks()} | set(ALIASES)
    if str(v).lower() in names or Path(v).expanduser().is_file():
        return v
    raise RecipeError(f"unknown bulk structure {v!r}; shipped: {', '.join(available_bulks())}, "
                      "or a path to a CIF/POSCAR file")


class LithiationSpec(BaseModel):
    """Li inserted into the interstitial voids of a crystal slab."""

    model_config = ConfigDict(extra="forbid")

    li_per_host: float = Field(..., gt=0, le=1, description="Li atoms per host atom (x in LixSi), 0 < x <= 1")
    host: str = Field("Si", description="host element the ratio refers to")
    seed: int = Field(0, description="random seed of the insertion sites")


class SlabSpec(BaseModel):
    """A crystal side: bulk structure, Miller index, thickness, termination and surface chemistry."""

    model_config = ConfigDict(extra="forbid")

    builder: Literal["crystal"] = Field("crystal", description="'crystal' (the default when omitted)")
    structure: str = Field(..., description="shipped bulk name (e.g. 'Si') or path to a CIF/POSCAR")
    miller: tuple[int, int, int] = Field(..., description="Miller indices of the contact plane")
    layers: int = Field(2, ge=1, le=20, description="slab thickness in slab-generator layers (hkl planes)")
    thickness_A: float | None = Field(None, gt=0, le=60, description="minimum slab thickness, Å (overrides layers): whole repeat units are stacked until "
                    "their heights add up to at least this")
    termination: int | None = Field(None, ge=1, description="1-based termination index; omitted: all terminations")
    passivation: Literal["OH"] | None = Field(None, description="'OH': hydroxylate the oxide surfaces")
    passivation_side: Literal["contact", "both"] = Field("both", description="which surfaces get passivated")
    lithiation: LithiationSpec | None = Field(None, description="insert Li into the slab")
    supercell: tuple[int, int] | None = Field(
        None, description="in-plane repetition when the other side is amorphous/cluster (default: >= 10 Å wide)")

    @field_validator("miller")
    @classmethod
    def _miller(cls, v):
        from contactflow.structures.slabs import check_miller

        if not any(v):
            raise ValueError("Miller indices cannot all be zero")
        check_miller(v)
        return v

    @field_validator("structure")
    @classmethod
    def _structure(cls, v):
        return _check_structure(v)

    @field_validator("supercell")
    @classmethod
    def _supercell(cls, v):
        if v is not None and min(v) < 1:
            raise ValueError(f"supercell entries must be >= 1, got {list(v)}")
        return v


class _SheetBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supercell: tuple[int, int] = Field(
        (4, 4), description="smallest sheet (graphene cells n x m): matched sheets are tiled up to at least "
                            "this many carbons; the sheet itself when the film is amorphous or a cluster")
    a_A: float = Field(2.464, ge=2.3, le=2.6, description="graphene lattice constant, Å")

    @field_validator("supercell")
    @classmethod
    def _supercell(cls, v):
        if min(v) < 1:
            raise ValueError(f"supercell entries must be >= 1, got {list(v)}")
        return v


class GrapheneSpec(_SheetBase):
    """Pristine graphene, or n-layer AB graphite with the matched sheet on top."""

    builder: Literal["graphene"]
    layers: int = Field(1, ge=1, le=10, description="number of AB-stacked layers")
    interlayer_A: float = Field(3.35, ge=3.0, le=4.0, description="interlayer spacing, Å")


class RGOSpec(_SheetBase):
    """Reduced graphene oxide: graphene with OH, epoxy, COOH groups and vacancies at a target O/C."""

    builder: Literal["rgo"]
    o_to_c: float = Field(..., ge=0, le=0.5, description="target O/C atom ratio (rGO 0.08-0.12), within ±0.02")
    groups: list[GroupName] = Field(["hydroxyl", "epoxy"], min_length=1, description="functional groups")
    group_weights: dict[GroupName, float] | None = Field(None, description="relative share of each group")
    vacancies: int = Field(0, ge=0, description="carbon vacancies in the sheet")
    side: Literal["top", "bottom", "both"] = Field(
        "both", description="sheet face(s) carrying groups; 'top' faces the film")
    seed: int = Field(0, description="random seed")


class NGrapheneSpec(_SheetBase):
    """N-doped graphene (graphitic substitution or pyridinic N3 vacancies)."""

    builder: Literal["n_graphene"]
    n_fraction: float = Field(..., gt=0, le=0.15, description="target N/(C+N) atom fraction")
    kind: Literal["graphitic", "pyridinic"] = Field("graphitic", description="N configuration")
    seed: int = Field(0, description="random seed")


class AmorphousCarbonSpec(BaseModel):
    """Amorphous carbon block of a given density on the partner's in-plane cell."""

    model_config = ConfigDict(extra="forbid")

    builder: Literal["amorphous_carbon"]
    density_g_cm3: float = Field(2.0, ge=1.0, le=3.5, description="mass density, g/cm³")
    thickness_A: float = Field(8.0, ge=2, le=40, description="block thickness, Å")
    seed: int = Field(0, description="random seed")
    melt_quench_steps: int = Field(0, ge=0, le=5000, description="MLP melt and quench steps each (0: packing only)")
    engine: str = Field("chgnet", description="engine spec of the melt–quench")


class AmorphousSpec(BaseModel):
    """Amorphous block of any composition (a-Si, a-LixSi …) on the partner's in-plane cell."""

    model_config = ConfigDict(extra="forbid")

    builder: Literal["amorphous"]
    composition: dict[str, float] = Field(..., description="element -> amount, e.g. {Li: 1, Si: 1}")
    density_g_cm3: float | None = Field(None, gt=0.3, le=10, description="mass density, g/cm³ (default by composition)")
    thickness_A: float = Field(10.0, ge=2, le=40, description="block thickness, Å")
    seed: int = Field(0, description="random seed")
    melt_quench_steps: int = Field(0, ge=0, le=5000, description="MLP melt and quench steps each (0: packing only)")
    engine: str = Field("chgnet", description="engine spec of the melt–quench")

    @field_validator("composition")
    @classmethod
    def _composition(cls, v):
        from pymatgen.core import Element

        bad = [k for k in v if not Element.is_valid_symbol(k)]
        if bad or not v or any(x <= 0 for x in v.values()):
            raise ValueError(f"composition must map element symbols to positive amounts, got {v}")
        return v


class ClusterSpec(BaseModel):
    """An n-atom cluster cut from a bulk crystal (film only)."""

    model_config = ConfigDict(extra="forbid")

    builder: Literal["cluster"]
    structure: str = Field("Sn", description="bulk the cluster is cut from")
    n_atoms: int = Field(..., ge=1, le=60, description="atoms in the cluster")

    @field_validator("structure")
    @classmethod
    def _structure(cls, v):
        return _check_structure(v)


def _tag(v) -> str:
    if isinstance(v, dict):
        return v.get("builder", CRYSTAL)
    return getattr(v, "builder", CRYSTAL)


Side = Annotated[
    Union[
        Annotated[SlabSpec, Tag("crystal")],
        Annotated[GrapheneSpec, Tag("graphene")],
        Annotated[RGOSpec, Tag("rgo")],
        Annotated[NGrapheneSpec, Tag("n_graphene")],
        Annotated[AmorphousCarbonSpec, Tag("amorphous_carbon")],
        Annotated[AmorphousSpec, Tag("amorphous")],
        Annotated[ClusterSpec, Tag("cluster")],
    ],
    Discriminator(_tag),
]
BUILDERS = (CRYSTAL, *SHEET_BUILDERS, *AMORPHOUS_BUILDERS, *FILM_ONLY)


def kind_of(side) -> str:
    """``crystal``, ``sheet``, ``amorphous`` or ``cluster``."""
    b = _tag(side)
    if b == CRYSTAL:
        return "crystal"
    if b in SHEET_BUILDERS:
        return "sheet"
    if b in AMORPHOUS_BUILDERS:
        return "amorphous"
    return "cluster"
