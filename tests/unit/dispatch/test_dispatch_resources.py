"""Job type → FireWorks category, and worker category parsing."""

import math

import pytest
from jobflow import Job

from contactflow.dispatch.resources import (
    PROFILES, category_for_engine, category_for_job, check_category, worker_categories,
)
from contactflow.errors import CategoryError
from contactflow.jobs.adhesion import AdhesionMaker


@pytest.mark.parametrize("spec,cat", [
    ("chgnet", "gpu"), ("chgnet+d3", "gpu"), ("mace:potentials/mlp/x.model+d3", "gpu"),
    ("cp2k:pbe-d3", "cpu"), ("vasp", "cpu"), ("reaxff:Fe_O_C_H", "cpu"), (None, "small"),
])
def test_engine_categories(spec, cat):
    assert category_for_engine(spec) == cat


def test_job_category_from_maker_engine_and_explicit_override():
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(3), ["Si"], [[0, 0, 0]])
    assert category_for_job(AdhesionMaker(engine="chgnet+d3").make(s, "if-x")) == "gpu"
    # a job without a Maker (analysis function) is small
    j = Job(math.sqrt, function_args=(4,))
    assert category_for_job(j) == "small"
    j.update_config({"manager_config": {"_category": "cpu"}})
    assert category_for_job(j) == "cpu"
    j.update_config({"manager_config": {"_category": "tpu"}})
    with pytest.raises(CategoryError, match="unknown category 'tpu'; valid categories: gpu, cpu, small"):
        category_for_job(j)


def test_worker_categories():
    assert worker_categories(None) == "" and worker_categories(["any"]) == ""
    assert worker_categories(["gpu", "small", "gpu"]) == ["gpu", "small"]
    with pytest.raises(CategoryError, match="valid categories: gpu, cpu, small, any"):
        worker_categories(["GPU"])
    with pytest.raises(CategoryError):
        check_category("any", allow_any=False)


def test_profiles_ask_for_what_the_category_means():
    assert PROFILES["gpu"].gres == "gpu:1"
    assert PROFILES["cpu"].ntasks > 1 and PROFILES["cpu"].gres is None  # multi-core DFT, no GPU
    assert PROFILES["small"].ntasks == 1 and PROFILES["small"].cpus_per_task == 1
    assert "gres" not in PROFILES["small"].qadapter_fields()
