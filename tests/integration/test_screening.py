"""A tiny real screen through the real pipeline and store: SnO2(110)/rGO with CHGNet+D3, rigid W_sep
(adhesion.relax=false) and descriptors, budget 3 (two Sobol designs, then one more batch) via the CLI,
then ``screen show``; a rerun with the same budget runs nothing (resumed from the store)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contactflow.paths import WORKFLOWS_DIR

CLI = str(Path(sys.executable).parent / "contactflow")


@pytest.mark.slow
def test_tiny_real_screen(store, tmp_path):
    data = yaml.safe_load((WORKFLOWS_DIR / "screening" / "rgo_oc.yaml").read_text())
    data["name"] = "tiny"
    data["surrogate"] = {"initial": 2, "pool": 8, "mc_samples": 16}
    data["sets"] = ["adhesion.relax=false", "prepare.registry_grid=1", "prepare.gap_points=3"]
    space = tmp_path / "tiny.yaml"
    space.write_text(yaml.safe_dump(data))
    env = dict(os.environ)
    r = subprocess.run([CLI, "screen", str(space), "--budget", "3", "--batch", "2", "--plot", str(tmp_path / "p.png")],
                       capture_output=True, text=True, env=env, timeout=3000, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "batch 0 (initial): 2/3 evaluated" in r.stderr and "batch 1 (acquisition): 3/3 evaluated" in r.stderr
    (doc,) = store.find("screening")
    assert [e["state"] for e in doc["evaluations"]] == ["successful"] * 3, doc["evaluations"]
    for e in doc["evaluations"]:
        (key,) = e["doc_keys"]["adhesion"]
        ad = store.get("adhesion", key)
        assert ad["recipe_name"] == e["recipe_name"] and ad["w_sep_J_per_m2"] == e["values"]["adhesion.w_sep_J_per_m2"]
        assert e["features"]["n_atoms"] <= 160
    assert doc["evaluations"][2]["predicted"]  # the GP's prediction at proposal time is kept
    assert doc["pareto"] and len(doc["hypervolume_history"]) == 2
    assert (tmp_path / "p.png").stat().st_size > 10_000
    n_jobs = store.db["jobs"].count_documents({})
    r = subprocess.run([CLI, "screen", str(space), "--budget", "3"], capture_output=True, text=True, env=env,
                       timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert store.db["jobs"].count_documents({}) == n_jobs  # nothing ran again
    assert "Pareto set — tiny" in r.stdout
