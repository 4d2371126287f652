"""Two routes to an interface-trained potential on the same labels: CHGNet fine-tuned (shipped weights)
vs MACE from scratch, both with the D3 baseline, scored on the same held-out split per system.

Reads ``potentials/mlp/<name>/data/{train,test}.extxyz`` (written by ``contactflow dataset label
--write-dir``), trains ``--members`` of each, prints held-out energy/force MAE per system for both routes
and the pretrained CHGNet+D3 with re-referenced element energies, and the ratio of training times. Appends a JSON row to
``benchmarks/results/bench_finetune.json``.

Run: ``.venv/bin/python benchmarks/bench_finetune.py --name snoc [--members 3] [--ft-epochs 30]
[--mace-epochs 120]``.
"""

import argparse
import json
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_finetune.json"


def main() -> None:
    from contactflow.mlp.data import read_extxyz
    from contactflow.mlp.finetune import FinetuneSettings, compare_routes

    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="snoc")
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--ft-epochs", type=int, default=30)
    ap.add_argument("--mace-epochs", type=int, default=120)
    args = ap.parse_args()
    data = Path(__file__).resolve().parents[1] / "potentials" / "mlp" / args.name / "data"
    train, test = read_extxyz(data / "train.extxyz"), read_extxyz(data / "test.extxyz")
    with tempfile.TemporaryDirectory() as work:
        res = compare_routes(train, test, work, n_members=args.members, mace_epochs=args.mace_epochs,
                             finetune=FinetuneSettings(epochs=args.ft_epochs))
    for route in ("chgnet_rereferenced", "chgnet_finetuned", "mace_scratch"):
        for system, e in res[route].items():
            print(f"{route:18s} {system:24s} n={e['n_configs']:3d}  E MAE {e['energy_mae_meV_per_atom']:8.2f} meV/atom"
                  f"  F MAE {e['force_mae_eV_per_A']:.3f} eV/Å  rho {e['uncertainty_force_error_spearman']}")
    t = res["times_s"]
    print(f"training time: MACE {t['mace_scratch']:.0f} s / CHGNet fine-tune {t['chgnet_finetuned']:.0f} s = "
          f"{t['mace_scratch'] / t['chgnet_finetuned']:.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    rows.append({"when": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "name": args.name,
                 "members": args.members, "ft_epochs": args.ft_epochs, "mace_epochs": args.mace_epochs, **res})
    RESULTS.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
