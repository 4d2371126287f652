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
    from contactflow.continuum.plots import plot_traction_docs

    plot_traction_docs(docs, out)
    err_console.print(f"wrote {out} ({len(docs)} curve(s))")
