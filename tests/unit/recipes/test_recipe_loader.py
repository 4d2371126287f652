"""Loader failure paths: every bad recipe is one RecipeError that says what was wrong (never a traceback),
one broken plugin does not hide the others, and structure paths are read next to the recipe file."""

import shutil

import pytest

from contactflow.errors import RecipeError
from contactflow.paths import STRUCTURES_DIR
from contactflow.recipes import available_recipes, load_recipe
from contactflow.recipes.loader import ENTRY_POINT_GROUP
from contactflow.recipes.model import MAX_AREA_A2

RECIPE = "name: {name}\nfilm: {{structure: {film}, miller: [1, 1, 1]}}\nsubstrate: {{builder: graphene}}\n"


def test_non_utf8_recipe_is_named(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RecipeError, match=r"is not UTF-8 text \(byte 0xe9 at offset 9\)"):
        load_recipe(p)


def test_directory_is_reported_as_a_directory(tmp_path, monkeypatch):
    (tmp_path / "d.yaml").mkdir()
    (tmp_path / "recipes").mkdir()
    monkeypatch.chdir(tmp_path)
    for given in ("d.yaml", "recipes", str(tmp_path / "recipes")):
        with pytest.raises(RecipeError, match="is a directory"):
            load_recipe(given)


def test_impossible_yaml_date_is_a_recipe_error(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(RECIPE.format(name="t", film="Si") + "description: 2026-02-30\n")
    with pytest.raises(RecipeError, match="holds a value YAML cannot read"):
        load_recipe(p)


def test_structure_path_is_resolved_next_to_the_recipe_then_cwd(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(STRUCTURES_DIR / "Si.cif", folder / "my_si.cif")
    (folder / "r.yaml").write_text(RECIPE.format(name="t", film="my_si.cif"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    r = load_recipe(folder / "r.yaml")
    assert r.film.structure == str((folder / "my_si.cif").resolve())
    # not next to the file, but in the current directory: found there
    (folder / "r2.yaml").write_text(RECIPE.format(name="t", film="cwd_si.cif"))
    shutil.copy(STRUCTURES_DIR / "Si.cif", elsewhere / "cwd_si.cif")
    assert load_recipe(folder / "r2.yaml").film.structure == str((elsewhere / "cwd_si.cif").resolve())
    # nowhere: the error shows both paths tried
    (folder / "r3.yaml").write_text(RECIPE.format(name="t", film="sub/missing.cif"))
    with pytest.raises(RecipeError) as err:
        load_recipe(folder / "r3.yaml")
    msg = str(err.value)
    assert "film.structure 'sub/missing.cif': not found" in msg
    assert str(folder / "sub/missing.cif") in msg and str(elsewhere / "sub/missing.cif") in msg


@pytest.mark.parametrize("area", [1e9, float("inf"), 0, -5, MAX_AREA_A2 * 1.001])
def test_max_area_is_bounded_and_the_message_names_the_range(tmp_path, area):
    p = tmp_path / "r.yaml"
    p.write_text(RECIPE.format(name="t", film="Si") + f"match: {{max_area_A2: {area}}}\n".replace("inf", ".inf"))
    with pytest.raises(RecipeError, match=rf"match.max_area_A2: .*valid range 0 < max_area_A2 <= {MAX_AREA_A2:g}"):
        load_recipe(p)
    p.write_text(RECIPE.format(name="t", film="Si") + f"match: {{max_area_A2: {MAX_AREA_A2}}}\n")
    assert load_recipe(p).match.max_area_A2 == MAX_AREA_A2


# ------------------------------------------------------------------------------------------ plugins

GOOD = "def good():\n    return {'name': 'plug_good', 'film': {'structure': 'Si', 'miller': [1, 1, 1]},\n" \
       "            'substrate': {'builder': 'graphene'}}\n" \
       "def misnamed():\n    d = good(); d['name'] = 'other_name'; return d\n" \
       "def boom():\n    raise RuntimeError('plugin bug')\n"


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """A real installed distribution (dist-info on sys.path) with one good and three broken entry points."""
    (tmp_path / "cf_test_plugins.py").write_text(GOOD)
    dist = tmp_path / "cf_test_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cf-test-plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nplug_good = cf_test_plugins:good\nplug_missing = cf_test_plugins:no_such_function\n"
        "plug_misnamed = cf_test_plugins:misnamed\nplug_boom = cf_test_plugins:boom\n"
        "plug_nomodule = cf_no_such_module:f\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    import sys

    sys.modules.pop("cf_test_plugins", None)


def test_broken_plugins_are_recipe_errors_and_a_good_one_loads(plugins):
    assert {"plug_good", "plug_missing", "plug_misnamed", "si_graphite"} <= set(available_recipes())
    assert load_recipe("plug_good").name == "plug_good"
    cases = {
        "plug_missing": "cannot be loaded: AttributeError",
        "plug_nomodule": "cannot be loaded: ModuleNotFoundError",
        "plug_boom": "raised RuntimeError: plugin bug",
        "plug_misnamed": "returns a recipe named 'other_name'; the entry-point name must equal the recipe's name",
    }
    for name, text in cases.items():
        with pytest.raises(RecipeError, match=text) as err:
            load_recipe(name)
        assert f"plugin recipe {name!r}" in str(err.value) and "cf-test-plugins" in str(err.value)


def test_recipes_list_shows_the_others_and_warns_about_the_broken(plugins, cli):
    code, stdout, stderr = cli("recipes", "list", "--format", "csv")
    assert code == 0
    assert "plug_good," in stdout and "si_graphite," in stdout and "plug_missing" not in stdout
    warnings = [ln for ln in stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 4 and all("skipped" in w for w in warnings)
    assert any("plug_missing" in w and "AttributeError" in w for w in warnings)
    assert "Traceback" not in stderr
