"""Engine specs, devices, provenance, and the default engine (CHGNet, optionally + D3) on bulk Si."""

import numpy as np
import pytest
import torch
from ase.build import bulk

from contactflow.engines import engine_info, get_calculator, parse_spec, resolve_device
from contactflow.errors import EngineSpecError

#: Materials Project elemental reference energy of Si (diamond, mp-149; PBE, VASP PAW), eV/atom.
MP_PBE_SI = -5.4253
#: CHGNet 0.3.0 (the model chgnet 0.4.2 loads by default) on ase.build.bulk("Si") (a = 5.43 Å).
CHGNET_SI = -5.3122


@pytest.mark.parametrize(
    "spec",
    ["nonsense", "chgnet+foo", "mace", "mace:", "mace:/no/such/file.model", "chgnet:arg", "", "  "],
)
def test_invalid_specs_name_the_valid_ones(spec):
    with pytest.raises(EngineSpecError, match="valid engine specs"):
        get_calculator(spec, device="cpu")


def test_parse_spec_canonical_form():
    assert parse_spec(" CHGNet + D3 ").canonical == "chgnet+d3"
    assert parse_spec("chgnet").modifiers == ()


def test_resolve_device():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(EngineSpecError, match="valid devices"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_falls_back_to_cpu():
    with pytest.warns(UserWarning, match="no GPU"):
        assert resolve_device("cuda") == "cpu"


def test_engine_info_records_versions_and_model_hash():
    info = engine_info("chgnet+d3", device="cpu")
    assert info.spec == "chgnet+d3"
    assert info.device == "cpu"
    for pkg in ("chgnet", "torch", "torch-dftd"):
        assert info.versions[pkg] not in ("", "not installed")
    assert info.model_hash.startswith("sha256:")
    assert info.model_path.endswith(".pth.tar") and "0.3.0" in info.model_path


def _si(calc_spec: str):
    atoms = bulk("Si")  # diamond, a = 5.43 Å, 2 atoms
    atoms.calc = get_calculator(calc_spec, device="cpu")
    return atoms.get_potential_energy() / len(atoms), atoms.get_forces()


@pytest.fixture(scope="module")
def si_chgnet():
    return _si("chgnet")


@pytest.mark.slow
def test_chgnet_bulk_si_energy(si_chgnet):
    e_per_atom, _ = si_chgnet
    # CHGNet is trained on MP PBE energies (MPtrj; Si needs no MP2020 correction), where diamond Si
    # is -5.425 eV/atom. CHGNet 0.3.0 lands 0.11 eV/atom above that (-5.312 at a = 5.43 Å, -5.314 at
    # its minimum near the PBE lattice constant 5.47 Å; CHGNet 0.2.0 gives -5.370). That 0.11 eV/atom
    # offset is a measured deviation of the universal model, recorded here, not a tolerance: the test
    # pins the shipped model's value (a changed model or a broken engine layer moves it) and checks the
    # offset has not grown.
    assert e_per_atom == pytest.approx(CHGNET_SI, abs=0.01)
    assert e_per_atom - MP_PBE_SI == pytest.approx(CHGNET_SI - MP_PBE_SI, abs=0.01)


@pytest.mark.slow
def test_chgnet_forces_vanish_on_the_perfect_crystal(si_chgnet):
    _, forces = si_chgnet
    assert np.abs(forces).max() < 1e-3  # every atom is an inversion centre of its neighbours


@pytest.mark.slow
def test_chgnet_equilibrium_lattice_is_near_pbe():
    energies = []
    for a in (5.35, 5.47, 5.60):  # PBE a0 = 5.47 Å (experiment 5.431 Å)
        atoms = bulk("Si", a=a)
        atoms.calc = get_calculator("chgnet", device="cpu")
        energies.append(atoms.get_potential_energy())
    assert energies[1] < min(energies[0], energies[2])


@pytest.mark.slow
def test_d3_lowers_the_chgnet_energy_a_little(si_chgnet):
    e_per_atom, _ = si_chgnet
    e_d3_per_atom, forces = _si("chgnet+d3")
    # D3(BJ)-PBE binds diamond Si by 0.314 eV/atom (torch-dftd, default 95 bohr cutoff); the engine
    # layer's 10 Å cutoff keeps 0.303 of it. Attractive, and small against the 5.3 eV/atom total.
    lowering = e_per_atom - e_d3_per_atom
    assert 0.01 < lowering < 0.35
    assert np.abs(forces).max() < 1e-3


# ------------------------------------------------------------------ issue 17: one canonical form per engine


@pytest.mark.parametrize("spec", ["chgnet+d3+d3", "chgnet + d3 +D3", "chgnet+d3+d3+d3"])
def test_repeated_modifier_is_refused(spec):
    from contactflow.engines import parse_spec
    from contactflow.errors import EngineSpecError

    with pytest.raises(EngineSpecError, match=r"modifier \+d3 given more than once .*each modifier may appear once"):
        parse_spec(spec)


@pytest.mark.parametrize("spec, canonical", [
    ("chgnet+d3", "chgnet+d3"), (" CHGNet + D3 ", "chgnet+d3"), ("CHGNET+d3", "chgnet+d3"),
    ("cp2k : PBE-D3 ", "cp2k:pbe-d3"), ("Cp2k", "cp2k:pbe-d3"), (" chgnet ", "chgnet"),
])
def test_case_whitespace_and_order_give_one_canonical_spec(spec, canonical):
    from contactflow.engines import parse_spec

    assert parse_spec(spec).canonical == canonical
    assert parse_spec(canonical).canonical == canonical  # canonical is a fixed point


@pytest.mark.parametrize("spec, fragment", [
    ("chgnet+", r"empty modifier '\+'"), ("mace:" + "a" * 5000, "cannot use the path"),
    ("mace:~no_such_user_cf/x.model", "cannot use the path"), ("chgnet\x00", "control characters"),
])
def test_odd_specs_are_spec_errors(spec, fragment):
    from contactflow.engines import parse_spec
    from contactflow.errors import EngineSpecError

    with pytest.raises(EngineSpecError, match=fragment):
        parse_spec(spec)
