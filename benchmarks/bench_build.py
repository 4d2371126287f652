"""Interface building: contactflow's lattice matching vs pymatgen's builder called directly, rGO build time
vs sheet size, and the wall time of ``contactflow build`` for every shipped recipe.

1. **Matching overhead.** For every shipped recipe whose two sides are crystals or graphene sheets, time
   ``recipe.build()`` (Zur–McGill matching and slab cutting through ``CoherentInterfaceBuilder``, the
   strain filter, sheet decoration, restacking, distance checks) against the same work done with
   pymatgen directly: ``CoherentInterfaceBuilder`` with the same ``ZSLGenerator`` settings and
   ``label_index=True``, then ``get_interfaces`` for every termination pair over the same smallest
   ``max_candidates`` matches. The two sides alternate (order flipped every repetition); the ratio is
   total contactflow time / total pymatgen time over all recipes (target <= 1.2), per-recipe ratios are
   printed too.
2. **rGO scaling.** ``functionalise_rgo`` on n×n graphene sheets (O/C 0.10, hydroxyl + epoxy + carboxyl,
   ~1 % vacancies), median of 3; the exponent b of t ∝ N^b is fitted on the larger sheets.
3. **CLI wall time** (``--cli``): ``contactflow build NAME --out tmp --no-store`` per shipped recipe,
   interpreter start-up included (acceptance: < 60 s each on 2 cores).

Run: ``.venv/bin/python benchmarks/bench_build.py [--reps 3] [--cli]``. Appends a JSON row to
``benchmarks/results/bench_build.json``.
"""

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_build.json"
TARGET = 1.2


def pymatgen_direct(recipe) -> int:
    """The same matching + slab work with pymatgen alone; returns the number of interfaces built."""
    from pymatgen.analysis.elasticity.strain import Deformation
    from pymatgen.analysis.interfaces import CoherentInterfaceBuilder
    from pymatgen.analysis.interfaces.zsl import ZSLGenerator

    from contactflow.recipes.build import graphene_pseudo_bulk
    from contactflow.recipes.specs import kind_of
    from contactflow.structures import load_bulk

    f, s = recipe.film, recipe.substrate
    sheet = kind_of(s) == "sheet"
    zsl = ZSLGenerator(max_area_ratio_tol=0.09, max_area=recipe.match.max_area_A2,
                       max_length_tol=recipe.match.max_strain_pct / 100, max_angle_tol=0.01)
    cib = CoherentInterfaceBuilder(
        substrate_structure=graphene_pseudo_bulk() if sheet else load_bulk(s.structure),
        film_structure=load_bulk(f.structure), film_miller=tuple(f.miller),
        substrate_miller=(0, 0, 1) if sheet else tuple(s.miller), zslgen=zsl, label_index=True)

    def strain(m):
        e = np.asarray(Deformation(m.match_transformation).green_lagrange_strain)
        return 100 * np.abs(np.linalg.eigvalsh(e)).max()

    ok = [m for m in cib.zsl_matches if strain(m) <= recipe.match.max_strain_pct]
    cib.zsl_matches = sorted(ok, key=lambda m: (round(m.match_area, 2), strain(m)))[: recipe.match.max_candidates]
    terms = [t for t in cib.terminations
             if f.termination is None or int(t[0].split("_")[0]) == f.termination]
    n = 0
    for t in terms:
        n += len(list(cib.get_interfaces(t, gap=recipe.gap_A, vacuum_over_film=recipe.vacuum_A,
                                         film_thickness=f.layers, substrate_thickness=1 if sheet else s.layers)))
    return n


def bench_matching(reps: int) -> dict:
    from contactflow.recipes import available_recipes, load_recipe
    from contactflow.recipes.loader import recipe_source
    from contactflow.recipes.specs import kind_of

    rows = {}
    for name in available_recipes():
        if recipe_source(name) != "shipped":
            continue
        r = load_recipe(name)
        if not {kind_of(r.film), kind_of(r.substrate)} <= {"crystal", "sheet"}:
            continue
        if getattr(r.film, "thickness_A", None) or getattr(r.substrate, "thickness_A", None):
            continue  # the direct call below uses layers
        tc, tp = [], []
        for k in range(reps):
            for side in ((0, 1) if k % 2 == 0 else (1, 0)):
                t0 = time.perf_counter()
                if side == 0:
                    n_cf = len(r.build())
                    tc.append(time.perf_counter() - t0)
                else:
                    n_pm = pymatgen_direct(r)
                    tp.append(time.perf_counter() - t0)
        rows[name] = {"contactflow_s": statistics.median(tc), "pymatgen_s": statistics.median(tp),
                      "n_contactflow": n_cf, "n_pymatgen": n_pm}
        rows[name]["ratio"] = rows[name]["contactflow_s"] / rows[name]["pymatgen_s"]
        print(f"  {name:24s} contactflow {rows[name]['contactflow_s']:6.2f} s ({n_cf} cand.)   "
              f"pymatgen {rows[name]['pymatgen_s']:6.2f} s ({n_pm})   ratio {rows[name]['ratio']:.2f}", flush=True)
    total_c = sum(v["contactflow_s"] for v in rows.values())
    total_p = sum(v["pymatgen_s"] for v in rows.values())
    return {"recipes": rows, "contactflow_total_s": total_c, "pymatgen_total_s": total_p,
            "ratio": total_c / total_p}


def bench_rgo(reps: int) -> dict:
    from contactflow.structures import functionalise_rgo, graphene_sheet

    sizes = [4, 6, 8, 12, 16, 24]
    out = []
    for n in sizes:
        sheet = graphene_sheet((n, n))
        ts = []
        for seed in range(reps):
            t0 = time.perf_counter()
            s = functionalise_rgo(sheet, 0.10, ["hydroxyl", "epoxy", "carboxyl"],
                                  vacancies=max(0, round(0.01 * len(sheet))), seed=seed)
            ts.append(time.perf_counter() - t0)
        out.append({"n": n, "n_carbon": len(sheet), "n_atoms": len(s), "median_s": statistics.median(ts)})
        print(f"  rGO {n:2d}x{n:<2d} {len(sheet):5d} C -> {len(s):5d} atoms  {statistics.median(ts) * 1e3:8.1f} ms",
              flush=True)
    big = [r for r in out if r["n_carbon"] >= 128]
    b = float(np.polyfit(np.log([r["n_carbon"] for r in big]), np.log([r["median_s"] for r in big]), 1)[0])
    return {"sizes": out, "scaling_exponent": b}


def bench_cli() -> dict:
    from contactflow.recipes import available_recipes
    from contactflow.recipes.loader import recipe_source

    exe = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in available_recipes():
            if recipe_source(name) != "shipped":
                continue
            t0 = time.perf_counter()
            res = subprocess.run([exe, "build", name, "--out", tmp, "--no-store", "--format", "json"],
                                 capture_output=True, text=True)
            dt = time.perf_counter() - t0
            summary = json.loads((Path(tmp) / f"{name}_summary.json").read_text()) if res.returncode == 0 else {}
            smallest = min((c["n_atoms"] for c in summary.get("candidates", [])), default=None)
            rows[name] = {"wall_s": dt, "rc": res.returncode, "smallest_n_atoms": smallest}
            print(f"  contactflow build {name:24s} {dt:6.1f} s  rc={res.returncode}  smallest {smallest} atoms",
                  flush=True)
    return {"recipes": rows, "max_wall_s": max(v["wall_s"] for v in rows.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="repetitions per side (median)")
    ap.add_argument("--cli", action="store_true", help="also time `contactflow build` for every shipped recipe")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    print("1. lattice matching: recipe.build() vs CoherentInterfaceBuilder directly (same settings)")
    match = bench_matching(args.reps)
    print(f"   total: contactflow {match['contactflow_total_s']:.2f} s, pymatgen {match['pymatgen_total_s']:.2f} s, "
          f"ratio {match['ratio']:.2f} (target <= {TARGET})")
    print("2. rGO build time vs sheet size")
    rgo = bench_rgo(args.reps)
    print(f"   scaling: t ~ N^{rgo['scaling_exponent']:.2f}")
    cli = None
    if args.cli:
        print("3. contactflow build per shipped recipe (wall time, start-up included)")
        cli = bench_cli()
        print(f"   slowest: {cli['max_wall_s']:.1f} s (acceptance < 60 s)")
    row = {"date": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "reps": args.reps,
           "matching": match, "ratio": match["ratio"], "target": TARGET, "rgo": rgo, "cli": cli}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(f"ratio {match['ratio']:.2f}  (appended to {RESULTS})")


if __name__ == "__main__":
    main()
