"""The cost estimate a long job prints before it starts, against the time it then takes.

The job: the MD pull-off of the ``fe3o4_rgo`` recipe's interface (188 atoms) with an MLP engine
(default ``chgnet+d3``, the recipe's engine) on this device. The recipe is built and prepared (registry and
gap scans, no relaxation: the pull-off relaxes its own start), then ``PullOffMaker.execute`` runs with steps
shortened by the options so that it fits a few minutes on 2 cores: it logs its estimate (evaluations ×
time per evaluation measured on the structure), its stages and its progress lines with the time left, and
stores the estimate in the document's provenance next to the measured wall time. Printed: both times and
their ratio (target: within a factor of 2). A JSON row goes to ``benchmarks/results/bench_estimate.json``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_estimate.py [--relax-steps 30]
[--equilibrate-steps 60] [--max-opening 1.0] [--engine chgnet+d3]``.
"""

import argparse
import json
import logging
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_estimate.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="fe3o4_rgo")
    ap.add_argument("--engine", default="chgnet+d3")
    ap.add_argument("--relax-steps", type=int, default=30)
    ap.add_argument("--equilibrate-steps", type=int, default=60)
    ap.add_argument("--max-opening", type=float, default=1.0, help="Å pulled at --velocity")
    ap.add_argument("--velocity", type=float, default=20.0, help="pull velocity, Å/ps")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("contactflow").setLevel(logging.INFO)

    import torch

    torch.set_num_threads(args.threads)
    from contactflow import api
    from contactflow.jobs.prepare import PrepareMaker
    from contactflow.jobs.pull_off import PullOffMaker

    plan = api.plan(args.recipe, ["descriptors"], None, None, limit=1)
    cand = api.build(plan)[0]
    interface = cand.interface if hasattr(cand, "interface") else cand
    prepared = PrepareMaker(engine=args.engine, device="cpu", relax=False).compute(interface, f"{args.recipe}-0",
                                                                                   args.recipe)
    print(f"prepared {prepared.n_atoms} atoms ({prepared.state})", flush=True)
    maker = PullOffMaker(engine=args.engine, device="cpu", relax_steps=args.relax_steps,
                         equilibrate_steps=args.equilibrate_steps, max_opening_A=args.max_opening,
                         pull_velocity_A_per_ps=args.velocity)
    t0 = time.perf_counter()
    doc = maker.execute(prepared)
    wall = time.perf_counter() - t0
    prov = doc.provenance
    ratio = prov.wall_time_s / prov.estimated_wall_time_s
    print(f"\npull-off {args.recipe} ({doc.n_atoms} atoms, {args.engine}, cpu, torch threads {torch.get_num_threads()}): "
          f"state {doc.state}; estimated {prov.estimated_wall_time_s:.1f} s before the start "
          f"({prov.time_per_evaluation_s:.3f} s per evaluation measured), measured {prov.wall_time_s:.1f} s "
          f"(job call {wall:.1f} s); measured/estimated {ratio:.2f} (target within a factor of 2) "
          f"{'OK' if 0.5 <= ratio <= 2.0 else 'NOT MET'}; evaluations {prov.n_evaluations}, computed "
          f"{prov.computed_properties}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps({"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
                             "recipe": args.recipe, "engine": args.engine, "n_atoms": doc.n_atoms,
                             "settings": doc.settings, "estimated_wall_time_s": prov.estimated_wall_time_s,
                             "wall_time_s": prov.wall_time_s, "measured_over_estimated": ratio,
                             "time_per_evaluation_s": prov.time_per_evaluation_s,
                             "n_evaluations": prov.n_evaluations, "state": doc.state}) + "\n")


if __name__ == "__main__":
    main()
