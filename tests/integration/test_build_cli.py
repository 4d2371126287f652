"""``contactflow recipes list|show`` and ``contactflow build`` as the installed executable, on the real
embedded store: files, summary JSON and stored InterfaceDocs agree with each other and with the physics."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.io import read
from pymatgen.core import Structure

from contactflow.recipes import available_recipes, load_recipe

EXE = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"


def run(args, timeout=300):
    env = dict(os.environ)  # store_uri has set CONTACTFLOW_MONGO_URI / CONTACTFLOW_DB for this test
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_recipes_list_and_show(store_uri):
    out = run(["recipes", "list", "--format", "json"])
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {r["name"] for r in rows} == set(available_recipes())
    fe = next(r for r in rows if r["name"] == "fe3o4_rgo")
    assert fe["source"] == "shipped" and "rGO" in fe["substrate"]
    show = run(["recipes", "show", "fe3o4_rgo"])
    assert show.returncode == 0, show.stderr
    text = show.stdout
    assert text.startswith(f"# recipe_hash: {load_recipe('fe3o4_rgo').recipe_hash}")
    assert yaml.safe_load(text) == load_recipe("fe3o4_rgo").model_dump(mode="json")


@pytest.mark.slow
def test_build_writes_structures_summary_and_stores_docs(store, tmp_path):
    out_dir = tmp_path / "built"
    res = run(["build", "si_graphite", "--out", str(out_dir)])
    assert res.returncode == 0, res.stderr
    summary = json.loads((out_dir / "si_graphite_summary.json").read_text())
    assert summary["recipe_name"] == "si_graphite" and summary["n_candidates"] >= 1
    recipe = load_recipe("si_graphite")
    for row in summary["candidates"]:
        atoms = read(row["files"][0], format="extxyz")
        cif = Structure.from_file(row["files"][1])
        assert len(atoms) == len(cif) == row["n_atoms"] == row["n_film_atoms"] + row["n_substrate_atoms"]
        assert np.linalg.norm(np.cross(*atoms.cell[:2])) == pytest.approx(row["area_A2"], abs=1e-3)
        assert row["strain_pct"] <= recipe.match.max_strain_pct
        assert row["film_composition"] == {"Si": row["n_film_atoms"]}
        assert row["substrate_composition"] == {"C": row["n_substrate_atoms"]}
        labels = atoms.arrays["interface_label"]
        assert (labels == "film").sum() == row["n_film_atoms"]
        assert atoms.arrays["fixed"][labels == "film"].sum() == 0 and atoms.arrays["fixed"].sum() > 0
        assert row["cross_min_distance_A"] >= 1.0 and row["min_distance_A"] >= 0.7
        doc = store.get("interfaces", row["interface_id"])
        assert doc["recipe_name"] == "si_graphite" and doc["n_atoms"] == row["n_atoms"]
        assert doc["recipe_hash"] == summary["recipe_hash"]
    # building again refuses to overwrite the files without --force, then replaces, never duplicates
    again = run(["build", "si_graphite", "--out", str(out_dir)])
    assert again.returncode == 2 and "already exists; pass --force" in again.stderr
    assert run(["build", "si_graphite", "--out", str(out_dir), "--force"]).returncode == 0
    assert store.count("interfaces") == summary["n_candidates"]


@pytest.mark.slow
def test_build_from_yaml_file_reports_o_to_c(store, tmp_path):
    f = tmp_path / "my_rgo.yaml"
    f.write_text(
        "name: my_rgo\n"
        "film: {structure: LiF, miller: [0, 0, 1], layers: 1}\n"
        "substrate: {builder: rgo, o_to_c: 0.12, groups: [hydroxyl, epoxy, carboxyl], vacancies: 1, seed: 4}\n"
        "match: {max_strain_pct: 3.0, max_area_A2: 150, max_candidates: 1}\n"
    )
    res = run(["build", str(f), "--out", str(tmp_path / "o"), "--format", "json"])
    assert res.returncode == 0, res.stderr
    rows = json.loads((tmp_path / "o" / "my_rgo_summary.json").read_text())["candidates"]
    assert rows and all(abs(r["substrate_o_to_c"] - 0.12) <= 0.02 for r in rows)
    sub = rows[0]["substrate_composition"]
    assert sub["O"] / sub["C"] == pytest.approx(rows[0]["substrate_o_to_c"], abs=1e-3)
    assert store.count("interfaces", {"recipe_name": "my_rgo"}) == len(rows)


@pytest.mark.slow
@pytest.mark.parametrize("content,needle", [
    ("name: bad\nfilm: {structure: Si, miller: [1, 1, 1]\n", "is not valid YAML"),
    ("name: bad\nfilm: {structure: Si, miller: [1, 1, 1]}\nsubstrate: {builder: rgo, o_to_c: 0.9}\n",
     "substrate.rgo.o_to_c"),
])
def test_bad_recipe_file_exits_2_and_stores_nothing(store, tmp_path, content, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    res = run(["build", str(f), "--out", str(tmp_path / "o")])
    assert res.returncode == 2
    assert res.stderr.startswith("error:") and needle in res.stderr
    assert store.count("interfaces") == 0
    assert not (tmp_path / "o").exists()
