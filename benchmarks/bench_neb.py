"""One 7-image climbing-image NEB (Li Td→Hex→Td in 64-atom Si, CHGNet): image evaluation batched vs
sequential, contactflow's per-device choice (``batch="auto"``) vs sequential, and vs a plain ASE NEB with
one calculator per image.

All runs start from the same IDPP band built from the same relaxed endpoints and take the same fixed
number of optimizer steps, so they do identical work; only the way the 7 moving images are evaluated
differs (one batched CHGNet graph + one batched D3 call, or one image after another). The three
variants alternate run by run (order rotated each repetition) so they share the machine's load; the
ratios are medians of per-repetition ratios. The band energies of the variants must agree.

Run: ``.venv/bin/python benchmarks/bench_neb.py [--reps 3] [--steps 15] [--engine chgnet] [--device cpu]``.
Prints ``auto/sequential`` speed-up (target ≥ 1.0 on CPU, ≥ 2 on a GPU for ``batched``) and appends a
JSON row to ``benchmarks/results/bench_neb.json``.
"""

import argparse
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_neb.json"


def endpoints(engine: str, device: str):
    """Relaxed Td endpoints of a Li hop in 64-atom Si."""
    from contactflow.engines import get_calculator
    from contactflow.jobs.neb import to_atoms
    from contactflow.jobs.relax import relax_fixed_cell
    from contactflow.structures import load_bulk
    from contactflow.structures.li_sites import find_interstitial_sites, hop_pairs, insert_li

    si = load_bulk("Si") * (2, 2, 2)
    td = [s for s in find_interstitial_sites(si, symmetry_reduce=False) if s.min_dist_A > 2.3]
    a, b, _ = hop_pairs(si, td, max_hop_A=2.5)[0]
    calc = get_calculator(engine, device)
    return [relax_fixed_cell(to_atoms(insert_li(si, s)), calc, 0.05, 200).atoms for s in (a, b)]


def run_plain_ase(band0, engine: str, device: str, steps: int) -> tuple[float, np.ndarray, str]:
    """The same band with plain ASE: ``NEB`` + one ``get_calculator`` calculator per image (what a user
    writes without contactflow's evaluator)."""
    from ase.mep import NEB
    from ase.optimize import FIRE

    from contactflow.engines import get_calculator
    from contactflow.engines.batch import get_evaluator
    from contactflow.jobs.neb import attach_endpoint_results

    images = [a.copy() for a in band0]
    ev = get_evaluator(engine, device)
    for end in (images[0], images[-1]):
        attach_endpoint_results(end, ev)
    for im in images[1:-1]:
        im.calc = get_calculator(engine, device)
    t0 = time.perf_counter()
    band = NEB(images, climb=True, method="improvedtangent")
    FIRE(band, logfile=None).run(fmax=1e-6, steps=steps)
    return time.perf_counter() - t0, np.array(band.energies, dtype=float), "ase-calculators"


def run(variant: str, band0, engine: str, device: str, steps: int) -> tuple[float, np.ndarray, str]:
    """Wall time of ``steps`` band steps with evaluation mode ``variant``; final energies; chosen path."""
    from contactflow.engines import resolve_device
    from contactflow.engines.batch import BatchChooser, get_evaluator
    from contactflow.jobs.neb import run_climbing_neb

    if variant == "plain-ase":
        return run_plain_ase(band0, engine, device, steps)
    images = [a.copy() for a in band0]
    ev = get_evaluator(engine, device)
    chooser = BatchChooser(variant, resolve_device(device))
    t0 = time.perf_counter()
    out = run_climbing_neb(images, ev, chooser, fmax=1e-6, max_steps=steps)
    return time.perf_counter() - t0, out.energies_eV, str(chooser.decided)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=15, help="optimizer steps per NEB run (same for all variants)")
    ap.add_argument("--images", type=int, default=7, help="moving images")
    ap.add_argument("--engine", default="chgnet")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from contactflow.engines import resolve_device
    from contactflow.jobs.neb import interpolate_band

    device = resolve_device(args.device)
    a0, a1 = endpoints(args.engine, device)
    band0 = interpolate_band(a0, a1, args.images, "idpp")
    variants = ["sequential", "batched", "auto", "plain-ase"]
    run(variants[0], band0, args.engine, device, 2)  # warm-up
    times: dict[str, list[float]] = {v: [] for v in variants}
    energies, chosen = {}, {}
    for rep in range(args.reps):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for v in order:
            t, e, c = run(v, band0, args.engine, device, args.steps)
            times[v].append(t)
            energies[v], chosen[v] = e, c
            print(f"rep {rep} {v:10s} {t:7.2f} s  (path used: {c})", flush=True)
    for v in variants[1:]:
        dev = float(np.abs(energies[v] - energies["sequential"]).max())
        assert dev < 2e-3, f"{v} band energies differ from sequential by {dev:.2e} eV"
    r_batch = statistics.median(s / b for s, b in zip(times["sequential"], times["batched"]))
    r_auto = statistics.median(s / a for s, a in zip(times["sequential"], times["auto"]))
    r_plain = statistics.median(p / a for p, a in zip(times["plain-ase"], times["auto"]))
    print(f"device {device}: {args.images}-image NEB, {args.steps} steps, 65 atoms, {args.engine}")
    print(f"batched vs sequential image evaluation: {r_batch:.2f}x")
    print(f"auto (per-device choice: {chosen['auto']}) vs sequential: {r_auto:.2f}x "
          "(target >= 1.0 on CPU, >= 2 on a GPU)")
    print(f"auto vs plain ASE NEB with one calculator per image: {r_plain:.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    rows.append({
        "when": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "device": device,
        "engine": args.engine, "n_images": args.images, "steps": args.steps, "reps": args.reps,
        "threads": torch.get_num_threads(), "times_s": times, "speedup_batched": r_batch, "speedup_auto": r_auto,
        "speedup_auto_vs_plain_ase": r_plain,
        "auto_choice": chosen["auto"],
    })
    RESULTS.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
