"""Find and load recipes: shipped ``workflows/*.yaml``, any YAML path, or plugins registered in the
entry-point group ``contactflow.recipes`` (each entry point returns an ``InterfaceRecipe`` or a dict)."""

from importlib.metadata import entry_points
from pathlib import Path

import yaml
from pydantic import ValidationError

from contactflow.errors import RecipeError
from contactflow.paths import WORKFLOWS_DIR
from contactflow.recipes.model import InterfaceRecipe

ENTRY_POINT_GROUP = "contactflow.recipes"


def _shipped() -> dict[str, Path]:
    return {p.stem: p for p in sorted(WORKFLOWS_DIR.glob("*.yaml"))}


def _plugins() -> dict:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_recipes() -> list[str]:
    """Names of shipped and plugin recipes."""
    return sorted(set(_shipped()) | set(_plugins()))


def recipe_source(name: str) -> str:
    """Where a recipe name comes from: ``shipped``, ``plugin:<distribution>`` or ``file``."""
    if name in _shipped():
        return "shipped"
    ep = _plugins().get(name)
    if ep is not None:
        dist = getattr(ep, "dist", None)
        return f"plugin:{dist.name}" if dist is not None else "plugin"
    return "file"


def _from_mapping(data, origin: str) -> InterfaceRecipe:
    if isinstance(data, InterfaceRecipe):
        return data
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {origin} must be a mapping, got {type(data).__name__}")
    try:
        return InterfaceRecipe.model_validate(data)
    except ValidationError as exc:
        errs = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise RecipeError(f"invalid recipe {origin}: {errs}") from None


def load_recipe(name_or_path: str | Path) -> InterfaceRecipe:
    """Load a recipe by shipped/plugin name or YAML path.

    Raises
    ------
    RecipeError
        If not found, not valid YAML, or not a valid recipe (the message names the field).
    """
    key = str(name_or_path)
    path = Path(key).expanduser()
    if key.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise RecipeError(f"recipe file not found: {path}")
        origin = str(path)
    elif key in _shipped():
        path, origin = _shipped()[key], key
    elif key in _plugins():
        return _from_mapping(_plugins()[key].load()(), f"plugin {key!r}")
    else:
        raise RecipeError(f"unknown recipe {key!r}; available: {', '.join(available_recipes())} or a path to a .yaml file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RecipeError(f"recipe {origin} is not valid YAML: {exc}") from None
    return _from_mapping(data, origin)
