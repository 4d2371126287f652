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
    from contactflow.continuum.plots import plot_profile

    path = plot_profile(doc, out)
    console.print(f"wrote {path}: {doc['label']} ({doc['engine']}), E_a {doc['barrier_forward_eV']:.3f} eV")
