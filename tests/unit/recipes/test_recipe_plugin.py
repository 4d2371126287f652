"""Third-party recipes through the entry-point group ``contactflow.recipes``.

The worked example package ``examples/contactflow-recipes-example`` is registered without pip: its
source directory and a ``*.dist-info`` (METADATA + entry_points.txt generated from the example's own
pyproject.toml) go on ``sys.path``, which is exactly what ``importlib.metadata`` scans for an installed
distribution. That keeps the test fast and checks the pyproject declaration users will copy.
"""

import sys
import tomllib
from pathlib import Path

import pytest

from contactflow.paths import REPO_ROOT
from contactflow.recipes import InterfaceRecipe, available_recipes, load_recipe
from contactflow.recipes.loader import ENTRY_POINT_GROUP, recipe_source
from contactflow.structures import cross_min_distance_A

EXAMPLE = REPO_ROOT / "examples" / "contactflow-recipes-example"


@pytest.fixture
def example_plugin(tmp_path, monkeypatch):
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    project = meta["project"]
    eps = project["entry-points"][ENTRY_POINT_GROUP]
    dist = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield eps
    sys.modules.pop("cf_recipes_example", None)


def test_plugin_recipes_are_listed_and_loaded(example_plugin):
    names = available_recipes()
    for name in example_plugin:
        assert name in names
        assert recipe_source(name) == "plugin:contactflow-recipes-example"
        r = load_recipe(name)
        assert isinstance(r, InterfaceRecipe) and r.name == name
    assert recipe_source("si_graphite") == "shipped"


@pytest.mark.slow
def test_plugin_recipes_build_sound_interfaces(example_plugin):
    doped = load_recipe("sno2_n_graphene").build()[0]
    sub = doped.interface.substrate.composition
    assert sub["N"] / sub.num_atoms == pytest.approx(0.03, abs=0.02)
    assert doped.interface.film.composition.reduced_formula == "SnO2"
    lith = load_recipe("si_lithiated_graphite").build()[0]
    film = lith.interface.film.composition
    assert film["Li"] == round(0.25 * film["Si"])
    for c in (doped, lith):
        assert cross_min_distance_A(c.interface, c.interface.film_indices, c.interface.substrate_indices) >= 1.0


def test_plugin_recipe_is_absent_without_the_distribution():
    assert "sno2_n_graphene" not in available_recipes()
