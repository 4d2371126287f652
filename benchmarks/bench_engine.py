"""Engine-layer overhead: one energy + forces single point on a 64-atom Si cell through
``contactflow.engines.get_calculator("chgnet")`` (called anew for every point, as jobs do; the model is
cached) vs a bare ``CHGNetCalculator`` created once and reused.

Every repetition rattles the cell with its own seed (the same structure for both sides), so neither
side can return ASE's cached results. The two sides alternate point by point (order flipped every
point) after warm-up, so both see the same machine load; the ratio is the median of the per-point
ratios. The energies of the two sides must agree. ``get_calculator`` is also timed alone: that is
the layer's own cost per call.

Run: ``.venv/bin/python benchmarks/bench_engine.py [--n 30] [--device cpu] [--threads 1]``. Prints the ratio
(target ≤ 1.1) and appends a JSON row to ``benchmarks/results/bench_engine.json``.
"""

import argparse
import contextlib
import io
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from ase.build import bulk

RESULTS = Path(__file__).resolve().parent / "results" / "bench_engine.json"
TARGET = 1.1


def si64(seed: int):
    """Diamond Si, 2×2×2 conventional cells (64 atoms), rattled by 0.05 Å with ``seed``."""
    atoms = bulk("Si", "diamond", a=5.43, cubic=True).repeat((2, 2, 2))
    atoms.rattle(stdev=0.05, seed=seed)
    return atoms


def single_point(atoms, calc) -> tuple[float, np.ndarray]:
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="timed single points per side")
    ap.add_argument("--warmup", type=int, default=3, help="untimed single points per side first")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=0,
                    help="torch CPU threads (0: torch's default); 1 is steadier on a loaded machine")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from chgnet.model.dynamics import CHGNetCalculator

    from contactflow.engines import get_calculator

    sink = io.StringIO()  # CHGNetCalculator prints "CHGNet will run on …" on every construction
    with contextlib.redirect_stdout(sink):
        t = time.perf_counter()
        bare = CHGNetCalculator(use_device=args.device)
        load_bare = time.perf_counter() - t
        t = time.perf_counter()
        get_calculator("chgnet", args.device)
        load_cf = time.perf_counter() - t

        def cf_point(seed):
            return single_point(si64(seed), get_calculator("chgnet", args.device))

        def bare_point(seed):
            return single_point(si64(seed), bare)

        for i in range(args.warmup):
            cf_point(10_000 + i)
            bare_point(10_000 + i)
        times = {"cf": [], "bare": []}
        max_de = max_df = 0.0
        for i in range(args.n):
            sides = (("cf", cf_point), ("bare", bare_point))
            results = {}
            for side, fn in (sides if i % 2 == 0 else sides[::-1]):
                if args.device == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                results[side] = fn(i)
                if args.device == "cuda":
                    torch.cuda.synchronize()
                times[side].append(time.perf_counter() - t)
            (e1, f1), (e2, f2) = results["cf"], results["bare"]
            max_de = max(max_de, abs(e1 - e2))
            max_df = max(max_df, float(np.abs(f1 - f2).max()))
        # the layer's own cost, free of the single point's noise: get_calculator alone
        calls = []
        for _ in range(50):
            t = time.perf_counter()
            get_calculator("chgnet", args.device)
            calls.append(time.perf_counter() - t)
        layer = statistics.median(calls)

    assert max_de < 1e-4 and max_df < 1e-4, f"the two sides disagree: dE {max_de} eV, dF {max_df} eV/Å"
    cf, bare_t = statistics.median(times["cf"]), statistics.median(times["bare"])
    # headline: median of the paired ratios (same structure, adjacent in time); on a shared machine
    # the load drifts within seconds and a ratio of medians would pick that drift up
    ratio = statistics.median(c / b for c, b in zip(times["cf"], times["bare"]))
    median_ratio = cf / bare_t
    sum_ratio = sum(times["cf"]) / sum(times["bare"])
    print(f"bench_engine: 64-atom Si energy+forces, CHGNet on {args.device}, {args.n} points per side "
          f"(torch threads {torch.get_num_threads()}): contactflow get_calculator per point median "
          f"{1e3 * cf:.1f} ms, bare CHGNetCalculator {1e3 * bare_t:.1f} ms -> paired ratio {ratio:.3f} "
          f"(ratio of medians {median_ratio:.3f}, of sums {sum_ratio:.3f}; target <= {TARGET}: {'PASS' if ratio <= TARGET else 'FAIL'}); "
          f"get_calculator alone {1e3 * layer:.2f} ms/call ({100 * layer / bare_t:.1f} % of a point); "
          f"first model load: bare {load_bare:.2f} s, contactflow {load_cf:.2f} s; "
          f"max |dE| {max_de:.1e} eV, max |dF| {max_df:.1e} eV/Å")
    row = {
        "bench": "bench_engine", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "device": args.device, "torch_threads": torch.get_num_threads(),
        "n_atoms": 64, "n": args.n, "contactflow_s": times["cf"], "bare_s": times["bare"],
        "median_contactflow_s": cf, "median_bare_s": bare_t, "ratio": ratio, "median_ratio": median_ratio, "sum_ratio": sum_ratio,
        "target": TARGET, "get_calculator_s": layer, "load_bare_s": load_bare, "load_contactflow_s": load_cf,
        "max_abs_dE_eV": max_de, "max_abs_dF_eV_per_A": max_df,
    }
    if args.device == "cuda":
        row["gpu"] = torch.cuda.get_device_name(0)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
