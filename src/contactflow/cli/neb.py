"""``contactflow plot neb ID --out path.png``: the energy profile of a stored Li migration barrier.

(``contactflow query barriers`` and ``query li-adsorption`` come from the generic query layer in
:mod:`contactflow.cli.query`; ``contactflow run RECIPE --task neb`` from the recipe runner.)
"""

from pathlib import Path

import typer

from contactflow.cli.common import console
from contactflow.cli.plot import plot_app  # the shared ``plot`` group
from contactflow.errors import ContactflowError


def find_barrier(store, ident: str) -> dict:
    """A barrier document by its doc_key or a unique prefix of it."""
    doc = store.get("barriers", ident)
    if doc:
        return doc
    keys = [d["doc_key"] for d in store.find("barriers", {}, projection={"doc_key": 1})]
    docs = [k for k in keys if ident and k.startswith(ident)]
    if len(docs) == 1:
        return store.get("barriers", docs[0])
    if not docs:
        raise ContactflowError(f"no barrier document with id {ident!r}; list them with 'contactflow query barriers "
                               "--format json' (field doc_key)")
    raise ContactflowError(f"id prefix {ident!r} matches several barrier documents; give more characters")


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


@plot_app.command("neb")
def plot_neb(
    ident: str = typer.Argument(..., metavar="ID", help="doc_key of a barrier document (or a unique prefix)."),
    out: Path = typer.Option(Path("neb.png"), "--out", help="Image file (.png, .pdf or .svg)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """Energy profile of a stored NEB (Li migration barrier)."""
    from contactflow.cli.common import check_output_path
    from contactflow.store import open_store

    with open_store() as store:
        doc = find_barrier(store, ident)
    check_output_path(out, force)  # an existing file is replaced only with --force
    path = plot_profile(doc, out)
    console.print(f"wrote {path}: {doc['label']} ({doc['engine']}), E_a {doc['barrier_forward_eV']:.3f} eV")
