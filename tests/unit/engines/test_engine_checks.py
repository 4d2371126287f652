"""Resource guards in ``check_elements``: a structure beyond an engine's practical size is refused at once,
with the figure, the limit and the override; CP2K failures are failures (exit 3), not numbers."""

import time

import pytest

from contactflow.engines.checks import (
    ENGINE_LIMITS, CalculationFailedError, ResourceLimitError, check_elements, estimate_memory_MB,
    memory_limit_MB,
)
from contactflow.errors import EXIT_FAILED_CALCULATION, ConfigError


@pytest.fixture(autouse=True)
def no_overrides(monkeypatch):
    for base in ENGINE_LIMITS:
        monkeypatch.delenv(f"CONTACTFLOW_MAX_ATOMS_{base.upper()}", raising=False)
    monkeypatch.delenv("CONTACTFLOW_MAX_MEMORY_GB", raising=False)


def test_cp2k_on_ten_thousand_atoms_is_refused_instantly_with_limit_and_override():
    symbols = ["Si"] * 10_000 + ["Sn"] * 10  # the Sn10 cluster on a 16x16 Si(111) slab
    check_elements("cp2k", ["Si"] * 8)  # warm the imports: what is timed is the check itself
    t0 = time.perf_counter()
    with pytest.raises(ResourceLimitError) as err:
        check_elements("cp2k", iter(symbols))  # any iterable, as the call sites pass
    assert time.perf_counter() - t0 < 1.0
    msg = str(err.value)
    assert "10,010-atom" in msg and "limit is 500 atoms" in msg and "CONTACTFLOW_MAX_ATOMS_CP2K=10010" in msg
    assert "\n" not in msg


def test_override_raises_the_atom_limit_then_the_memory_estimate_decides(monkeypatch):
    monkeypatch.setenv("CONTACTFLOW_MAX_ATOMS_CP2K", "20000")
    with pytest.raises(ResourceLimitError, match=r"estimated [\d,.]+ GB of memory.*CONTACTFLOW_MAX_MEMORY_GB="):
        check_elements("cp2k", ["Si"] * 10_010)
    monkeypatch.setenv("CONTACTFLOW_MAX_MEMORY_GB", "1e6")
    check_elements("cp2k", ["Si"] * 10_010)  # both overridden: accepted (nothing is computed here)


def test_memory_estimate_grows_with_size_and_settings():
    small, large = estimate_memory_MB("cp2k", ["Si"] * 64), estimate_memory_MB("cp2k", ["Si"] * 500)
    assert 200 < small < 2000 and large > 5 * small  # dense basis matrices: ~N^2
    assert estimate_memory_MB("cp2k:pbe-d3-tight", ["Si"] * 64) > small  # higher cutoff, larger grids
    assert estimate_memory_MB("cp2k", ["Fe"] * 64) > small  # more basis functions per atom
    # CHGNet: 4.8 MB per atom measured (1,000 Si atoms: +4.8 GB peak)
    assert estimate_memory_MB("chgnet+d3", ["Si"] * 1000) == pytest.approx(600 + 4800, rel=0.01)


def test_mlp_beyond_memory_is_refused_and_small_structures_pass(monkeypatch):
    check_elements("chgnet+d3", ["Si"] * 68)
    monkeypatch.setenv("CONTACTFLOW_MAX_MEMORY_GB", "2")
    assert memory_limit_MB() == 2048
    with pytest.raises(ResourceLimitError, match=r"'chgnet\+d3' on 1,000 atoms needs an estimated 5.3 GB.*"
                                                 r"2.0 GB allowed here \(CONTACTFLOW_MAX_MEMORY_GB\)"):
        check_elements("chgnet+d3", ["Si"] * 1000)


@pytest.mark.parametrize("value", ["abc", "-5", "0"])
def test_bad_override_is_a_config_error(monkeypatch, value):
    monkeypatch.setenv("CONTACTFLOW_MAX_ATOMS_CHGNET", value)
    with pytest.raises(ConfigError, match="CONTACTFLOW_MAX_ATOMS_CHGNET"):
        check_elements("chgnet", ["Si"])


def test_calculation_failure_exits_3():
    assert CalculationFailedError("CP2K failed: x").exit_code == EXIT_FAILED_CALCULATION == 3
    # a setup CP2K cannot run (spin-polarised PBE+U needs the Γ point; a 2-atom Fe cell needs k-points) is
    # this error before any SCF, with what to do (SCF and abort failures: tests/unit/engines/test_cp2k_engine.py)
    from ase.build import bulk

    from contactflow.engines.cp2k import ContactflowCP2K

    fe = bulk("Fe", "bcc", a=2.87, cubic=True)
    fe.calc = ContactflowCP2K("pbe-d3")
    try:
        with pytest.raises(CalculationFailedError, match="Γ point only.*supercell") as err:
            fe.get_potential_energy()
    finally:
        fe.calc.__del__()  # ASE's CP2K shuts its shell down here
    assert err.value.exit_code == 3 and "energy" not in fe.calc.results
