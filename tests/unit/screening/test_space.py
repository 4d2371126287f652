"""Screening space files: valid ones map onto recipes; bad ones give one line naming the field."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from screening_toy import toy, toy_space
from contactflow.screening import ScreeningSpaceError, load_space, recipe_for, space_from_mapping

CLI = str(Path(sys.executable).parent / "contactflow")


def bad(**over) -> str:
    with pytest.raises(ScreeningSpaceError) as exc:
        space_from_mapping(toy_space(**over), "toy")
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_variables_map_onto_recipe_fields():
    sp = toy(variables=[{"path": "substrate.o_to_c", "low": 0.0, "high": 0.3},
                        {"path": "substrate.vacancies", "type": "int", "low": 0, "high": 4},
                        {"path": "substrate.groups", "choices": [["hydroxyl"], ["epoxy", "carboxyl"]]}])
    rec = recipe_for(sp, {"o_to_c": 0.2, "vacancies": 3, "groups": ["epoxy", "carboxyl"]}, name="v1")
    assert (rec.substrate.o_to_c, rec.substrate.vacancies, rec.substrate.groups) == (0.2, 3, ["epoxy", "carboxyl"])
    assert rec.name == "v1" and rec.film.structure == "Si"
    assert sp.width == 1 + 1 + 2  # one-hot choice
    assert sp.variables[1].decode(0.99) == 4 and sp.variables[2].decode(0.6) == ["epoxy", "carboxyl"]
    assert sp.task_names == ["adhesion", "descriptors"]


def test_shipped_example_space_is_valid():
    sp = load_space("rgo_oc")
    assert sp.task_names == ["adhesion", "descriptors"]
    assert {c.field for c in sp.constraints} == {"n_atoms", "strain_pct"}


@pytest.mark.parametrize("over, expect", [
    ({"variables": [{"path": "substrate.o_to_cc", "low": 0, "high": 0.2}]},
     "variables.o_to_cc.path: 'substrate.o_to_cc' maps to no recipe field; fields of substrate:"),
    ({"variables": [{"path": "substrate.o_to_c", "low": 0, "high": 0.9}]},
     "variables.o_to_c: value 0.9 gives an invalid recipe: substrate.rgo.o_to_c: Input should be less than or equal to 0.5"),
    ({"variables": [{"path": "substrate.groups", "choices": [["hydroxyl"], ["amine"]]}]},
     "variables.groups: value ['amine'] gives an invalid recipe"),
    ({"variables": [{"path": "substrate.o_to_c", "low": 0.3, "high": 0.1}]}, "low must be below high"),
    ({"variables": [{"path": "substrate.vacancies", "type": "int", "low": 0}]}, "type int needs 'low' and 'high'"),
    ({"objectives": [{"field": "adhesion.w_sep", "direction": "maximize"}]},
     "objectives: 'adhesion.w_sep': the adhesion task's AdhesionDoc has no field 'w_sep'; numeric fields:"),
    ({"objectives": [{"field": "magic.w_sep_J_per_m2", "direction": "maximize"}]},
     "objectives: 'magic.w_sep_J_per_m2': no task 'magic' produces it; tasks: adhesion"),
    ({"objectives": [{"field": "adhesion.w_sep_J_per_m2", "direction": "upward"}]}, "objectives.0(adhesion.w_sep_J_per_m2).direction"),
    ({"constraints": [{"field": "n_atoms"}]}, "give 'min' and/or 'max'"),
    ({"constraints": [{"field": "atoms", "max": 3}]}, "constraints: 'atoms' is neither a candidate field"),
    ({"features": ["o_to_c", "colour"]}, "unknown feature(s) 'colour'; valid:"),
    ({"recipe": "no_such_recipe"}, "recipe: unknown recipe 'no_such_recipe'"),
    ({"sneaky": 1}, "sneaky: Extra inputs are not permitted"),
])
def test_bad_spaces_give_one_line_naming_the_field(over, expect):
    assert expect in bad(**over)


def test_cli_bad_space_file_one_error_line_exit_2(tmp_path):
    data = toy_space(variables=[{"path": "film.thickness", "low": 5, "high": 9}])
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    env = dict(os.environ, CONTACTFLOW_HOME=str(tmp_path / "home"))
    r = subprocess.run([CLI, "screen", str(p), "--budget", "2"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: variables.thickness.path: 'film.thickness' maps to no "
                                                   "recipe field; fields of film:"), r.stderr


def test_space_file_that_is_not_yaml(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: [unclosed")
    with pytest.raises(ScreeningSpaceError, match=r"^space .*s.yaml: not valid YAML"):
        load_space(p)
    with pytest.raises(ScreeningSpaceError, match="screening space file not found: nope"):
        load_space("nope")
