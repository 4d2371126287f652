"""Many independent structures through the model as one batch vs one at a time, on the same device.

1. Registry scan with relaxation: a graphene bilayer (``--cells``² cells per layer) with the top layer shifted
   on an n × n grid of in-plane registries (``--grid`` 6: 36 structures), bottom layer fixed, relaxed in
   lockstep for ``--relax-steps`` FIRE steps (:func:`contactflow.jobs.relax.relax_many`): every step one
   batched forward pass for all structures not yet converged, vs one structure after another
   (the same optimizers; only the evaluation path differs). Final energies of the two paths must agree.
2. MD replicas: ``--replicas`` (8) copies of 16-atom bcc Li, Langevin, ``--md-steps`` steps in lockstep
   (:func:`contactflow.jobs.md_replicas.run_replicas`), batched vs one by one.
3. Where ``torch-sim`` is installed: MLP MD throughput of contactflow (``MDMaker``, one system) vs
   torch-sim's batched ``integrate`` on the same MACE model and system (target: contactflow within 1.5×).
   Not installed on the development machine (no GPU there): the script says so.

Ratios are one-at-a-time time / batched time (higher: the batch is faster; target ≥ 3 on a GPU). On a small
CPU the batch is usually slower; there contactflow's ``auto`` keeps one at a time (the ``auto`` choice is
printed). Run on the device to measure: ``.venv/bin/python benchmarks/bench_batch.py [--device cuda]``.
Appends a JSON row to ``benchmarks/results/bench_batch.json``.
"""

import argparse
import json
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_batch.json"
TARGET = 3.0


def registry_structures(cells: int, grid: int):
    """Bilayer graphene with the top layer shifted to each registry of an n × n grid; bottom layer fixed."""
    from ase.constraints import FixAtoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.structures.carbon import graphene_sheet, stack_layers
    from contactflow.structures.separation import registry_shifts, shifted

    atoms = AseAtomsAdaptor.get_atoms(stack_layers(graphene_sheet((cells, cells), c_A=20.0), 2))
    z = atoms.positions[:, 2]
    top = [i for i in range(len(atoms)) if z[i] > z.mean()]
    bottom = [i for i in range(len(atoms)) if z[i] <= z.mean()]
    out = []
    for s in registry_shifts(grid):
        a = shifted(atoms, top, s)
        a.set_constraint(FixAtoms(indices=bottom))
        out.append(a)
    return out


def relax_pair(structs, engine: str, device: str, steps: int) -> tuple[float, float, float]:
    """(one at a time s, batched s, largest energy difference eV) of a lockstep relaxation."""
    from contactflow.engines.batch import BatchChooser, get_evaluator
    from contactflow.jobs.relax import relax_many

    ev = get_evaluator(engine, device)
    out, t = {}, {}
    for mode in ("sequential", "batched"):
        t0 = time.perf_counter()
        out[mode] = relax_many(structs, ev, BatchChooser(mode, device), 1e-6, steps, "FIRE")
        t[mode] = time.perf_counter() - t0
    de = max(abs(a.energy_eV - b.energy_eV) for a, b in zip(out["sequential"], out["batched"]))
    return t["sequential"], t["batched"], de


def replica_pair(n_rep: int, steps: int, engine: str, device: str) -> tuple[float, float]:
    from ase.build import bulk

    from contactflow.jobs.md_replicas import run_replicas

    li = bulk("Li", "bcc", 3.44, cubic=True).repeat((2, 2, 2))
    t = {}
    for mode in ("sequential", "batched"):
        t0 = time.perf_counter()
        run_replicas([li] * n_rep, engine, [600.0] * n_rep, steps, timestep_fs=2.0, batch=mode, device=device,
                     seeds=list(range(n_rep)))
        t[mode] = time.perf_counter() - t0
    return t["sequential"], t["batched"]


def torch_sim_pair(model_file: str, steps: int, device: str) -> str:
    """contactflow vs torch-sim MD on one MACE model and system, or why it was not measured."""
    try:
        import torch_sim as ts
        from torch_sim.models.mace import MaceModel
    except ImportError:
        return "torch-sim is not installed here: MD throughput against torch-sim not measured"
    from ase.build import bulk

    from contactflow.engines.calculators import _mace_model
    from contactflow.jobs.md import MDMaker

    si = bulk("Si", "diamond", 5.43, cubic=True).repeat((3, 3, 3))
    t0 = time.perf_counter()
    MDMaker(engine=f"mace:{model_file}", device=device, ensemble="nvt", thermostat="langevin", n_steps=steps,
            timestep_fs=1.0, checkpoint_interval=10**9).execute(si)
    t_cf = time.perf_counter() - t0
    model = MaceModel(model=_mace_model(model_file, device), device=device)
    integrator = getattr(getattr(ts, "Integrator", None), "nvt_langevin", None) or ts.integrators.nvt_langevin
    t0 = time.perf_counter()
    ts.integrate(system=si, model=model, n_steps=steps, timestep=0.001, temperature=300.0, integrator=integrator)
    t_ts = time.perf_counter() - t0
    return (f"MLP MD ({len(si)} Si, MACE {model_file}, {steps} steps): contactflow {t_cf:.2f} s, torch-sim "
            f"{t_ts:.2f} s; contactflow/torch-sim time {t_cf / t_ts:.2f} (target ≤ 1.5)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="chgnet")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--cells", type=int, default=4)
    ap.add_argument("--grid", type=int, default=6)
    ap.add_argument("--relax-steps", type=int, default=10)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--md-steps", type=int, default=20)
    ap.add_argument("--mace", default="potentials/mlp/lisic/member_0.model")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(args.threads)
    from contactflow.engines import resolve_device
    from contactflow.engines.batch import BatchChooser

    device = resolve_device(args.device)
    structs = registry_structures(args.cells, args.grid)
    relax_pair(structs[:2], args.engine, device, 1)  # warm-up (model load, first-call allocations)
    t_seq, t_bat, de = relax_pair(structs, args.engine, device, args.relax_steps)
    r_relax = t_seq / t_bat
    print(f"device {device}: relaxed registry scan, {len(structs)} × {len(structs[0])} atoms, {args.relax_steps} FIRE "
          f"steps ({args.engine}): one at a time {t_seq:.2f} s, batched {t_bat:.2f} s → batched speed-up "
          f"{r_relax:.2f}× (target ≥ {TARGET} on a GPU); energies agree to {de:.1e} eV")
    r_seq, r_bat = replica_pair(args.replicas, args.md_steps, args.engine, device)
    r_md = r_seq / r_bat
    print(f"device {device}: MD, {args.replicas} replicas × 16 Li, {args.md_steps} steps: one at a time "
          f"{r_seq:.2f} s, batched {r_bat:.2f} s → batched speed-up {r_md:.2f}× (target ≥ {TARGET} on a GPU)")
    print(f"contactflow's automatic choice on {device}: {BatchChooser('auto', device).decided or 'batched'}"
          if device == "cuda" else f"contactflow's automatic choice on {device}: sequential (the batch is "
          "used where it was measured faster: on a GPU)")
    ts_line = torch_sim_pair(args.mace, args.md_steps, device)
    print(ts_line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps({"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
                             "device": device, "engine": args.engine, "n_structures": len(structs),
                             "n_atoms": len(structs[0]), "relax_steps": args.relax_steps,
                             "relax_speedup_batched": r_relax, "relax_energy_max_diff_eV": de,
                             "replicas": args.replicas, "md_steps": args.md_steps, "md_speedup_batched": r_md,
                             "torch_sim": ts_line, "target": TARGET}) + "\n")


if __name__ == "__main__":
    main()
