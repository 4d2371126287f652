"""Figures of stored result documents, written to a file (PNG/PDF/SVG): library functions the CLI's
``plot`` commands and notebooks call (the CLI draws nothing itself)."""

from pathlib import Path

from contactflow.errors import ContactflowError


def plot_traction_docs(docs: list[dict], out: Path) -> Path:
    """Binding energy E_b(d) (points + UBER fit) and traction σ(d) of traction–separation documents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from contactflow.jobs.traction import uber_energy, uber_traction_GPa

    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ContactflowError(f"output {out} must end in .png, .pdf or .svg")
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.5, 6.0), dpi=150, sharex=True)
    for i, d in enumerate(docs):
        g = np.asarray(d["gaps_A"], float)
        e = np.asarray([np.nan if x is None else x for x in d["binding_energy_J_per_m2"]], float)
        label = f"{d.get('engine')} {d.get('interface_id', '')[:11]}"
        ax1.plot(g, e, "o", ms=4, color=f"C{i}", label=f"{label} (computed)")
        if d.get("w_sep_J_per_m2") is not None and d.get("uber_length_A"):
            w, ell, g0 = d["w_sep_J_per_m2"], d["uber_length_A"], d["equilibrium_gap_A"]
            xs = np.linspace(g.min(), g.max(), 400)
            ax1.plot(xs, uber_energy(xs, w, ell, g0), "-", color=f"C{i}",
                     label=f"UBER W_sep={w:.3f} J/m², R²={d.get('fit_r2', float('nan')):.3f}")
            xt = xs[xs >= g0]
            ax2.plot(xt, uber_traction_GPa(xt, w, ell, g0), "-", color=f"C{i}",
                     label=f"σ_max={d['sigma_max_GPa']:.2f} GPa, δ_c={d['delta_c_A']:.2f} Å")
            ax2.plot([g0 + ell], [d["sigma_max_GPa"]], "x", color=f"C{i}", ms=8)
        gm = 0.5 * (g[1:] + g[:-1])
        ax2.plot(gm[gm >= g[np.nanargmin(e)]], (np.diff(e) / np.diff(g) * 10)[gm >= g[np.nanargmin(e)]],
                 ".", color=f"C{i}", alpha=0.6)
    ax1.axhline(0, color="0.6", lw=0.8)
    ax1.set_ylabel("E_b = (E_int − E_film − E_sub)/A (J/m²)")
    ax1.legend(fontsize=6)
    ax2.set_xlabel("film–substrate gap d (Å)")
    ax2.set_ylabel("traction dE_b/dd (GPa)")
    ax2.legend(fontsize=6)
    title = docs[0].get("recipe_name") or docs[0].get("system") or ""
    fig.suptitle(f"Traction–separation — {title}", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_profile(doc: dict, out: Path) -> Path:
    """Write the NEB energy profile (images, monotone spline, saddle, barriers) of ``doc`` to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.interpolate import PchipInterpolator

    if doc.get("state") != "successful" or not doc.get("energies_eV"):
        raise ContactflowError(
            f"barrier {doc.get('doc_key')} has no converged profile (state {doc.get('state')}: "
            f"{doc.get('failure_reason') or 'no energies'}); nothing to plot")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ContactflowError(f"output {out} must end in .png, .pdf or .svg")
    e = np.asarray(doc["energies_eV"], float)
    s = np.asarray(doc.get("reaction_coordinate_A") or np.arange(len(e)), float)
    fig, ax = plt.subplots(figsize=(5.0, 3.6), dpi=150)
    xs = np.linspace(s[0], s[-1], 200)
    ax.plot(xs, PchipInterpolator(s, e)(xs), "-", color="tab:blue", lw=1.5)
    ax.plot(s, e, "o", color="tab:blue")
    i = int(doc["saddle_index"])
    ax.plot([s[i]], [e[i]], "*", ms=14, color="tab:red", label="climbing image")
    ax.set_xlabel("reaction coordinate (Å)")
    ax.set_ylabel("E − E(initial) (eV)")
    text = (f"E_a fwd {doc['barrier_forward_eV']:.3f} eV\nE_a rev {doc['barrier_reverse_eV']:.3f} eV\n"
            f"ΔE {doc['delta_E_eV']:+.3f} eV")
    if doc.get("reference_barrier_eV") is not None:
        text += f"\nref {doc['reference_barrier_eV']:.2f} eV"
        ax.axhline(doc["reference_barrier_eV"], ls=":", color="gray", lw=1)
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.set_title(f"{doc.get('label')} — {doc.get('engine')}", fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
