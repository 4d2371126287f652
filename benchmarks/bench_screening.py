"""Evaluations needed to reach 95 % of the best hypervolume: BO (GP + qLogNEHVI) vs random search at the
same budget, several seeds, on a standard test problem with a known Pareto front (Branin–Currin,
botorch's negated form, reference point [−18, −6], maximum hypervolume 59.36), through the real
screening loop (recipe variants, synthetic documents; no calculator).

"Best hypervolume" is the best final hypervolume of any run (either method, any seed), as in the
issue's acceptance; the fraction of the problem's known maximum is printed too. BO runs the budget;
random search (cheap here) continues to 10 × the budget so its count is measured, not censored. The
"final" hypervolumes are both at the same budget. Ratio printed: random / BO evaluations (target ≥ 2).
The real example space (``workflows/screening/rgo_oc.yaml``, CHGNet+D3) is not benchmarked here: one
evaluation takes minutes on 2 cores, so a multi-seed random-vs-BO comparison there is a cluster job.

Run: ``.venv/bin/python benchmarks/bench_screening.py [--seeds 5] [--budget 30] [--batch 2] [--target 0.95]``.
Appends a JSON row to ``benchmarks/results/bench_screening.json``.
"""

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "screening"))

from screening_toy import MAX_HV, ToyEvaluator, toy  # noqa: E402

from contactflow.screening import run_screen  # noqa: E402


def evals_to_reach(hist, level: float, budget: int) -> int:
    for n, hv in hist:
        if hv >= level:
            return n
    return budget + 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--random-budget", type=int, default=0,
                    help="random search continues this far (default 10 × budget; it is cheap) so its count is not censored")
    a = ap.parse_args()
    rows = {"bo": [], "random": []}
    finals = {"bo": [], "random": []}
    hists = {"bo": [], "random": []}
    t0 = time.time()
    for seed in range(a.seeds):
        for strat in rows:
            n = a.budget if strat == "bo" else (a.random_budget or 10 * a.budget)
            doc = run_screen(toy(), ToyEvaluator(), None, budget=n, batch=a.batch, seed=seed, strategy=strat)
            hists[strat].append(list(zip(doc.evaluations_history, doc.hypervolume_history)))
            at_budget = [hv for k, hv in hists[strat][-1] if k <= a.budget]
            finals[strat].append(at_budget[-1] / MAX_HV)
        print(f"seed {seed}: final HV/max BO {finals['bo'][-1]:.3f}, random {finals['random'][-1]:.3f}", flush=True)
    best = max(max(finals["bo"]), max(finals["random"])) * MAX_HV
    for strat in rows:
        rows[strat] = [evals_to_reach(h, a.target * best, a.budget if strat == "bo" else a.random_budget or 10 * a.budget)
                       for h in hists[strat]]
    print(f"best hypervolume {best:.2f} ({best / MAX_HV:.3f} of the known maximum); evaluations to {a.target:.0%} of it: "
          f"BO {rows['bo']}, random {rows['random']}")
    bo, rnd = float(np.mean(rows["bo"])), float(np.mean(rows["random"]))
    ratio = rnd / bo
    print(f"mean evaluations to {a.target:.0%}: BO {bo:.1f}, random {rnd:.1f} (a run that never reaches it "
          f"counts its budget + 1) → ratio random/BO {ratio:.2f}; final HV/max BO {np.mean(finals['bo']):.3f}, "
          f"random {np.mean(finals['random']):.3f}")
    out = Path(__file__).parent / "results" / "bench_screening.json"
    out.parent.mkdir(exist_ok=True)
    row = {"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "problem": "branin_currin",
           "seeds": a.seeds, "budget": a.budget, "batch": a.batch, "target": a.target,
           "evals_bo": rows["bo"], "evals_random": rows["random"], "ratio": ratio,
           "final_hv_frac_bo": finals["bo"], "final_hv_frac_random": finals["random"], "best_hv": best, "seconds": time.time() - t0}
    with out.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
