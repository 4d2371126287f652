"""MD results on the command line.

- ``contactflow query md|pull-off|lithiation|diffusion|descriptors``: the generic query commands of
  :mod:`contactflow.cli.query` (registered there for every stored kind); this module gives them columns.
- ``contactflow plot pull-off ID --out curve.png``: traction vs opening of a stored pull-off, with the
  peak traction and the fracture energy (on the shared ``plot`` group).
- ``contactflow run RECIPE --task pull_off|lithiation|diffusion|descriptors`` comes from the recipe
  runner (:mod:`contactflow.cli.run`).
"""

from pathlib import Path

import typer

from contactflow.cli.common import console
from contactflow.cli.plot import plot_app  # the shared ``plot`` group
from contactflow.cli.query import COLUMNS
from contactflow.errors import ContactflowError

_ID = [("recipe_name", "recipe"), ("system", "system"), ("engine", "engine"), ("state", "state")]
COLUMNS.setdefault("md", _ID + [
    ("task", "task"), ("n_atoms", "atoms"), ("temperature_K", "T K"), ("strain_pct", "strain %"),
    ("timestep_fs", "dt fs"), ("simulated_time_ps", "t ps"), ("mean_temperature_K", "⟨T⟩ K"),
    ("energy_drift_eV_per_atom_per_ps", "drift eV/atom/ps"), ("ns_per_day", "ns/day"), ("attempts", "tries"),
    ("doc_key", "id")])
COLUMNS.setdefault("pull-off", _ID + [
    ("mode", "mode"), ("temperature_K", "T K"), ("pull_velocity_A_per_ps", "v Å/ps"), ("area_A2", "area Å²"),
    ("peak_traction_GPa", "σ_peak GPa"), ("opening_at_peak_A", "δ_peak Å"),
    ("fracture_energy_J_per_m2", "G J/m²"), ("w_sep_static_J_per_m2", "W_sep static J/m²"),
    ("separated", "separated"), ("doc_key", "id")])
COLUMNS.setdefault("lithiation", _ID + [
    ("n_atoms_initial", "atoms"), ("max_volume_strain_pct", "max ΔV/V %"),
    ("integrity_lost_at_n_li", "debond at n_Li"), ("doc_key", "id")])
COLUMNS.setdefault("diffusion", _ID + [
    ("species", "species"), ("activation_energy_eV", "E_a eV"), ("activation_energy_stderr_eV", "± eV"),
    ("doc_key", "id")])
COLUMNS.setdefault("descriptors", _ID[:3] + [
    ("source", "source"), ("n_atoms", "atoms"), ("contact_area_fraction", "contact frac"),
    ("n_cross_bonds", "cross bonds"), ("cross_bonds_per_nm2", "bonds/nm²"),
    ("interphase_thickness_A", "interphase Å"), ("interface_gap_A", "gap Å"),
    ("void_volume_per_area_A", "voids Å³/Å²")])


def find_doc(store, kind: str, ident: str) -> dict:
    """A document of ``kind`` by its doc_key or a unique prefix of it."""
    doc = store.get(kind, ident)
    if doc:
        return doc
    keys = [d["doc_key"] for d in store.find(kind, {}, projection={"doc_key": 1})]
    hits = [k for k in keys if ident and k.startswith(ident)]
    if len(hits) == 1:
        return store.get(kind, hits[0])
    cli = kind.replace("_", "-")
    if not hits:
        raise ContactflowError(f"no {cli} document with id {ident!r}; list them with 'contactflow query {cli}'")
    raise ContactflowError(f"id prefix {ident!r} matches {len(hits)} {cli} documents; give more characters")


def plot_pull_off_doc(doc: dict, out: Path) -> Path:
    """Traction vs opening of one pull-off document, peak marked, the area under the curve = G, to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if doc.get("state") != "successful" or not doc.get("opening_A"):
        raise ContactflowError(f"pull-off {doc.get('doc_key')} has no curve (state {doc.get('state')}: "
                               f"{doc.get('failure_reason') or 'no data'}); nothing to plot")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ContactflowError(f"output {out} must end in .png, .pdf or .svg")
    d, s = doc["opening_A"], doc["traction_GPa"]
    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=150)
    ax.fill_between(d, s, 0, color="tab:blue", alpha=0.15, lw=0)
    ax.plot(d, s, "-", color="tab:blue", lw=1.5)
    ax.plot([doc["opening_at_peak_A"]], [doc["peak_traction_GPa"]], "*", ms=12, color="tab:red", label="peak")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("opening δ (Å)")
    ax.set_ylabel("traction σ (GPa)")
    text = (f"σ_peak {doc['peak_traction_GPa']:.2f} GPa\nG = ∫σ dδ {doc['fracture_energy_J_per_m2']:.3f} J/m²")
    if doc.get("w_sep_static_J_per_m2") is not None:
        text += f"\nW_sep static {doc['w_sep_static_J_per_m2']:.3f} J/m²"
    ax.text(0.97, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    rate = doc.get("pull_velocity_A_per_ps")
    ax.set_title(f"{doc.get('system') or ''} pull-off, {doc.get('engine')}, {doc['temperature_K']:.0f} K"
                 + (f", {rate:.3g} Å/ps" if rate else ""), fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


@plot_app.command("pull-off")
def plot_pull_off(
    ident: str = typer.Argument(..., help="doc_key of the pull-off document (or a unique prefix)."),
    out: Path = typer.Option(Path("pull_off.png"), "--out", "-o", help="Image file (.png, .pdf, .svg)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """Traction vs opening of a stored MD pull-off, with peak traction and fracture energy."""
    from contactflow.cli.common import check_output_path
    from contactflow.store import open_store

    with open_store() as store:
        doc = find_doc(store, "pull_off", ident)
    check_output_path(out, force)  # an existing file is replaced only with --force
    path = plot_pull_off_doc(doc, out)
    console.print(f"wrote {path} (σ_peak {doc['peak_traction_GPa']:.3f} GPa, "
                  f"G {doc['fracture_energy_J_per_m2']:.3f} J/m²)")


