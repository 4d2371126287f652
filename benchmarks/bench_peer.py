"""contactflow vs atomate2's force-field makers on the same jobs: fixed-cell relaxation, NVT MD and NEB.

One 65-atom cell (Li in 2×2×2 Si, rattled), CHGNet on the CPU. Each job runs through contactflow and
through atomate2 0.1.x in the same process, interleaved (the order alternates every repetition), with the
same steps and the same starting point, so both sides do the same physics and must give the same energies:

- relax: contactflow ``relax_fixed_cell`` with its calculator for energy and forces vs
  ``ForceFieldRelaxMaker(relax_cell=False)``; FIRE, ``--relax-steps`` steps (fmax 1e-6 eV/Å, so both stop
  on the step budget); final energies must agree to 1e-6 eV;
- md: contactflow ``MDMaker.execute`` (Langevin NVT, its chunked driver, health checks and trajectory)
  vs ``ForceFieldMDMaker`` (Langevin NVT); same initial velocities (given to atomate2 as the structure's
  ``velocities`` site property), the same Langevin random stream (seeded generator passed to both),
  friction 10 ps⁻¹, 1 fs, ``--md-steps`` steps; final potential energies must agree to 1e-6 eV;
- neb: contactflow ``run_climbing_neb`` (energy-and-forces evaluator, per-device batch choice) vs
  ``ForceFieldNebFromImagesMaker``; the same IDPP band from the same relaxed endpoints, climbing image,
  improved tangent, k = 5 eV/Å², FIRE, ``--neb-steps`` steps; band energies must agree to 1e-6 eV.

Both sides use CHGNet 0.3.0 loaded once (atomate2 gets its own ``CHGNet.load()`` through
``calculator_kwargs``, so neither side pays a model load inside the timed job). Wall time is the whole job
call: atomate2's ``make`` body (``make.original``: the run and its task document) and contactflow's job
function (the run and its document or outcome). A warm-up pair runs first (imports, caches, contactflow's
per-process measured time per evaluation). Ratios are medians of per-repetition ratios contactflow/atomate2
(lower is faster; acceptance: relax and MD ≤ 0.67, NEB ≤ 0.64), of wall time and, printed beside it, of this
process's CPU time (the work done, less disturbed by other programs on a shared machine).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_peer.py [--reps 5] [--threads 1]``. Appends a
JSON row to ``benchmarks/results/bench_peer.json``.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_peer.json"
TARGETS = {"relax": 0.67, "md": 0.67, "neb": 0.64}
SEED = 7


def li_in_si():
    from ase.build import bulk

    a = bulk("Si", "diamond", a=5.431, cubic=True) * (2, 2, 2)
    a.append("Li")
    a.positions[-1] = [1.36, 1.36, 1.36]
    a.rattle(0.03, seed=1)
    return a


def clock() -> np.ndarray:
    """(wall, CPU) seconds now: the CPU time of this process is the work done, less disturbed than the wall
    time by other programs competing for a shared machine's cores."""
    return np.array([time.perf_counter(), time.process_time()])


def quiet():
    return contextlib.redirect_stdout(io.StringIO())  # atomate2/CHGNet print per calculator


# -- relax ------------------------------------------------------------------------------------------
def relax_cf(atoms, steps: int) -> tuple[float, float]:
    from contactflow.engines import get_calculator
    from contactflow.engines.properties import ENERGY_FORCES
    from contactflow.jobs.relax import relax_fixed_cell

    t0 = clock()
    out = relax_fixed_cell(atoms, get_calculator("chgnet", "cpu", ENERGY_FORCES), 1e-6, steps, "FIRE")
    return clock() - t0, out.energy_eV


def relax_a2(atoms, steps: int, model) -> tuple[float, float]:
    from atomate2.forcefields.jobs import ForceFieldRelaxMaker
    from pymatgen.io.ase import AseAtomsAdaptor

    maker = ForceFieldRelaxMaker(force_field_name="CHGNet", relax_cell=False, steps=steps,  # FIRE (default)
                                 relax_kwargs={"fmax": 1e-6}, calculator_kwargs={"model": model})
    st = AseAtomsAdaptor.get_structure(atoms)
    t0 = clock()
    with quiet():
        doc = ForceFieldRelaxMaker.make.original(maker, st)
    return clock() - t0, float(doc.output.energy)


# -- MD ---------------------------------------------------------------------------------------------
def velocities(atoms):
    from contactflow.jobs.md_backends import maxwell_boltzmann_velocities

    return maxwell_boltzmann_velocities(atoms.get_masses(), 300.0, SEED)  # Å/fs


def md_cf(atoms, steps: int, tmp: Path) -> tuple[float, float]:
    from contactflow.jobs.md import MDMaker

    maker = MDMaker(engine="chgnet", device="cpu", ensemble="nvt", thermostat="langevin", temperature_K=300.0,
                    timestep_fs=1.0, n_steps=steps, seed=SEED, check_interval=10, sample_interval=10,
                    checkpoint_interval=10**9, checkpoint_dir=str(tmp))
    t0 = clock()
    doc, run = maker.execute(atoms)
    wall = clock() - t0
    assert doc.state == "successful", doc.failure_reason
    return wall, float(run.thermo["potential_eV"][-1])


def md_a2(atoms, steps: int, model) -> tuple[float, float]:
    from ase import units
    from atomate2.forcefields.md import ForceFieldMDMaker
    from pymatgen.io.ase import AseAtomsAdaptor

    st = AseAtomsAdaptor.get_structure(atoms)
    st.add_site_property("velocities", (velocities(atoms) / units.fs).tolist())  # ASE velocity units
    # contactflow's Langevin: friction 1/(100 fs), no centre-of-mass constraint, a seeded generator
    maker = ForceFieldMDMaker(force_field_name="CHGNet", ensemble="nvt", dynamics="langevin", temperature=300.0,
                              time_step=1.0, n_steps=steps, calculator_kwargs={"model": model},
                              ase_md_kwargs={"friction": 1.0 / (100.0 * units.fs), "fixcm": False,
                                             "rng": np.random.default_rng(SEED)})
    t0 = clock()
    with quiet():
        doc = ForceFieldMDMaker.make.original(maker, st)
    return clock() - t0, float(doc.output.energy)


# -- NEB --------------------------------------------------------------------------------------------
def neb_band(n_images: int):
    from contactflow.engines import get_calculator
    from contactflow.engines.properties import ENERGY_FORCES
    from contactflow.jobs.neb import interpolate_band, to_atoms
    from contactflow.jobs.relax import relax_fixed_cell
    from contactflow.structures import load_bulk
    from contactflow.structures.li_sites import find_interstitial_sites, hop_pairs, insert_li

    si = load_bulk("Si") * (2, 2, 2)
    td = [s for s in find_interstitial_sites(si, symmetry_reduce=False) if s.min_dist_A > 2.3]
    a, b, _ = hop_pairs(si, td, max_hop_A=2.5)[0]
    calc = get_calculator("chgnet", "cpu", ENERGY_FORCES)
    ends = [relax_fixed_cell(to_atoms(insert_li(si, s)), calc, 0.05, 200).atoms for s in (a, b)]
    return interpolate_band(*ends, n_images, "idpp")


def neb_cf(band0, steps: int) -> tuple[float, np.ndarray]:
    from contactflow.engines.batch import BatchChooser, get_evaluator
    from contactflow.jobs.neb import run_climbing_neb

    images = [a.copy() for a in band0]
    t0 = clock()
    out = run_climbing_neb(images, get_evaluator("chgnet", "cpu"), BatchChooser("auto", "cpu"), fmax=1e-6,
                           max_steps=steps, optimizer="FIRE", k=5.0, climb=True)
    return clock() - t0, np.asarray(out.energies_eV)


def neb_a2(band0, steps: int, model) -> tuple[float, np.ndarray]:
    from atomate2.forcefields.neb import ForceFieldNebFromImagesMaker
    from pymatgen.io.ase import AseAtomsAdaptor

    images = [AseAtomsAdaptor.get_structure(a) for a in band0]
    maker = ForceFieldNebFromImagesMaker(force_field_name="CHGNet", steps=steps, relax_kwargs={"fmax": 1e-6},
                                         neb_kwargs={"k": 5.0, "climb": True, "method": "improvedtangent"},
                                         calculator_kwargs={"model": model})
    t0 = clock()
    with quiet():
        res = ForceFieldNebFromImagesMaker.make.original(maker, images)
    return clock() - t0, np.asarray(res.energies, dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--relax-steps", type=int, default=20)
    ap.add_argument("--md-steps", type=int, default=40)
    ap.add_argument("--neb-steps", type=int, default=8)
    ap.add_argument("--neb-images", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--jobs", default="relax,md,neb")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import tempfile

    import torch
    from chgnet.model import CHGNet

    torch.set_num_threads(args.threads)
    with quiet():
        model = CHGNet.load(verbose=False, use_device="cpu")  # atomate2's own copy, as CHGNetCalculator() loads
    atoms = li_in_si()
    jobs = args.jobs.split(",")
    band0 = neb_band(args.neb_images) if "neb" in jobs else None
    tmp = Path(tempfile.mkdtemp(prefix="bench_peer_"))
    os.chdir(tmp)  # atomate2's relaxation writes final_atoms_object.xyz into the working directory
    sides = {
        "relax": (lambda: relax_cf(atoms, args.relax_steps), lambda: relax_a2(atoms, args.relax_steps, model)),
        "md": (lambda: md_cf(atoms, args.md_steps, tmp), lambda: md_a2(atoms, args.md_steps, model)),
        "neb": (lambda: neb_cf(band0, args.neb_steps), lambda: neb_a2(band0, args.neb_steps, model)),
    }
    times = {j: {"contactflow": [], "atomate2": []} for j in jobs}
    agree: dict[str, float] = {}
    for j in jobs:  # warm-up pair (imports, caches); its results are checked too
        cf, a2 = sides[j][0](), sides[j][1]()
        agree[j] = float(np.max(np.abs(np.asarray(cf[1]) - np.asarray(a2[1]))))
    for rep in range(args.reps):
        for j in jobs:
            order = ("contactflow", "atomate2") if rep % 2 == 0 else ("atomate2", "contactflow")
            for side in order:
                t, e = sides[j][0 if side == "contactflow" else 1]()
                times[j][side].append(t.tolist())
                print(f"rep {rep} {j:5s} {side:11s} wall {t[0]:7.2f} s  cpu {t[1]:7.2f} s", flush=True)
    ratios, rows = {}, {}
    print(f"\n{len(atoms)}-atom Li in Si, CHGNet, cpu, torch threads {torch.get_num_threads()}, {args.reps} reps "
          "(contactflow time / atomate2 time, median of per-repetition ratios; lower is faster)")
    for j in jobs:
        cf, a2 = np.asarray(times[j]["contactflow"]), np.asarray(times[j]["atomate2"])
        r_wall, r_cpu = (float(np.median(cf[:, k] / a2[:, k])) for k in (0, 1))
        ratios[j] = r_wall
        steps = {"relax": args.relax_steps, "md": args.md_steps, "neb": args.neb_steps}[j]
        ok = r_wall <= TARGETS[j] and agree[j] <= 1e-6
        print(f"{j:5s}: {steps} steps, contactflow {np.median(cf[:, 0]):.2f} s, atomate2 {np.median(a2[:, 0]):.2f} s, "
              f"wall-time ratio {r_wall:.3f} (target ≤ {TARGETS[j]}), CPU-time ratio {r_cpu:.3f}; "
              f"energies differ by {agree[j]:.1e} eV (≤ 1e-6) {'OK' if ok else 'NOT MET'}")
        rows[j] = {"ratio": r_wall, "cpu_time_ratio": r_cpu, "energy_max_abs_diff_eV": agree[j], "steps": steps,
                   "times_wall_cpu_s": times[j]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps({"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
                             "n_atoms": len(atoms), "engine": "chgnet", "device": "cpu",
                             "threads": torch.get_num_threads(), "reps": args.reps, "targets": TARGETS,
                             "jobs": rows}) + "\n")


if __name__ == "__main__":
    main()
