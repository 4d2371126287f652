"""The chunked MD driver on the ASE backend with ASE's EMT potential (a real, fast calculator): NVE
conservation, blow-up detection, retry then failed, checkpoint/restart continuity."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from contactflow.jobs.md import MDLimits, MDMaker, run_md
from contactflow.jobs.md_backends import AseBackend, MDBlowUp, MDConfig


def cu32():
    a = bulk("Cu", "fcc", 3.61, cubic=True).repeat((2, 2, 2))
    return a


def factory(config):
    return lambda a, v, s: AseBackend(a, EMT(), config, v)


def test_nve_conserves_energy_with_emt():
    # velocity Verlet at 2 fs for Cu at 300 K: total-energy fluctuations are ~1e-5 eV/atom; a drift bound
    # of 1 meV/atom/ps is 100× above that and far below what a wrong force/energy pairing gives
    cfg = MDConfig(ensemble="nve", temperature_K=300.0, timestep_fs=2.0, seed=1)
    run = run_md(cu32(), factory(cfg), cfg, 250, chunk=5, sample_interval=5)
    t, e, ek = (np.asarray(run.thermo[k]) for k in ("time_ps", "total_eV", "kinetic_eV"))
    drift = np.polyfit(t, e, 1)[0] / 32
    assert abs(drift) < 1e-3
    assert e.std() < 0.02 * ek.std()  # energy flows between kinetic and potential, the sum stays
    assert run.n_steps_done == 250 and len(run.frames) == 51


def test_temperature_explosion_is_detected():
    cfg = MDConfig(ensemble="nve", temperature_K=300.0, timestep_fs=60.0, seed=1)
    with pytest.raises(MDBlowUp, match="temperature explosion|moving at|non-finite|energy drift") as exc:
        run_md(cu32(), factory(cfg), cfg, 200, chunk=5)
    assert exc.value.step is not None and exc.value.step <= 200


@pytest.mark.slow
def test_absurd_timestep_is_retried_at_half_then_stored_failed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = MDMaker(engine="chgnet", ensemble="nve", timestep_fs=80.0, max_timestep_fs=100.0, n_steps=100,
                check_interval=5)
    monkeypatch.setattr(MDMaker, "backend_factory", lambda self, cfg, chunk, calculator=None: factory(cfg))
    monkeypatch.setattr("contactflow.engines.checks.check_elements", lambda *a, **k: None)
    doc, run = m.execute(cu32())
    assert run is None
    assert doc.state == "failed" and doc.attempts == 2
    assert "attempt 1 (timestep 80 fs)" in doc.failure_reason and "attempt 2 (timestep 40 fs)" in doc.failure_reason
    assert doc.timestep_fs == 40.0
    assert doc.mean_temperature_K is None and doc.diffusivity_m2_per_s is None  # no numbers from a failed run
    assert not list(tmp_path.glob("md_checkpoint_*.npz"))  # checkpoints of failed attempts are removed


class Interrupt(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("ensemble,thermostat", [("nve", "nose-hoover"), ("nvt", "langevin")])
def test_checkpoint_restart_continues_the_same_trajectory(tmp_path, ensemble, thermostat):
    cfg = MDConfig(ensemble=ensemble, temperature_K=500.0, timestep_fs=2.0, thermostat=thermostat, seed=4)
    kw = dict(chunk=5, sample_interval=5, checkpoint_interval=40, signature="s")
    ref = run_md(cu32(), factory(cfg), cfg, 100, checkpoint_path=tmp_path / "ref.npz", **kw)
    path = tmp_path / "ck.npz"

    def stop(step):
        if step == 55:
            raise Interrupt()

    with pytest.raises(Interrupt):
        run_md(cu32(), factory(cfg), cfg, 100, checkpoint_path=path, on_chunk=stop, **kw)
    assert path.is_file()
    resumed = run_md(cu32(), factory(cfg), cfg, 100, checkpoint_path=path, **kw)
    assert resumed.restarted_from_step == 40
    assert resumed.n_steps_done == 100
    assert resumed.thermo["step"] == ref.thermo["step"]  # history before the checkpoint kept, no gaps
    # same positions, velocities and (Langevin) noise stream: the continued run is the uninterrupted one
    np.testing.assert_allclose(resumed.final_positions, ref.final_positions, atol=1e-9)
    np.testing.assert_allclose(resumed.thermo["total_eV"], ref.thermo["total_eV"], atol=1e-9)
    # a checkpoint of other settings is not reused
    other = run_md(cu32(), factory(cfg), cfg, 100, checkpoint_path=path, **{**kw, "signature": "other"})
    assert other.restarted_from_step is None


def test_limits():
    lim = MDLimits()
    assert lim.max_temperature_K(300.0) == 1800.0
    assert lim.max_temperature_K(1000.0) == 5000.0


@pytest.mark.parametrize("barostat", ["iso", "xy"])
def test_npt_compresses_under_pressure(barostat):
    # EMT Cu (bulk modulus ≈ 135 GPa) at 5 GPa: volume −3.7 %, i.e. −1.2 % per length for iso; the xy
    # barostat leaves the out-of-plane vector alone (slabs with vacuum) and takes the strain in-plane
    a = cu32()
    cfg = MDConfig(ensemble="npt", temperature_K=300.0, timestep_fs=2.0, pressure_GPa=5.0, barostat=barostat,
                   barostat_damping_fs=100.0, seed=1)
    run = run_md(a, factory(cfg), cfg, 120, chunk=10)
    L0, L1 = a.cell.lengths(), np.linalg.norm(run.final_cell, axis=1)
    assert np.all(L1[:2] < L0[:2] * 0.995)
    if barostat == "xy":
        assert L1[2] == pytest.approx(L0[2])
    else:
        assert L1[2] < L0[2] * 0.995


def test_ase_backend_pulls_a_slab_apart():
    """Steered pulling on the ASE backend (EMT Cu(001) slab, bottom layer fixed, top layer pulled at
    20 Å/ps): the opening follows v·t, the interface resists (positive traction peak) and the work is
    positive."""
    from ase.build import fcc100

    from contactflow.jobs.md import bottom_indices, top_indices
    from contactflow.jobs.pull_off import pull_off_curve

    slab = fcc100("Cu", (2, 2, 4), vacuum=8.0, a=3.61)
    fixed, pulled = bottom_indices(slab, 0.5), top_indices(slab, 0.5)
    cfg = MDConfig(ensemble="nvt", thermostat="langevin", temperature_K=50.0, timestep_fs=2.0,
                   thermostat_damping_fs=50.0, fixed=fixed, pulled=pulled, pull_velocity_A_per_fs=0.02, seed=2)
    run = run_md(slab, factory(cfg), cfg, 150, chunk=5, sample_interval=5)
    t, d = np.asarray(run.pull["time_ps"]), np.asarray(run.pull["opening_A"])
    np.testing.assert_allclose(d, 0.02 * t * 1000.0, atol=1e-9)  # shifted by v·dt·n before each chunk
    area = float(np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
    c = pull_off_curve(d, run.pull["force_z_eV_per_A"], area, block=3, start_traction_GPa=0.0)
    assert c["peak_traction_GPa"] > 1.0  # metallic bonds: GPa-scale strength
    assert c["separated"]
    # static rigid W_sep of a (001) plane with the same potential: split the slab in two, 10 Å apart
    whole = slab.copy()
    whole.calc = EMT()
    top = whole.positions[:, 2] > np.median(whole.positions[:, 2])
    apart = whole.copy()
    apart.positions[top, 2] += 10.0
    apart.calc = EMT()
    w_sep = (apart.get_potential_energy() - whole.get_potential_energy()) / area * 16.02176634
    # measured: G = 2.39 J/m², W_sep = 2.27 J/m² (EMT Cu); 20 Å/ps adds some kinetic work
    assert 0.7 < c["fracture_energy_J_per_m2"] / w_sep < 1.5


def test_npt_asks_the_engine_for_the_stress_and_nvt_does_not():
    assert MDMaker(ensemble="nvt").md_properties() == ("energy", "forces")
    assert MDMaker(ensemble="nve").md_properties() == ("energy", "forces")
    assert MDMaker(ensemble="npt").md_properties() == ("energy", "forces", "stress")
