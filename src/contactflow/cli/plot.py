"""``contactflow plot traction-separation RECIPE --out curve.png``: stored curve, UBER fit and traction.

Registers on the ``plot`` command group (created here unless another module already registered it).
"""

from pathlib import Path

import typer

from contactflow.cli.common import app, err_console
from contactflow.errors import ContactflowError


def plot_group() -> typer.Typer:
    """The root app's ``plot`` Typer group (created and registered if absent)."""
    for g in app.registered_groups:
        if g.name == "plot":
            return g.typer_instance
    grp = typer.Typer(help="Plot stored results.", no_args_is_help=True)
    app.add_typer(grp, name="plot")
    return grp


plot_app = plot_group()


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


@plot_app.command("traction-separation")
def plot_traction(
    recipe: str = typer.Argument(..., help="Recipe name whose stored traction–separation curves to plot."),
    out: Path = typer.Option(Path("traction_separation.png"), "--out", "-o", help="Image file (.png/.pdf/.svg)."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    interface: str = typer.Option(None, "--interface", help="Only this interface_id."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """Plot the stored E(d) points, the UBER fit and the traction curve of RECIPE."""
    from contactflow.cli.common import check_output_path
    from contactflow.store import open_store

    flt = {"recipe_name": recipe, "state": "successful"}
    if engine:
        from contactflow.engines import parse_spec

        flt["engine"] = parse_spec(engine).canonical
    if interface:
        flt["interface_id"] = interface
    with open_store() as store:
        docs = store.find("traction_separation", flt, sort=[("engine", 1), ("interface_id", 1)])
        if not docs:
            n_failed = store.count("traction_separation", {**flt, "state": "failed"})
            raise ContactflowError(
                f"no successful traction–separation results for recipe {recipe!r}"
                + (f" ({n_failed} failed; see 'contactflow query traction-separation --recipe {recipe}')"
                   if n_failed else f"; run 'contactflow run {recipe} --task traction_separation' first"))
    check_output_path(out, force)  # an existing file is replaced only with --force
    plot_traction_docs(docs, out)
    err_console.print(f"wrote {out} ({len(docs)} curve(s))")
