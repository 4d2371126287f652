"""Model cards: what a trained committee covers, what it was trained on, how well it does."""

import json
from collections import Counter
from pathlib import Path


def model_card(model_dir: str | Path, intended_use: str = "", extra_sections: dict[str, str] | None = None) -> str:
    """Markdown model card built from ``manifest.json`` (a :class:`ModelDoc`) and the shipped data.

    Parameters
    ----------
    model_dir
        Committee directory (``member_*.model``, ``manifest.json``, ``data/*.extxyz``).
    intended_use
        Markdown on what the model is for, where it must not be used, and measured comparisons
        (``NOTES.md`` in the committee directory when written by :class:`~contactflow.jobs.train.TrainMaker`).
    extra_sections
        More sections (title → markdown), e.g. measured comparisons with DFT.
    """
    from contactflow.mlp.data import read_extxyz

    d = Path(model_dir)
    m = json.loads((d / "manifest.json").read_text())
    lines = [f"# Model card: `{m['name']}`", "",
             f"Engine spec: `mace:{_rel(d)}` (committee of {m['n_members']} MACE models; the mean is the prediction, "
             "the spread the uncertainty).", "",
             "## Elements", "", ", ".join(m["elements"]), "", "## Data", ""]
    for split in ("train", "test"):
        f = d / "data" / f"{split}.extxyz"
        if not f.is_file():
            continue
        frames = read_extxyz(f)
        c = Counter((a.info.get("system"), a.info.get("source")) for a in frames)
        lines.append(f"**{split}** (`data/{split}.extxyz`, {len(frames)} configurations, "
                     f"{min(map(len, frames))}–{max(map(len, frames))} atoms):")
        lines.append("")
        lines += [f"- {s} / {src}: {n}" for (s, src), n in sorted(c.items())]
        lines.append("")
    lines += ["Labels: CP2K (Debian 2023.1) `cp2k:pbe-d3` preset — PBE + D3(BJ), GTH-PBE pseudopotentials, "
              "DZVP-MOLOPT-SR-GTH basis, 250 Ry cutoff (rel. 40 Ry), EPS_SCF 1e-6, Fermi–Dirac 300 K, Monkhorst–Pack "
              "grid with spacing ≤ 0.8 2π/Å (1 k-point along axes ≥ 15 Å). Settings: "
              "`contactflow.engines.cp2k.PRESETS`. Failed/unconverged DFT runs are stored as failed and excluded.",
              "", "## Training", "",
              f"mace-torch `mace_run_train`, seeds {m['seeds']}, {m['epochs']} epochs per member, device {m['device']}, "
              f"{m['time_per_epoch_s']:.1f} s/epoch/member; data hash `{m['data_hash']}`.", "",
              _baseline_line(m.get("baseline"), m["settings"].get("r_max")), "",
              "```json", json.dumps(m["settings"], indent=1), "```", "",
              "## Errors on the held-out test set (committee mean vs CP2K)", "",
              "| system | configs | E MAE meV/atom | E RMSE meV/atom | F MAE eV/Å | F RMSE eV/Å | ρ(spread, F error) |",
              "|---|---|---|---|---|---|---|"]
    for e in m["test_errors"]:
        rho = e.get("uncertainty_force_error_spearman")
        lines.append(f"| {e['system']} | {e['n_configs']} | {e['energy_mae_meV_per_atom']:.2f} | "
                     f"{e['energy_rmse_meV_per_atom']:.2f} | {e['force_mae_eV_per_A']:.3f} | {e['force_rmse_eV_per_A']:.3f} | "
                     f"{'—' if rho is None else f'{rho:.2f}'} |")
    rho = m.get("uncertainty_force_error_spearman")
    lines += [f"| **all** | {m['n_test']} | {m['energy_mae_meV_per_atom']:.2f} | | {m['force_mae_eV_per_A']:.3f} | | "
              f"{'—' if rho is None else f'{rho:.2f}'} |", ""]
    if intended_use:
        lines += [intended_use.strip(), ""]
    for title, body in (extra_sections or {}).items():
        lines += [f"## {title}", "", body.strip(), ""]
    return "\n".join(lines)


def _baseline_line(name: str | None, r_max_A: float | None) -> str:
    if name == "d3":
        return ("Baseline: the members fit CP2K − DFT-D3(BJ) (torch-dftd, PBE parameters, 10 Å cutoff); the engine "
                "adds the same D3 back (`baseline.json`), so the spec gives PBE-D3 totals and dispersion beyond the "
                f"{r_max_A:g} Å model cutoff is kept.")
    return "Baseline: none (the members fit the DFT energies directly)."


def _rel(d: Path) -> str:
    from contactflow.paths import REPO_ROOT

    try:
        return str(d.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(d)
