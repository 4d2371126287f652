"""MACE model files: loaded with weights_only=True, nothing in the file runs, the physics holds.

The model is a tiny, randomly initialised ScaleShiftMACE (``make_tiny_mace_model``): its energies mean
nothing, but it is the real mace-torch architecture, saved the way mace-torch saves models
(``torch.save(model)``), so it exercises the whole loading path in about a second.
"""

import contextlib
import os
import pickle

import numpy as np
import pytest
import torch
from ase.build import bulk

from contactflow.engines import engine_info, get_calculator
from contactflow.engines.mace_io import _allowed_globals, load_mace_model, make_tiny_mace_model
from contactflow.errors import EngineSpecError

MUST_BE = "must be a MACE model saved by mace-torch"
H = 1e-4  # Å, central-difference step
# Central differences err by h²/6 · |∂³E/∂x³| (~1e-8 eV/Å here) plus float64 round-off of E over 2h
# (~1e-10 eV/Å); measured: 9e-9 eV/Å on this cell, whose forces reach 0.24 eV/Å. The same model in
# float32 misses by 4e-3 eV/Å, and a wrong or missing force term by more still. 1e-5 eV/Å is 1000x
# the expected error and 400x below the float32 one.
FD_ATOL = 1e-5


@pytest.fixture(scope="module")
def tiny_model() -> torch.nn.Module:
    return make_tiny_mace_model(["Si", "C"], r_max=4.0, seed=0)


@pytest.fixture(scope="module")
def model_file(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("mace") / "tiny.model"
    torch.save(tiny_model, path)
    return path


def _sic_cell(seed: int = 1):
    """8-atom zinc-blende SiC (Si–C 1.89 Å), rattled by 0.05 Å so that forces are not zero."""
    atoms = bulk("SiC", "zincblende", a=4.36, cubic=True)
    atoms.rattle(stdev=0.05, seed=seed)
    return atoms


def _energy_forces(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces()


def test_tiny_model_is_a_float64_scaleshiftmace(tiny_model):
    assert type(tiny_model).__name__ == "ScaleShiftMACE"
    assert tiny_model.atomic_numbers.tolist() == [6, 14]
    assert float(tiny_model.r_max) == 4.0
    assert all(p.dtype == torch.float64 for p in tiny_model.parameters())
    assert not tiny_model.training


def test_loaded_model_is_the_saved_model(tiny_model, model_file):
    from mace.calculators import MACECalculator

    model = load_mace_model(str(model_file), "cpu")
    assert model is not tiny_model and type(model) is type(tiny_model)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert not model.training
    atoms = _sic_cell()
    e0, f0 = _energy_forces(atoms, MACECalculator(models=tiny_model, device="cpu", default_dtype="float64"))
    e1, f1 = _energy_forces(atoms, MACECalculator(models=model, device="cpu", default_dtype="float64"))
    assert e1 == pytest.approx(e0, abs=1e-10)
    np.testing.assert_allclose(f1, f0, atol=1e-10)


def test_forces_are_minus_the_energy_gradient(model_file):
    calc = get_calculator(f"mace:{model_file}", device="cpu")
    atoms = _sic_cell()
    energy, forces = _energy_forces(atoms, calc)
    assert np.isfinite(energy)
    assert np.abs(forces).max() > 1e-3  # the rattled cell has forces worth checking
    fd = np.zeros_like(forces)
    for i in range(len(atoms)):
        for k in range(3):
            shifted = []
            for sign in (1, -1):
                a = atoms.copy()
                a.positions[i, k] += sign * H
                shifted.append(_energy_forces(a, calc)[0])
            fd[i, k] = -(shifted[0] - shifted[1]) / (2 * H)
    np.testing.assert_allclose(forces, fd, atol=FD_ATOL, rtol=0)
    # translation invariance: the forces of a periodic cell sum to zero (round-off only)
    np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-10)


def test_d3_modifier_adds_the_standalone_d3_energy(model_file):
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    atoms = _sic_cell()
    e_mace, f_mace = _energy_forces(atoms, get_calculator(f"mace:{model_file}", device="cpu"))
    e_sum, f_sum = _energy_forces(atoms, get_calculator(f"mace:{model_file}+d3", device="cpu"))
    # the D3(BJ)-PBE parameters the engine layer documents
    d3 = TorchDFTD3Calculator(damping="bj", xc="pbe", device="cpu", cutoff=10.0, cnthr=10.0)
    e_d3, f_d3 = _energy_forces(atoms, d3)
    assert e_d3 < 0  # dispersion binds
    assert e_sum == pytest.approx(e_mace + e_d3, abs=1e-6)
    np.testing.assert_allclose(f_sum, f_mace + f_d3, atol=1e-6)


def test_engine_info_for_a_mace_file(model_file):
    info = engine_info(f"mace:{model_file}+d3", device="cpu")
    assert info.spec == f"mace:{model_file}+d3"
    assert info.model_path == str(model_file)
    assert info.model_hash.startswith("sha256:")
    for pkg in ("mace-torch", "e3nn", "torch", "torch-dftd"):
        assert info.versions[pkg] != "not installed"


class _SystemCall:
    """Unpickles to a call of os.system: what a malicious model file would contain."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _bad_files(tmp_path):
    marker = tmp_path / "executed"
    (tmp_path / "random.model").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "empty.model").write_bytes(b"")
    (tmp_path / "os_system_ref.model").write_bytes(pickle.dumps(os.system))
    (tmp_path / "os_system_call.model").write_bytes(pickle.dumps(_SystemCall(marker)))
    torch.save({"model": _SystemCall(marker)}, tmp_path / "torch_os_system.model")
    return marker


@pytest.mark.parametrize(
    "name",
    ["random.model", "empty.model", "os_system_ref.model", "os_system_call.model", "torch_os_system.model"],
)
def test_a_file_that_is_not_a_model_is_refused_without_running_it(tmp_path, name):
    marker = _bad_files(tmp_path)
    path = tmp_path / name
    with pytest.raises(EngineSpecError, match=MUST_BE) as err:
        load_mace_model(str(path), "cpu")
    assert "\n" not in str(err.value)
    with pytest.raises(EngineSpecError, match=MUST_BE):
        get_calculator(f"mace:{path}", device="cpu")
    assert not marker.exists()


def test_weights_without_a_model_are_refused(tiny_model, tmp_path):
    path = tmp_path / "state_dict.model"
    torch.save(tiny_model.state_dict(), path)
    with pytest.raises(EngineSpecError, match=f"holds a .*Dict, not a MACE model; the file {MUST_BE}"):
        load_mace_model(str(path), "cpu")


class _FxPayload(torch.nn.Module):
    """Pickles like a torch.fx GraphModule whose 'import block' writes a file when unpickled."""

    def __init__(self, marker):
        super().__init__()
        self.marker = str(marker)

    def __reduce__(self):
        from torch.fx.graph_module import reduce_graph_module

        body = {"_code": "\ndef forward(self, x):\n    return x\n"}
        payload = f"import pathlib; pathlib.Path({self.marker!r}).write_text('ran')\n"
        return (reduce_graph_module, (body, payload))


def test_code_pickled_as_a_graph_module_never_runs(tiny_model, tmp_path):
    from mace.calculators import MACECalculator

    # control: an ordinary unpickler runs the payload (that is why it needs a stand-in)
    control = tmp_path / "control"
    with contextlib.suppress(Exception):
        pickle.loads(pickle.dumps(_FxPayload(control)))
    assert control.exists()

    marker = tmp_path / "executed"
    evil = make_tiny_mace_model(["Si", "C"], r_max=4.0, seed=0)
    evil.products[0].symmetric_contractions.contractions[0].graph_opt_main = _FxPayload(marker)
    torch.save(evil, tmp_path / "evil.model")
    model = load_mace_model(str(tmp_path / "evil.model"), "cpu")
    assert not marker.exists()
    # the generated code is rebuilt by mace-torch, so the model still computes what it should
    atoms = _sic_cell()
    e0, _ = _energy_forces(atoms, MACECalculator(models=tiny_model, device="cpu", default_dtype="float64"))
    e1, _ = _energy_forces(atoms, MACECalculator(models=model, device="cpu", default_dtype="float64"))
    assert e1 == pytest.approx(e0, abs=1e-10)


def test_torchscript_in_the_file_is_never_loaded(model_file, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.jit.load called while loading a MACE model")

    monkeypatch.setattr(torch.jit, "load", refuse)
    assert type(load_mace_model(str(model_file), "cpu")).__name__ == "ScaleShiftMACE"


def test_the_allow_list_holds_classes_and_known_functions_only():
    import mace.modules

    gates = {f for f in mace.modules.gate_dict.values() if f is not None}
    names = set()
    for entry in _allowed_globals():
        obj, name = entry if isinstance(entry, tuple) else (entry, f"{entry.__module__}.{entry.__qualname__}")
        names.add(name)
        if name == "torch.fx.graph_module.reduce_graph_module":
            assert obj.__module__ == "contactflow.engines.mace_io"  # the inert stand-in
        elif isinstance(obj, type):
            assert issubclass(obj, torch.nn.Module | tuple) or name == "torch.fx._symbolic_trace.Tracer"
        else:
            assert obj in gates
    assert not any(n.startswith(("builtins.", "os.", "posix.", "subprocess.", "sys.")) for n in names)
    assert {"mace.modules.models.ScaleShiftMACE", "e3nn.o3._irreps.Irreps"} <= names


def test_importing_mace_leaves_torch_load_safe(tmp_path):
    import os

    from contactflow.engines.mace_io import import_mace

    import_mace()
    assert "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" not in os.environ
    # a pickle naming os.system is refused by a plain torch.load after mace was imported
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    p = tmp_path / "evil.pt"
    p.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        torch.load(p)
