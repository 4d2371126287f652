"""MD input checks: every bad input is a specific error before any compute."""

import os

import numpy as np
import pytest
from ase.build import bulk, molecule

from contactflow.engines.checks import UnsupportedElementsError
from contactflow.errors import ContactflowError
from contactflow.jobs.diffusion import DiffusionMaker
from contactflow.jobs.md import MDInputError, MDMaker, apply_inplane_strain, bottom_indices, top_indices
from contactflow.jobs.md_backends import maxwell_boltzmann_velocities, kinetic_energy_eV
from contactflow.jobs.pull_off import PullOffMaker


@pytest.fixture
def water_box():
    a = molecule("H2O")
    a.set_cell([8.0, 8.0, 8.0])
    a.center()
    a.pbc = True
    return a


def test_reaxff_file_missing_an_element_is_refused_before_the_run():
    si = bulk("Si", "diamond", 5.43)
    with pytest.raises(UnsupportedElementsError, match="Si"):
        MDMaker(engine="reaxff:cho").validate(si)


@pytest.mark.parametrize("T", [0.0, -10.0, float("nan")])
def test_temperature_must_be_positive(water_box, T):
    with pytest.raises(MDInputError, match="temperature_K must be > 0"):
        MDMaker(engine="reaxff:cho", temperature_K=T).validate(water_box)


def test_timestep_above_the_safe_bound(water_box):
    with pytest.raises(MDInputError, match="above the safe bound 1.0 fs for ReaxFF"):
        MDMaker(engine="reaxff:cho", timestep_fs=2.0).validate(water_box)
    with pytest.raises(MDInputError, match="safe bound 2.0 fs for an MLP with H"):
        MDMaker(engine="chgnet", timestep_fs=3.0).validate(water_box)
    with pytest.raises(MDInputError, match="safe bound 5.0 fs for an MLP"):
        MDMaker(engine="chgnet", timestep_fs=6.0).validate(bulk("Si", "diamond", 5.43))
    with pytest.raises(MDInputError, match="timestep_fs must be None or > 0"):
        MDMaker(engine="reaxff:cho", timestep_fs=0.0)
    # the defaults: 0.25 fs for ReaxFF, 0.5 fs for an MLP with H, 1 fs without; a raised bound is accepted
    assert MDMaker(engine="reaxff:cho").validate(water_box) == 0.25
    assert MDMaker(engine="chgnet").validate(water_box) == 0.5
    assert MDMaker(engine="chgnet").validate(bulk("Si", "diamond", 5.43)) == 1.0
    assert MDMaker(engine="reaxff:cho", timestep_fs=2.0, max_timestep_fs=3.0).validate(water_box) == 2.0


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_trajectory_dir(water_box, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(MDInputError, match="trajectory_dir .* is not writable"):
            MDMaker(engine="reaxff:cho", trajectory_dir=str(ro / "traj")).validate(water_box)
    finally:
        ro.chmod(0o700)


def test_trajectory_path_that_is_a_file(water_box, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(MDInputError, match="trajectory_dir .* is not writable"):
        MDMaker(engine="reaxff:cho", trajectory_dir=str(f)).validate(water_box)
    with pytest.raises(MDInputError, match="checkpoint_dir .* is not writable"):
        MDMaker(engine="reaxff:cho", checkpoint_dir=str(f / "sub")).validate(water_box)


@pytest.mark.parametrize("field,value,msg", [
    ("ensemble", "nph", "unknown ensemble"), ("thermostat", "berendsen", "unknown thermostat"),
    ("barostat", "z", "unknown barostat"), ("n_steps", 0, "n_steps must be"),
    ("check_interval", 0, "check_interval must be"),
])
def test_bad_settings(water_box, field, value, msg):
    with pytest.raises(MDInputError, match=msg):
        MDMaker(engine="reaxff:cho", **{field: value}).validate(water_box)


def test_errors_are_contactflow_errors():
    assert issubclass(MDInputError, ContactflowError)


def test_diffusion_and_pull_off_inputs(water_box):
    with pytest.raises(MDInputError, match="no Li atoms"):
        DiffusionMaker(engine="reaxff:cho").execute(water_box)
    with pytest.raises(MDInputError, match="two distinct temperatures"):
        DiffusionMaker(temperatures_K=(600.0, 600.0))
    with pytest.raises(MDInputError, match="temperatures_K must all be > 0"):
        DiffusionMaker(temperatures_K=(0.0, 600.0))
    with pytest.raises(MDInputError, match="unknown mode 'shear'; valid: velocity, steps"):
        PullOffMaker(mode="shear")


@pytest.mark.parametrize("maker,field,value,msg", [
    (MDMaker, "n_steps", -5, "MDMaker: n_steps must be an integer ≥ 1, got -5"),
    (MDMaker, "n_steps", "abc", "MDMaker: n_steps must be an integer ≥ 1, got 'abc'"),
    (MDMaker, "n_steps", 10.5, "n_steps must be an integer ≥ 1"),
    (MDMaker, "timestep_fs", -1.0, r"MDMaker: timestep_fs must be None or > 0 \(a finite number\), got -1.0"),
    (MDMaker, "temperature_K", "hot", "MDMaker: temperature_K must be > 0"),
    (MDMaker, "strain_pct", 150.0, r"MDMaker: strain_pct must be in \(-50, 100\) %, got 150.0"),
    (MDMaker, "fix_bottom_A", True, "fix_bottom_A must be ≥ 0"),
    (PullOffMaker, "pull_velocity_A_per_ps", 0.0, "PullOffMaker: pull_velocity_A_per_ps must be > 0"),
    (PullOffMaker, "equilibrate_steps", -1, "PullOffMaker: equilibrate_steps must be an integer ≥ 0, got -1"),
    (PullOffMaker, "max_opening_A", float("inf"), "max_opening_A must be > 0 \\(a finite number\\)"),
    (DiffusionMaker, "n_steps", 0, "DiffusionMaker: n_steps must be an integer ≥ 1, got 0"),
    (DiffusionMaker, "strains_pct", (0.0, -60.0), "DiffusionMaker: strains_pct must all be in"),
])
def test_maker_fields_are_checked_when_the_maker_is_made(maker, field, value, msg):
    with pytest.raises(MDInputError, match=msg) as exc:
        maker(**{field: value})
    assert isinstance(exc.value, ContactflowError) and isinstance(exc.value, ValueError)
    assert "\n" not in str(exc.value) and field in str(exc.value)


def test_lithiation_fields_are_checked():
    from contactflow.jobs.lithiation import LithiationMaker

    with pytest.raises(MDInputError, match="LithiationMaker: unknown region 'bulk'; valid: film, interface"):
        LithiationMaker(region="bulk")
    with pytest.raises(MDInputError, match="LithiationMaker: n_insertions must be an integer ≥ 1, got 0"):
        LithiationMaker(n_insertions=0)
    assert LithiationMaker(md_steps=0, relax_steps=0).md_steps == 0  # relax or MD may be skipped


def test_groups_strain_and_velocities():
    si = bulk("Si", "diamond", 5.43, cubic=True)
    z = si.positions[:, 2]
    assert bottom_indices(si, 0.1) == sorted(np.nonzero(z < 0.1)[0].tolist())
    assert top_indices(si, 0.1) == sorted(np.nonzero(z > z.max() - 0.1)[0].tolist())
    s = apply_inplane_strain(si, 2.0)
    assert s.cell.lengths()[:2] == pytest.approx(si.cell.lengths()[:2] * 1.02)
    assert s.cell.lengths()[2] == pytest.approx(si.cell.lengths()[2])
    np.testing.assert_allclose(s.get_scaled_positions(), si.get_scaled_positions(), atol=1e-12)
    m = si.get_masses()
    v = maxwell_boltzmann_velocities(m, 500.0, 3, frozen=[0])
    assert np.all(v[0] == 0)
    free = np.arange(1, len(si))
    from ase import units

    T = 2 * kinetic_energy_eV(m[free], v[free]) / (3 * len(free) * units.kB)
    assert T == pytest.approx(500.0)
    assert np.abs((m[:, None] * v).sum(0)).max() < 1e-12
