"""The screening space: a base recipe, design variables on recipe fields, objectives and constraints.

A space file is YAML (``yaml.safe_load``), validated like a recipe: every problem is one line that
names the field and says what is valid (:class:`ScreeningSpaceError`, exit 2), before anything runs::

    name: rgo_oc
    recipe: fe3o4_rgo                  # shipped name, YAML path, or an inline recipe mapping
    tasks: [adhesion, descriptors]     # added to the tasks the objectives need
    engine: chgnet+d3
    sets: [adhesion.relax=false]
    variables:
      - {name: o_to_c, path: substrate.o_to_c, low: 0.02, high: 0.2}
      - {name: groups, path: substrate.groups, choices: [[hydroxyl], [epoxy], [hydroxyl, epoxy]]}
      - {name: layers, path: film.layers, type: int, low: 1, high: 2}
    objectives:
      - {field: adhesion.w_sep_J_per_m2, direction: maximize, reference: 0.0}
    constraints:
      - {field: n_atoms, max: 200}                   # known from the build: filters proposals
      - {field: adhesion.w_sep_J_per_m2, min: 0.3}   # known after the run: modelled
    features: [o_to_c, strain_pct]     # cheap descriptors of the built structure for the surrogate

Variables map by dotted path onto the recipe's fields (``substrate.o_to_c``); every bound and every
choice is checked by building the recipe variant's model (not its structure).
"""

import copy
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contactflow.errors import ContactflowError

#: fields of the built candidate, known before any calculation (constraints on them filter proposals)
CANDIDATE_FIELDS = ("n_atoms", "strain_pct", "area_A2", "von_mises_strain_pct")
#: cheap structure descriptors (no calculator) the surrogate can take as inputs
DESCRIPTOR_FIELDS = ("o_to_c", "contact_area_fraction", "n_cross_bonds", "cross_bonds_per_nm2",
                     "interface_gap_A", "interphase_thickness_A")
FEATURES = CANDIDATE_FIELDS + DESCRIPTOR_FIELDS


class ScreeningSpaceError(ContactflowError, ValueError):
    """A screening space file that cannot be screened (the message names the field)."""


class Variable(BaseModel):
    """One design variable: a continuous range, an integer range or a list of choices."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="short name (default: the last part of the path)")
    path: str = Field(..., min_length=1, description="dotted recipe field, e.g. substrate.o_to_c")
    type: Literal["float", "int", "choice"] | None = Field(
        None, description="float (low/high), int (low/high) or choice (choices); inferred when omitted")
    low: float | None = Field(None, description="lower bound (float, int)")
    high: float | None = Field(None, description="upper bound (float, int)")
    choices: list[Any] | None = Field(None, min_length=2, description="values to choose from (choice)")

    @model_validator(mode="after")
    def _kind(self):
        if self.type is None:
            self.type = "choice" if self.choices is not None else "float"
        if self.type == "choice":
            if self.choices is None:
                raise ValueError("type choice needs 'choices' (a list of at least two values)")
            if self.low is not None or self.high is not None:
                raise ValueError("a choice variable takes 'choices', not low/high")
        else:
            if self.low is None or self.high is None:
                raise ValueError(f"type {self.type} needs 'low' and 'high'")
            if not self.low < self.high:
                raise ValueError(f"low must be below high, got low={self.low}, high={self.high}")
            if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
                raise ValueError("type int needs whole-number low and high")
            if self.choices is not None:
                raise ValueError(f"type {self.type} takes low/high, not 'choices'")
        if self.name is None:
            self.name = self.path.split(".")[-1]
        return self

    @property
    def width(self) -> int:
        """Columns in the surrogate's input (one-hot for choices)."""
        return len(self.choices) if self.type == "choice" else 1

    def encode(self, value) -> list[float]:
        """Value → surrogate input columns in [0, 1]."""
        if self.type == "choice":
            return [1.0 if value == c else 0.0 for c in self.choices]
        return [(float(value) - self.low) / (self.high - self.low)]

    def decode(self, u: float, rng_choice: int | None = None):
        """A unit-interval number (or a choice index) → a value."""
        if self.type == "choice":
            return self.choices[int(rng_choice if rng_choice is not None else min(int(u * len(self.choices)), len(self.choices) - 1))]
        x = self.low + min(max(u, 0.0), 1.0) * (self.high - self.low)
        if self.type == "int":
            return int(min(max(math.floor(x + 0.5), self.low), self.high))
        return round(float(x), 6)


class Objective(BaseModel):
    """A stored document field to optimise: ``task.field`` with a direction."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(..., description="TASK.FIELD of a stored document, e.g. adhesion.w_sep_J_per_m2")
    direction: Literal["maximize", "minimize"] = Field(..., description="maximize or minimize")
    reference: float | None = Field(
        None, description="worst acceptable value (hypervolume reference); default: from the start designs")
    name: str | None = Field(None, description="short name (default: the field)")
    where: dict[str, Any] = Field(default_factory=dict,
                                  description="document filter when a task gives several, e.g. {label: gap}")

    @field_validator("direction", mode="before")
    @classmethod
    def _spelling(cls, v):
        return {"maximise": "maximize", "minimise": "minimize", "max": "maximize", "min": "minimize"}.get(v, v)

    @property
    def sign(self) -> float:
        """+1 for maximize, −1 for minimize (the surrogate maximises sign × value)."""
        return 1.0 if self.direction == "maximize" else -1.0


class Constraint(BaseModel):
    """A bound on a candidate field (n_atoms, strain_pct, area_A2, a descriptor) or on a stored field."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(..., description="candidate field/descriptor, or TASK.FIELD of a stored document")
    min: float | None = Field(None, description="smallest allowed value")
    max: float | None = Field(None, description="largest allowed value")
    where: dict[str, Any] = Field(default_factory=dict, description="document filter (stored fields)")

    @model_validator(mode="after")
    def _bound(self):
        if self.min is None and self.max is None:
            raise ValueError("give 'min' and/or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def stored(self) -> bool:
        """A stored document field (known after the run) rather than a candidate field."""
        return "." in self.field

    def ok(self, value) -> bool:
        """Whether a value satisfies the bound (``None`` does not)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class SurrogateSettings(BaseModel):
    """Surrogate and acquisition settings (stored with the campaign)."""

    model_config = ConfigDict(extra="forbid")

    initial: int = Field(4, ge=1, le=100, description="Sobol start designs before the surrogate proposes")
    pool: int = Field(256, ge=8, le=20000, description="candidate designs scored by the acquisition per batch")
    mc_samples: int = Field(64, ge=8, le=1024, description="quasi-MC samples of the acquisition")
    acquisition: Literal["qnehvi"] = Field(
        "qnehvi", description="qnehvi: noisy expected hypervolume improvement (log form); qLogNEI for one objective")


class StopRule(BaseModel):
    """Stop before the budget when the hypervolume stops improving."""

    model_config = ConfigDict(extra="forbid")

    patience: int = Field(0, ge=0, description="batches without improvement before stopping (0: never)")
    min_improvement: float = Field(0.01, ge=0, description="relative hypervolume gain that counts as improvement")


class ScreeningSpace(BaseModel):
    """A screening space file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="campaign name")
    description: str = Field("", description="one line")
    recipe: str | dict = Field(..., description="base recipe: shipped name, YAML path or an inline mapping")
    tasks: list[str] = Field(default_factory=list, description="tasks to run besides those the objectives need")
    engine: str | None = Field(None, description="default engine override")
    sets: list[str] = Field(default_factory=list, description="TASK.FIELD=VALUE Maker settings")
    variables: list[Variable] = Field(..., min_length=1, description="design variables")
    objectives: list[Objective] = Field(..., min_length=1, description="objectives over stored fields")
    constraints: list[Constraint] = Field(default_factory=list, description="bounds")
    features: list[str] = Field(default_factory=list, description="cheap descriptors fed to the surrogate")
    surrogate: SurrogateSettings = Field(default_factory=SurrogateSettings)
    stop: StopRule = Field(default_factory=StopRule)

    @field_validator("features")
    @classmethod
    def _features(cls, v):
        bad = [f for f in v if f not in FEATURES]
        if bad:
            raise ValueError(f"unknown feature(s) {', '.join(map(repr, bad))}; valid: {', '.join(FEATURES)}")
        return v

    @model_validator(mode="after")
    def _names(self):
        names = [v.name for v in self.variables]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variables: duplicate name(s) {', '.join(dup)}; give each a distinct 'name'")
        paths = [v.path for v in self.variables]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"variables: path(s) {', '.join(dup)} set twice")
        for o in self.objectives:
            o.name = o.name or o.field
        return self

    # ---------------------------------------------------------------- derived
    @property
    def width(self) -> int:
        """Design-variable columns of the surrogate input."""
        return sum(v.width for v in self.variables)

    @property
    def task_names(self) -> list[str]:
        """Tasks to run: the space's plus those the objectives and stored constraints read."""
        out = list(self.tasks)
        for f in [o.field for o in self.objectives] + [c.field for c in self.constraints if c.stored]:
            t = f.split(".")[0]
            if t not in out:
                out.append(t)
        return out

    @property
    def outcome_fields(self) -> list[str]:
        """Stored fields read back from every evaluation (objectives, then stored constraints)."""
        out = [o.field for o in self.objectives]
        out += [c.field for c in self.constraints if c.stored and c.field not in out]
        return out

    @property
    def space_hash(self) -> str:
        """Hash of the validated space (a resumed campaign must match)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return "sp-" + hashlib.sha256(blob.encode()).hexdigest()[:16]

    def encode(self, design: dict) -> list[float]:
        """A design → its design-variable columns in [0, 1]."""
        return [x for v in self.variables for x in v.encode(design[v.name])]


# ---------------------------------------------------------------------------- recipe mapping
def _get(d: dict, parts: list[str]):
    cur = d
    for p in parts:
        if not isinstance(cur, dict) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur


def _set(d: dict, parts: list[str], value) -> None:
    cur = d
    for p in parts[:-1]:
        cur = cur[p]
    cur[parts[-1]] = value


def _recipe_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())


def base_recipe(space: ScreeningSpace):
    """The space's base recipe (``InterfaceRecipe``), engine override applied."""
    from contactflow.recipes import InterfaceRecipe, load_recipe
    from contactflow.errors import RecipeError

    try:
        if isinstance(space.recipe, dict):
            rec = InterfaceRecipe.model_validate(space.recipe)
        else:
            rec = load_recipe(space.recipe)
    except ValidationError as exc:
        raise ScreeningSpaceError(f"recipe: invalid inline recipe: {_recipe_errors(exc)}") from None
    except RecipeError as exc:
        raise ScreeningSpaceError(f"recipe: {exc}") from None
    if space.engine:
        rec = rec.model_copy(update={"engine": space.engine})
    return rec


def design_name(space: ScreeningSpace, index: int) -> str:
    """Recipe name of the ``index``-th evaluated design."""
    return f"{space.name}-{index:03d}"


def recipe_for(space: ScreeningSpace, design: dict, base=None, name: str | None = None):
    """The recipe variant of a design: the base recipe with each variable's path set.

    Raises
    ------
    ScreeningSpaceError
        When a value makes the recipe invalid (the message names the variable and the recipe's reason).
    """
    from contactflow.recipes import InterfaceRecipe

    base = base or base_recipe(space)
    data = base.model_dump()
    for v in space.variables:
        parts = v.path.split(".")
        found, _ = _get(data, parts)
        if not found:
            raise ScreeningSpaceError(_no_field(v, data))
        _set(data, parts, copy.deepcopy(design[v.name]))
    data["name"] = name or base.name
    try:
        return InterfaceRecipe.model_validate(data)
    except ValidationError as exc:
        raise ScreeningSpaceError(f"design {design}: the recipe variant is invalid: {_recipe_errors(exc)}") from None


def _no_field(v: Variable, data: dict) -> str:
    parts = v.path.split(".")
    found, parent = _get(data, parts[:-1])
    where = ".".join(parts[:-1]) or "the recipe"
    valid = ", ".join(sorted(parent)) if found and isinstance(parent, dict) else "(not a mapping)"
    return f"variables.{v.name}.path: {v.path!r} maps to no recipe field; fields of {where}: {valid}"


def check_space(space: ScreeningSpace) -> None:
    """Every check that needs the registries and the base recipe (before anything is built or run).

    - each variable's path exists in the base recipe and its bounds/choices give a valid recipe;
    - each objective and stored constraint names a task and a field of that task's document;
    - Maker settings (``sets``) are valid for the tasks.
    """
    from contactflow.flows.tasks import TASKS, task
    from contactflow.store.client import KINDS

    base = base_recipe(space)
    data = base.model_dump()
    for v in space.variables:
        if not _get(data, v.path.split("."))[0]:
            raise ScreeningSpaceError(_no_field(v, data))
        values = v.choices if v.type == "choice" else [v.low, v.high]
        if v.type == "int":
            values = [int(x) for x in values]
        for value in values:
            d = {w.name: (w.choices[0] if w.type == "choice" else w.decode(0.5)) for w in space.variables}
            d[v.name] = value
            try:
                recipe_for(space, d, base)
            except ScreeningSpaceError as exc:
                reason = str(exc).split("is invalid: ", 1)[-1]
                raise ScreeningSpaceError(f"variables.{v.name}: value {value!r} gives an invalid recipe: {reason}") from None
    for what, fields in (("objectives", [o.field for o in space.objectives]),
                         ("constraints", [c.field for c in space.constraints if c.stored])):
        for f in fields:
            tname, _, fname = f.partition(".")
            try:
                t = task(tname)
            except ContactflowError:
                raise ScreeningSpaceError(f"{what}: {f!r}: no task {tname!r} produces it; tasks: {', '.join(TASKS)}") from None
            model = KINDS[t.kind].model
            if fname not in model.model_fields:
                numeric = [n for n, fi in model.model_fields.items()
                           if any(x in str(fi.annotation) for x in ("float", "int")) and n != "state"]
                raise ScreeningSpaceError(f"{what}: {f!r}: the {t.name} task's {model.__name__} has no field {fname!r}; "
                                          f"numeric fields: {', '.join(numeric)}")
    for c in space.constraints:
        if not c.stored and c.field not in FEATURES:
            raise ScreeningSpaceError(f"constraints: {c.field!r} is neither a candidate field ({', '.join(FEATURES)}) "
                                      "nor TASK.FIELD of a stored document")
    for t in space.tasks:
        try:
            task(t)
        except ContactflowError as exc:
            raise ScreeningSpaceError(f"tasks: {exc}") from None


def load_space(path: str | Path, check: bool = True) -> ScreeningSpace:
    """Read and validate a space file.

    Raises
    ------
    ScreeningSpaceError
        One line naming the field and what is valid.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        from contactflow.paths import WORKFLOWS_DIR

        shipped = WORKFLOWS_DIR / "screening" / f"{path}.yaml"
        if shipped.is_file():
            p = shipped
        else:
            raise ScreeningSpaceError(f"screening space file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ScreeningSpaceError(f"space {p}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return space_from_mapping(data, str(p), check)


def space_from_mapping(data, origin: str = "<space>", check: bool = True) -> ScreeningSpace:
    """Validate a mapping as a space (see :func:`load_space`)."""
    if not isinstance(data, dict):
        raise ScreeningSpaceError(f"space {origin} must be a mapping, got {type(data).__name__}")
    try:
        space = ScreeningSpace.model_validate(data)
    except ValidationError as exc:
        errs = "; ".join(_loc(e, data) + f": {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        raise ScreeningSpaceError(f"invalid space {origin}: {errs}") from None
    if check:
        check_space(space)
    return space


def _loc(err: dict, data: dict) -> str:
    """Error location with variable names instead of list indices where possible."""
    loc = [str(x) for x in err["loc"]]
    if len(loc) >= 2 and loc[0] in ("variables", "objectives", "constraints") and loc[1].isdigit():
        try:
            item = data[loc[0]][int(loc[1])]
            label = item.get("name") or item.get("path") or item.get("field") if isinstance(item, dict) else None
            if label:
                loc[1] = f"{loc[1]}({label})"
        except (IndexError, KeyError, TypeError):
            pass
    return ".".join(loc) or "<root>"
