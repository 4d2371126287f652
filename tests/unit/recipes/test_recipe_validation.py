"""Recipe loading and the specific errors for bad input (each names the field and the valid options)."""

import textwrap

import numpy as np
import pytest

from contactflow.errors import RecipeError
from contactflow.recipes import InterfaceRecipe, available_recipes, load_recipe

SHIPPED = ["si_graphite", "si_graphene", "sio2_graphene", "sio2_oh_graphene", "sic_si", "sno2_graphene",
           "sn_cluster_graphene", "fe3o4_rgo", "fe3o4_rgo_coupled", "fe3o4_rgo_nonaligned", "lif_graphite"]


def _write(tmp_path, text: str):
    p = tmp_path / "r.yaml"
    p.write_text(textwrap.dedent(text))
    return p


BASE = """
name: t
film: {structure: Si, miller: [1, 1, 1]}
substrate: {builder: rgo, o_to_c: 0.1}
"""


def test_all_issue_recipes_are_shipped_and_valid():
    names = available_recipes()
    for n in SHIPPED:
        assert n in names
        r = load_recipe(n)
        assert r.name == n and r.description


@pytest.mark.parametrize("text,pieces", [
    ("name: t\nfilm: {structure: Unobtainium, miller: [1, 1, 1]}\nsubstrate: {builder: graphene}\n",
     ["film.crystal.structure", "unknown bulk structure 'Unobtainium'", "Fe3O4"]),
    ("name: t\nfilm: {structure: Si, miller: [0, 0, 0]}\nsubstrate: {builder: graphene}\n",
     ["film.crystal.miller", "cannot all be zero"]),
    ("name: t\nfilm: {structure: Si, miller: [9, 1, 1]}\nsubstrate: {builder: graphene}\n",
     ["film.crystal.miller", "supported range"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: rgo, o_to_c: 0.1, groups: [amine]}\n",
     ["substrate.rgo.groups.0", "'hydroxyl', 'epoxy' or 'carboxyl'"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: rgo, o_to_c: 0.9}\n",
     ["substrate.rgo.o_to_c", "less than or equal to 0.5"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: rgo, o_to_c: -0.1}\n",
     ["substrate.rgo.o_to_c", "greater than or equal to 0"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: nanotube}\n",
     ["substrate", "'nanotube'", "'crystal', 'graphene', 'rgo', 'n_graphene', 'amorphous_carbon', 'amorphous', 'cluster'"]),
    ("name: t\nfilm: {builder: rgo, o_to_c: 0.1}\nsubstrate: {structure: Si, miller: [1, 1, 1]}\n",
     ["film.builder: 'rgo' can only be a substrate", "film builders: crystal, amorphous_carbon, amorphous, cluster"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: cluster, n_atoms: 4}\n",
     ["substrate.builder: 'cluster' can only be a film"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1], colour: red}\nsubstrate: {builder: graphene}\n",
     ["film.crystal.colour", "Extra inputs are not permitted"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: n_graphene, n_fraction: 0.05, kind: amino}\n",
     ["substrate.n_graphene.kind", "'graphitic' or 'pyridinic'"]),
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: graphene}\nregistry: sideways\n",
     ["registry", "'as_built', 'coupled' or 'non_aligned'"]),
])
def test_bad_recipe_names_field_and_valid_options(tmp_path, text, pieces):
    with pytest.raises(RecipeError) as e:
        load_recipe(_write(tmp_path, text))
    for p in pieces:
        assert p in str(e.value), str(e.value)


@pytest.mark.parametrize("text,piece", [
    ("name: t\nfilm: {structure: Si, miller: [1, 1, 1]\n", "is not valid YAML"),
    ("name: [t\n", "is not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
    ("name: t\n\tfilm: x\n", "is not valid YAML"),
])
def test_malformed_yaml(tmp_path, text, piece):
    with pytest.raises(RecipeError, match=piece):
        load_recipe(_write(tmp_path, text))


def test_yaml_loader_refuses_python_tags(tmp_path):
    p = _write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(p)


def test_unknown_recipe_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="unknown recipe 'nope'; available: .*fe3o4_rgo"):
        load_recipe("nope")
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.yaml")


def test_no_match_within_bounds_names_the_bound():
    r = InterfaceRecipe.model_validate({
        "name": "t", "film": {"structure": "Fe3O4", "miller": [1, 1, 1], "layers": 1},
        "substrate": {"builder": "graphene"}, "match": {"max_strain_pct": 0.2, "max_area_A2": 60}})
    with pytest.raises(RecipeError, match=r"match.* no lattice match .* raise max_strain_pct or max_area_A2"):
        r.build()


def test_unreachable_o_to_c_and_bad_termination_at_build_time():
    r = InterfaceRecipe.model_validate({
        "name": "t", "film": {"structure": "SiO2", "miller": [0, 0, 1], "layers": 1},
        "substrate": {"builder": "rgo", "o_to_c": 0.05, "groups": ["carboxyl"], "supercell": [1, 1]},
        "match": {"max_candidates": 1}})
    with pytest.raises(RecipeError, match="o_to_c: 0.05 cannot be reached within ±0.02 .* larger supercell"):
        r.build()
    r = InterfaceRecipe.model_validate({
        "name": "t", "film": {"structure": "Si", "miller": [1, 1, 1], "termination": 7},
        "substrate": {"builder": "graphene"}, "match": {"max_candidates": 1}})
    with pytest.raises(RecipeError, match="film.termination: index 7 out of range; valid: 1_Si"):
        r.build()


def test_recipe_hash_tracks_building_parameters_only():
    base = load_recipe("fe3o4_rgo")
    same = base.model_copy(update={"engine": "chgnet", "tasks": []})
    assert same.recipe_hash == base.recipe_hash
    data = base.model_dump()
    data["substrate"]["seed"] = 99
    assert InterfaceRecipe.model_validate(data).recipe_hash != base.recipe_hash


def test_thickness_in_angstrom_and_chosen_termination():
    r = InterfaceRecipe.model_validate({
        "name": "t", "film": {"structure": "Si", "miller": [1, 1, 1], "thickness_A": 12.0, "termination": 2},
        "substrate": {"builder": "graphene"}, "match": {"max_candidates": 1}})
    cands = r.build()
    assert {c.termination[0].split("_")[0] for c in cands} == {"2"}
    film = cands[0].interface.film
    z = film.cart_coords[:, 2]
    # whole bilayers (d111 = 3.135 Å) are stacked until their repeat heights reach 12 Å: ceil(12/3.135) = 4
    d111 = 5.431 / np.sqrt(3)
    assert len(np.unique(np.round(z, 1))) == 2 * int(np.ceil(12.0 / d111))
    assert np.ptp(z) + d111 >= 12.0
    assert cands[0].interface.substrate.composition.reduced_formula == "C"
