"""Melt–quench of an amorphous box with an engine (step 2 of the procedure in
:mod:`contactflow.structures.amorphous`): the part of building an amorphous phase that needs a
calculator, kept out of ``structures/`` (which imports no engine).

- :func:`melt_quench`: the procedure on a periodic box.
- :func:`quencher`: ``quencher(engine, steps, seed)`` → the ``Structure → Structure`` function that
  :func:`~contactflow.structures.amorphous.amorphous_slab` takes; ``InterfaceRecipe.build(quench=...)``
  takes a per-side factory, ``lambda side: quencher(side.engine, side.melt_quench_steps, side.seed)``
  (what :mod:`contactflow.api` passes).
- :class:`MeltQuenchMaker`: the same as a jobflow job.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from jobflow import Maker
from pymatgen.core import Structure

from contactflow.jobs.base import contactflow_job


def melt_quench(
    structure: Structure,
    engine: str = "chgnet",
    *,
    t_melt_K: float = 3000.0,
    melt_steps: int = 150,
    quench_steps: int = 150,
    timestep_fs: float = 1.0,
    seed: int = 0,
    fmax: float = 0.1,
    relax_steps: int = 200,
) -> Structure:
    """Melt–quench a periodic box: Langevin NVT at ``t_melt_K`` for ``melt_steps``, linear quench to
    300 K over ``quench_steps``, then FIRE at fixed cell to ``fmax`` (eV/Å) or ``relax_steps``. Seeded
    (velocities and Langevin noise). With CHGNet a 64-atom a-Si box and 2 × 150 steps take ~30 s on 2
    cores and give a mostly four-fold coordinated network."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.engines import get_calculator
    from contactflow.engines.properties import ENERGY_FORCES

    atoms = AseAtomsAdaptor.get_atoms(structure)
    atoms.calc = get_calculator(engine, "cpu", ENERGY_FORCES)  # NVT MD and a fixed-cell FIRE: no stress
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=t_melt_K, rng=rng)
    dyn = Langevin(atoms, timestep_fs * units.fs, temperature_K=t_melt_K, friction=0.02, rng=rng)
    dyn.run(melt_steps)
    for k in range(quench_steps):
        dyn.set_temperature(temperature_K=t_melt_K + (300.0 - t_melt_K) * (k + 1) / quench_steps)
        dyn.run(1)
    FIRE(atoms, logfile=None).run(fmax=fmax, steps=relax_steps)
    out = AseAtomsAdaptor.get_structure(atoms)
    out.properties.update(structure.properties)
    out.properties.update(procedure="random_packing+melt_quench", engine=engine, t_melt_K=t_melt_K,
                          melt_steps=melt_steps, quench_steps=quench_steps)
    return out


def quencher(engine: str = "chgnet", steps: int = 150, seed: int = 0, **kwargs) -> Callable[[Structure], Structure]:
    """The quench function the structure builders take: ``steps`` each of melt and quench with ``engine``."""
    return partial(melt_quench, engine=engine, melt_steps=steps, quench_steps=steps, seed=seed, **kwargs)


@dataclass
class MeltQuenchMaker(Maker):
    """Job: melt–quench a periodic box (see :func:`melt_quench`); returns the quenched ``Structure``."""

    name: str = "melt_quench"
    engine: str = "chgnet"
    t_melt_K: float = 3000.0
    melt_steps: int = 150
    quench_steps: int = 150
    timestep_fs: float = 1.0
    seed: int = 0
    fmax: float = 0.1
    relax_steps: int = 200

    def __post_init__(self):
        from contactflow.jobs.md import _check_md_fields

        _check_md_fields(self, at_least_one=("melt_steps", "quench_steps"), counts=("relax_steps",),
                         positive=("t_melt_K", "timestep_fs", "fmax"), integers=("seed",))

    @contactflow_job
    def make(self, structure: Structure) -> Structure:
        """Melt–quench ``structure`` (a periodic box)."""
        return melt_quench(structure, self.engine, t_melt_K=self.t_melt_K, melt_steps=self.melt_steps,
                           quench_steps=self.quench_steps, timestep_fs=self.timestep_fs, seed=self.seed,
                           fmax=self.fmax, relax_steps=self.relax_steps)
