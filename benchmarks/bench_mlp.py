"""Trained MLP vs DFT: time per configuration (MACE committee and one member vs CP2K, same cells), per-atom
speed of the trained committee against the universal model (CHGNet, same cells), and MACE training time per
epoch (CPU, and CUDA when a GPU is visible).

All engines evaluate the same held-out configurations of one system (``--system``; default: the model's
first test system, e.g. Li–Si for lisic, Si/graphene for sico) from the shipped model's test set,
alternating engines per configuration so they share the machine's load. The ratio is
CP2K time / MLP time (how many configurations the MLP evaluates in the time CP2K does one); per-atom speed
is committee s/atom over CHGNet s/atom (below 1: the trained committee is faster).
Training: one member with the shipped model's settings on its training data for ``--epochs`` epochs.

Run: ``.venv/bin/python benchmarks/bench_mlp.py [--model potentials/mlp/lisic] [--system Li-Si] [--configs 3]
[--epochs 3]`` (``--epochs 0`` skips the training figure).
Appends a JSON row to ``benchmarks/results/bench_mlp.json``.
"""

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_mlp.json"


def timed_energy(atoms, calc) -> float:
    a = atoms.copy()
    a.calc = calc
    t0 = time.perf_counter()
    a.get_potential_energy()
    a.get_forces()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="potentials/mlp/lisic")
    ap.add_argument("--system", default=None)
    ap.add_argument("--configs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()

    import torch

    from contactflow.engines import get_calculator
    from contactflow.engines.calculators import _resolve_model_path
    from contactflow.mlp.data import read_extxyz
    from contactflow.mlp.training import train_member

    model = _resolve_model_path(args.model)
    manifest = json.loads((model / "manifest.json").read_text())
    frames = read_extxyz(model / "data" / "test.extxyz")
    system = args.system or frames[0].info.get("system")
    test = sorted((a for a in frames if a.info.get("system") == system), key=len, reverse=True)[: args.configs]
    if not test:
        raise SystemExit(f"error: no test configuration of system {system!r} in {model}; valid: "
                         f"{', '.join(sorted({str(a.info.get('system')) for a in frames}))}")
    committee = get_calculator(f"mace:{model}", "cpu")
    member = get_calculator(f"mace:{model / 'member_0.model'}", "cpu")
    universal = get_calculator("chgnet", "cpu")
    dft = get_calculator("cp2k:pbe-d3", "cpu")
    warm = test[0].copy()
    warm.positions[0] += 0.01  # not the timed configuration: ASE calculators return cached results for it
    for c in (committee, member, universal):
        timed_energy(warm, c)  # warm-up (model load, compile)
    t = {"cp2k": [], "committee": [], "member": [], "chgnet": []}
    atoms = []
    try:
        for a in test:
            atoms.append(len(a))
            t["cp2k"].append(timed_energy(a, dft))
            t["committee"].append(timed_energy(a, committee))
            t["member"].append(timed_energy(a, member))
            t["chgnet"].append(timed_energy(a, universal))
    finally:
        dft.close()
    med = {k: statistics.median(v) for k, v in t.items()}
    per_atom = {k: statistics.median(x / n for x, n in zip(v, atoms)) for k, v in t.items()}
    row = {"benchmark": "bench_mlp", "when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
           "model": str(args.model), "system": system, "n_atoms": atoms, "configs": len(test), "s_per_config": med,
           "s_per_atom": per_atom,
           "cp2k_over_committee": med["cp2k"] / med["committee"], "cp2k_over_member": med["cp2k"] / med["member"],
           "committee_over_chgnet_per_atom": per_atom["committee"] / per_atom["chgnet"],
           "member_over_chgnet_per_atom": per_atom["member"] / per_atom["chgnet"]}
    print(f"{system}, {len(test)} held-out configurations of {min(atoms)}-{max(atoms)} atoms, median per configuration: "
          f"CP2K {med['cp2k']:.2f} s, MACE committee {med['committee'] * 1e3:.0f} ms, one member "
          f"{med['member'] * 1e3:.0f} ms, CHGNet {med['chgnet'] * 1e3:.0f} ms")
    print(f"ratio CP2K/committee = {row['cp2k_over_committee']:.0f}x, CP2K/member = {row['cp2k_over_member']:.0f}x")
    print(f"per atom: committee/CHGNet = {row['committee_over_chgnet_per_atom']:.2f}, "
          f"member/CHGNet = {row['member_over_chgnet_per_atom']:.2f}")

    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])) if args.epochs > 0 else []
    row["s_per_epoch"] = {}
    for dev in devices:
        with tempfile.TemporaryDirectory() as tmp:
            r = train_member(model / "data" / "train.extxyz", Path(tmp), "bench", 0, args.epochs, dev,
                             manifest["settings"])
        row["s_per_epoch"][dev] = r.wall_time_s / max(1, r.epochs)  # includes start-up, so an upper bound
        print(f"training ({manifest['n_train']} configurations, {args.epochs} epochs) on {dev}: "
              f"{row['s_per_epoch'][dev]:.1f} s/epoch (start-up included)")
    if "cuda" in row["s_per_epoch"]:
        row["epoch_cpu_over_cuda"] = row["s_per_epoch"]["cpu"] / row["s_per_epoch"]["cuda"]
        print(f"training epoch CPU/CUDA = {row['epoch_cpu_over_cuda']:.1f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    rows.append(row)
    RESULTS.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
