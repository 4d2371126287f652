"""``contactflow dataset|train|active-learn`` from the shell: bad input gets one specific error line and
exit code 2 with the store untouched; extxyz import/export round-trips through the real store."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

CLI = str(Path(sys.executable).parent / "contactflow")


def cli(*args, timeout=300):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(os.environ), timeout=timeout)


def _frames():
    from contactflow.mlp.plans import graphene_bilayer

    out = []
    for k, gap in enumerate((3.2, 3.6)):
        a = graphene_bilayer(gap)
        a.calc = SinglePointCalculator(a, energy=-36.0 - 0.01 * k, forces=np.full((4, 3), 0.01 * k))
        a.info.update(system="C bilayer", source="traction")
        b = a.copy()
        b.calc = None
        b.info["REF_energy"] = a.get_potential_energy()
        b.arrays["REF_forces"] = a.get_forces()
        out.append(b)
    return out


def test_import_list_export_round_trip(store, tmp_path):
    src = tmp_path / "in.extxyz"
    write(src, _frames(), format="extxyz")
    for _ in range(2):  # importing twice stores each configuration once
        r = cli("dataset", "import", "gb", str(src), "--split", "test")
        assert r.returncode == 0, r.stderr
    assert store.count("labels", {"dataset": "gb", "split": "test"}) == 2
    r = cli("dataset", "list", "--dataset", "gb", "--format", "csv")
    assert r.returncode == 0 and "gb,test,C bilayer,traction,successful,2" in r.stdout
    out = tmp_path / "out.extxyz"
    assert cli("dataset", "export", "gb", str(out)).returncode == 0
    from contactflow.mlp.data import read_extxyz

    back = read_extxyz(out)
    assert sorted(a.get_potential_energy() for a in back) == [-36.01, -36.0]


def test_bad_input_is_named_and_exits_2(store, tmp_path):
    unlabelled = tmp_path / "unlabelled.extxyz"
    write(unlabelled, _frames()[0], format="extxyz", write_info=False)
    cases = [
        (("dataset", "import", "gb", str(unlabelled)), "has no REF_energy / REF_forces labels"),
        (("train", "nosuch"), "no successful labelled configuration"),
        (("train", "nosuch", "--members", "0"), "n_members must be"),
        (("dataset", "label", "--plan", "nope"), "unknown sampling plan 'nope'; valid: lisic"),
        (("dataset", "label", "--split", "validation"), "split must be 'train' or 'test'"),
        (("dataset", "label", "--engine", "chgnet"), "needs a DFT engine spec"),
        (("dataset", "export", "gb", str(tmp_path / "x.txt")), "must end in .extxyz"),
        (("dataset", "import", "gb", str(tmp_path / "missing.extxyz")), "no such file"),
        (("active-learn", "gb", "--model-dir", str(tmp_path / "none")), "does not exist; train one first"),
        (("active-learn", "gb", "--model-dir", str(tmp_path), "--workflow", "x"), "unknown active-learning workflow"),
    ]
    for args, msg in cases:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert msg in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    assert store.count("labels", {}) == 0 and store.count("models", {}) == 0


@pytest.mark.skipif(shutil.which("cp2k_shell.psmp") is None, reason="Debian cp2k not installed (setup.sh)")
def test_label_keeps_labels_already_in_write_dir(store, tmp_path):
    """A labelling run from a store that never saw the file's labels must not drop them on rewrite (it did:
    the file was rewritten from the store alone) nor relabel them."""
    from contactflow.mlp.data import read_extxyz
    from contactflow.mlp.plans import plan

    smallest = sorted(plan("lisic", "train", 0), key=len)[0]
    marked = smallest.copy()
    marked.info["REF_energy"] = -999.0
    marked.arrays["REF_forces"] = np.zeros((len(marked), 3))
    write(tmp_path / "train.extxyz", [marked], format="extxyz")
    r = cli("dataset", "label", "--plan", "lisic", "--split", "train", "--limit", "2", "--write-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "1 labelled configurations already there" in r.stderr
    assert "1 labelled, 0 failed" in r.stdout and "1 duplicates skipped" in r.stdout, r.stdout
    energies = sorted(a.get_potential_energy() for a in read_extxyz(tmp_path / "train.extxyz"))
    assert len(energies) == 2 and energies[0] == -999.0 and -999.0 < energies[1] < 0
