"""Find and load recipes: shipped ``workflows/*.yaml``, any YAML path, or plugins registered in the
entry-point group ``contactflow.recipes`` (each entry point returns an ``InterfaceRecipe`` or a dict).

A plugin is third-party code: whatever goes wrong while it is imported or called (a missing module or
attribute, an exception, a recipe whose ``name:`` differs from the entry-point name) is a
:class:`~contactflow.errors.RecipeError` for that recipe only, never for the others.

A ``structure:`` path in a YAML recipe is looked up next to the YAML file first, then in the current
directory; the error lists every path tried.
"""

from importlib.metadata import entry_points
from pathlib import Path

from pydantic import ValidationError

from contactflow.errors import RecipeError
from contactflow.paths import WORKFLOWS_DIR
from contactflow.recipes.model import InterfaceRecipe
from contactflow.yamlsafe import load_yaml_text

ENTRY_POINT_GROUP = "contactflow.recipes"
#: recipe sections whose ``structure`` may be a path to a CIF/POSCAR file
_SIDES = ("film", "substrate")


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


def _load_plugin(name: str, ep) -> InterfaceRecipe:
    """Import and call one entry point; any failure of the plugin's code is a RecipeError."""
    dist = getattr(ep, "dist", None)
    origin = f"plugin recipe {name!r} (entry point '{ep.value}'{f' of {dist.name}' if dist else ''})"
    try:
        factory = ep.load()
    except Exception as exc:  # noqa: BLE001 - ImportError, AttributeError, or anything the module raises
        raise RecipeError(f"{origin} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not callable(factory):
        raise RecipeError(f"{origin} names a {type(factory).__name__}, not a function returning a recipe")
    try:
        data = factory()
    except Exception as exc:  # noqa: BLE001 - third-party code
        raise RecipeError(f"{origin} raised {type(exc).__name__}: {exc}") from None
    recipe = _from_mapping(data, origin)
    if recipe.name != name:
        raise RecipeError(f"{origin} returns a recipe named {recipe.name!r}; the entry-point name must equal the "
                          f"recipe's name: (rename the entry point to {recipe.name!r} or the recipe to {name!r})")
    return recipe


def _read_text(path: Path, origin: str) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise RecipeError(f"recipe {origin} is a directory; give a recipe YAML file or a recipe name") from None
    except OSError as exc:
        raise RecipeError(f"recipe {origin} cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"recipe {origin} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                          "save it as UTF-8") from None


def _resolve_structures(data, yaml_dir: Path) -> None:
    """Make each side's ``structure:`` path absolute: next to the YAML file first, then the current
    directory; shipped names are left alone."""
    if not isinstance(data, dict):
        return
    from contactflow.structures.bulk import ALIASES, available_bulks

    shipped = {n.lower() for n in available_bulks()} | set(ALIASES)
    for side in _SIDES:
        spec = data.get(side)
        value = spec.get("structure") if isinstance(spec, dict) else None
        if not isinstance(value, str) or not value.strip() or value.lower() in shipped:
            continue
        given = Path(value).expanduser()
        tried = [given] if given.is_absolute() else [yaml_dir / given, Path.cwd() / given]
        for cand in tried:
            if cand.is_file():
                spec["structure"] = str(cand.resolve())
                break
        else:
            if not _looks_like_path(value):
                continue  # a misspelt bulk name: the model's validator names the shipped ones
            where = ", ".join(str(p) for p in dict.fromkeys(tried))
            what = "is a directory" if any(p.is_dir() for p in tried) else "not found"
            raise RecipeError(f"{side}.structure {value!r}: {what} (tried {where}); give a shipped bulk name "
                              f"({', '.join(available_bulks())}) or a CIF/POSCAR path relative to the recipe file")


def _looks_like_path(value: str) -> bool:
    name = Path(value).name
    return "/" in value or "\\" in value or bool(Path(value).suffix) or name.upper().startswith(("POSCAR", "CONTCAR"))


def load_recipe(name_or_path: str | Path) -> InterfaceRecipe:
    """Load a recipe by shipped/plugin name or YAML path.

    Raises
    ------
    RecipeError
        If not found, a directory, not UTF-8, not valid YAML, or not a valid recipe (the message names the
        field); for a plugin, if its code fails or its recipe's name differs from the entry-point name.
    """
    key = str(name_or_path)
    path = Path(key).expanduser()
    if key.endswith((".yaml", ".yml")) or path.is_file():
        if path.is_dir():
            raise RecipeError(f"recipe {path} is a directory; give a recipe YAML file or a recipe name")
        if not path.is_file():
            raise RecipeError(f"recipe file not found: {path}")
        origin = str(path)
    elif key in _shipped():
        path, origin = _shipped()[key], key
    elif key in _plugins():
        return _load_plugin(key, _plugins()[key])
    elif path.is_dir():
        raise RecipeError(f"recipe {path} is a directory; give a recipe YAML file (e.g. {path / 'recipe.yaml'}) "
                          f"or a recipe name: {', '.join(available_recipes())}")
    else:
        raise RecipeError(f"unknown recipe {key!r}; available: {', '.join(available_recipes())} or a path to a .yaml file")
    data = load_yaml_text(_read_text(path, origin), f"recipe {origin}", RecipeError)
    _resolve_structures(data, path.resolve().parent)
    return _from_mapping(data, origin)
