"""MD throughput through contactflow vs the same dynamics run bare.

1. ReaxFF: a 4-layer graphite cell (``--cells`` × ``--cells`` graphene cells per layer) with ``reaxff:cho``,
   NVT Nosé–Hoover at 300 K, 0.25 fs, QEq every step. Bare: a plain LAMMPS input (read_data, pair
   reaxff, fix qeq/reaxff, velocity create, fix nvt, one ``run N``). contactflow: ``MDMaker`` with its
   defaults (chunks of 10 steps with health checks, frames every 10 steps). Atom·steps per second of the
   MD loop only (setup excluded on both sides); the sides alternate, the ratio is the median of the
   per-pair ratios (target ≥ 0.95).
2. MLP: CHGNet Langevin MD of 16 Li atoms, contactflow's ASE backend vs ASE's ``Langevin`` with the same
   calculator called directly (ratio printed).
3. MLP replicas: ``--replicas`` Li systems advanced in lockstep (:func:`contactflow.jobs.md_replicas.run_replicas`),
   forces batched in one CHGNet call per step vs one call per replica (ratio printed; batching pays on a
   GPU, on a small CPU it may not).

Run: ``.venv/bin/python benchmarks/bench_md.py [--steps 400] [--reps 3] [--cells 3]``. Appends a JSON row
to ``benchmarks/results/bench_md.json``.
"""

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_md.json"
TARGET = 0.95


def graphite(cells: int):
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.structures.carbon import graphene_sheet, stack_layers

    return AseAtomsAdaptor.get_atoms(stack_layers(graphene_sheet((cells, cells), c_A=20.0), 4))


def bare_lammps(atoms, steps: int, tmp: Path) -> float:
    """Wall seconds of ``run steps`` in a plain LAMMPS input."""
    from ase.io import write

    from contactflow.engines.reaxff import import_lammps, resolve_ffield

    data = tmp / "graphite.data"
    write(data, atoms, format="lammps-data", specorder=["C"], atom_style="charge", masses=True, units="real")
    lmp = import_lammps().lammps(cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    lmp.commands_list([
        "units real", "atom_style charge", "atom_modify map array sort 0 0", f"read_data {data}",
        "pair_style reaxff NULL checkqeq yes", f"pair_coeff * * {resolve_ffield('cho')} C",
        "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes",
        "fix qeq all qeq/reaxff 1 0.0 10.0 1.0e-6 reaxff maxiter 400",
        "velocity all create 300.0 1 mom yes dist gaussian", "timestep 0.25",
        "fix integ all nvt temp 300.0 300.0 100.0", "thermo_style custom step pe", "thermo 100", "run 0 post no",
    ])
    t0 = time.perf_counter()
    lmp.command(f"run {steps} pre no post no")
    dt = time.perf_counter() - t0
    lmp.close()
    return dt


def contactflow_reaxff(atoms, steps: int, tmp: Path) -> float:
    from contactflow.jobs.md import MDMaker

    m = MDMaker(engine="reaxff:cho", ensemble="nvt", temperature_K=300.0, n_steps=steps, omp_threads=0,
                checkpoint_dir=str(tmp), checkpoint_interval=10**9, store_result=False)
    dt = m.validate(atoms)
    cfg = m._config(dt, [], [], 0.0)
    from contactflow.jobs.md import run_md

    run = run_md(atoms, m.backend_factory(cfg, m.check_interval), cfg, steps, chunk=m.check_interval,
                 sample_interval=m.sample_interval)
    return run.wall_s


def mlp_pair(steps: int) -> tuple[float, float]:
    """(contactflow ASE backend, bare ASE Langevin) wall seconds for CHGNet MD of 16 Li."""
    from ase import units
    from ase.build import bulk
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from contactflow.engines import get_calculator
    from contactflow.jobs.md import run_md
    from contactflow.jobs.md_backends import AseBackend, MDConfig

    li = bulk("Li", "bcc", 3.44, cubic=True).repeat((2, 2, 2))
    calc = get_calculator("chgnet", "cpu")
    cfg = MDConfig(ensemble="nvt", thermostat="langevin", temperature_K=600.0, timestep_fs=2.0, seed=1)
    run = run_md(li, lambda a, v, s: AseBackend(a, calc, cfg, v), cfg, steps, chunk=10, sample_interval=10)
    a = li.copy()
    a.calc = calc
    MaxwellBoltzmannDistribution(a, temperature_K=600.0, rng=np.random.default_rng(1))
    dyn = Langevin(a, timestep=2.0 * units.fs, temperature_K=600.0, friction=0.01 / units.fs,
                   rng=np.random.default_rng(1))
    a.get_forces()
    t0 = time.perf_counter()
    dyn.run(steps)
    return run.wall_s, time.perf_counter() - t0


def replica_pair(n_rep: int, steps: int, device: str) -> tuple[float, float]:
    """(sequential, batched) wall seconds of ``n_rep`` 16-Li replicas in lockstep."""
    from ase.build import bulk

    from contactflow.jobs.md_replicas import run_replicas

    li = bulk("Li", "bcc", 3.44, cubic=True).repeat((2, 2, 2))
    out = []
    for mode in ("sequential", "batched"):
        t0 = time.perf_counter()
        run_replicas([li] * n_rep, "chgnet", [600.0] * n_rep, steps, timestep_fs=2.0, batch=mode, device=device)
        out.append(time.perf_counter() - t0)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--mlp-steps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the MLP part")
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    atoms = graphite(args.cells)
    n = len(atoms)
    ratios, bare_rates, cf_rates = [], [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bare_lammps(atoms, 20, tmp)  # warm-up (library load)
        contactflow_reaxff(atoms, 20, tmp)  # warm-up (imports)
        for rep in range(args.reps):
            order = ("bare", "cf") if rep % 2 == 0 else ("cf", "bare")
            t = {}
            for side in order:
                t[side] = (bare_lammps if side == "bare" else contactflow_reaxff)(atoms, args.steps, tmp)
            b, c = n * args.steps / t["bare"], n * args.steps / t["cf"]
            bare_rates.append(b)
            cf_rates.append(c)
            ratios.append(c / b)
            print(f"rep {rep}: bare {b:,.0f} atom·steps/s, contactflow {c:,.0f} atom·steps/s, ratio {c / b:.3f}")
    ratio = statistics.median(ratios)
    print(f"ReaxFF ({n} atoms, {args.steps} steps): contactflow / bare LAMMPS = {ratio:.3f} "
          f"(target ≥ {TARGET}) {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
    cf_mlp, bare_mlp = mlp_pair(args.mlp_steps)
    mlp_ratio = bare_mlp / cf_mlp
    print(f"MLP (CHGNet, 16 Li, {args.mlp_steps} steps): contactflow {16 * args.mlp_steps / cf_mlp:,.1f} "
          f"atom·steps/s, bare ASE Langevin {16 * args.mlp_steps / bare_mlp:,.1f}; ratio {mlp_ratio:.3f}")
    t_seq, t_bat = replica_pair(args.replicas, args.mlp_steps, args.device)
    rep_ratio = t_seq / t_bat
    print(f"MLP replicas ({args.replicas} × 16 Li, {args.mlp_steps} steps): sequential "
          f"{args.replicas * 16 * args.mlp_steps / t_seq:,.1f} atom·steps/s, batched "
          f"{args.replicas * 16 * args.mlp_steps / t_bat:,.1f}; batched/sequential throughput {rep_ratio:.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    row = {"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "n_atoms": n,
           "steps": args.steps, "reaxff_ratio": ratio, "reaxff_ratios": ratios,
           "bare_atom_steps_per_s": statistics.median(bare_rates), "cf_atom_steps_per_s": statistics.median(cf_rates),
           "mlp_ratio": mlp_ratio, "replicas": args.replicas, "replica_batched_over_sequential": rep_ratio,
           "target": TARGET}
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
