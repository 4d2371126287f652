"""Traction–separation evaluation: contactflow's path (``EnergyEvaluator`` mode ``auto``) vs the
sequential baseline (one ASE calculator call per configuration) on the 20 rigid separations of one
recipe's smallest interface.

The baseline is what a plain workflow does: ``atoms.calc = calc; atoms.get_potential_energy()`` per
gap (for CHGNet that includes the backward pass for forces and stress). contactflow's path chooses per
device (see :mod:`contactflow.engines.energies`): batched on CUDA; on CPU energy-only and/or batched,
decided by a pilot on the configurations themselves. The forced ``batched`` and ``energy-only`` paths
are timed too, for the record. Sides alternate (order flipped each repetition) so both see the same
machine load; the ratio is the median of per-repetition ratios. Energies of all paths must agree.

Run: ``.venv/bin/python benchmarks/bench_traction.py [--recipe si_graphite] [--engine chgnet+d3]
[--reps 3] [--device cpu]``. Prints the ratio (target ≥ 1.0 on CPU, ≥ 3 on a GPU) and the MLP's
atom-evaluations per second; appends a JSON row to ``benchmarks/results/bench_traction.json``.
"""

import argparse
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_traction.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="si_graphite", help="recipe name or YAML path")
    ap.add_argument("--engine", default="chgnet+d3")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--n", type=int, default=20, help="number of separations")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per path")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()

    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np
    import torch
    from pymatgen.io.ase import AseAtomsAdaptor

    if args.threads:
        torch.set_num_threads(args.threads)
    from contactflow.engines import get_calculator, resolve_device
    from contactflow.engines.energies import EnergyEvaluator
    from contactflow.jobs.adhesion import interface_gap_A
    from contactflow.jobs.traction import TractionSeparationMaker, separation_images
    from contactflow.recipes import load_recipe

    device = resolve_device(args.device)
    cand = load_recipe(args.recipe).build()[0]
    atoms = AseAtomsAdaptor.get_atoms(cand.interface)
    film = list(cand.interface.film_indices)
    sub = list(cand.interface.substrate_indices)
    gaps = TractionSeparationMaker(n_points=args.n).gap_grid(interface_gap_A(atoms, film, sub))
    images, _ = separation_images(atoms, film, gaps)
    n_atoms = len(atoms)

    calc = get_calculator(args.engine, device)
    paths = {
        "sequential": lambda: EnergyEvaluator(args.engine, device, "sequential", calculator=calc),
        "contactflow": lambda: EnergyEvaluator(args.engine, device, "auto", calculator=calc),
        "batched": lambda: EnergyEvaluator(args.engine, device, "batched", calculator=calc),
        "energy-only": lambda: EnergyEvaluator(args.engine, device, "energy-only", calculator=calc),
    }
    for make in paths.values():  # warm-up: model load, graph converter, D3 tables
        make().energies(images[:3])
    times: dict[str, list[float]] = {k: [] for k in paths}
    energies: dict[str, list[float]] = {}
    decisions = []
    order = list(paths)
    for rep in range(args.reps):
        for name in order if rep % 2 == 0 else order[::-1]:
            ev = paths[name]()
            t0 = time.perf_counter()
            energies[name] = ev.energies(images)
            times[name].append(time.perf_counter() - t0)
            if name == "contactflow":
                decisions.append(ev.decision)
    ref = np.asarray(energies["sequential"])
    max_diff = {k: float(np.max(np.abs(np.asarray(v) - ref))) for k, v in energies.items()}
    assert all(d < 1e-3 for d in max_diff.values()), f"paths disagree: {max_diff}"

    ratio = {k: statistics.median(s / c for s, c in zip(times["sequential"], times[k])) for k in paths}
    med = {k: statistics.median(v) for k, v in times.items()}
    atom_evals = {k: len(images) * n_atoms / med[k] for k in paths}
    print(f"{args.recipe}: {n_atoms} atoms × {len(images)} separations, engine {args.engine}, device {device}")
    for k in paths:
        print(f"  {k:12s} median {med[k]:7.2f} s   speed-up vs sequential {ratio[k]:5.2f}×   "
              f"{atom_evals[k]:8.0f} atom-evaluations/s")
    print(f"  contactflow decisions: {decisions}")
    target = 3.0 if device == "cuda" else 1.0
    print(f"RATIO contactflow/sequential = {ratio['contactflow']:.2f}× (target ≥ {target}×: "
          f"{'met' if ratio['contactflow'] >= target else 'NOT met'})")
    row = {
        "benchmark": "bench_traction", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "device": device, "torch_threads": torch.get_num_threads(),
        "recipe": args.recipe, "engine": args.engine, "n_atoms": n_atoms, "n_separations": len(images),
        "reps": args.reps, "median_s": med, "speedup_vs_sequential": ratio,
        "atom_evaluations_per_s": atom_evals, "decisions": decisions, "max_abs_energy_diff_eV": max_diff,
        "target": target,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
