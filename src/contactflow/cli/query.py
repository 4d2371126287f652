"""``contactflow query …``: result documents as table, JSON or CSV."""

import typer

from contactflow.cli.common import app, check_format, emit

query_app = typer.Typer(help="Query result documents.", no_args_is_help=True)
app.add_typer(query_app, name="query")

ADHESION_COLUMNS = [
    ("recipe_name", "recipe"), ("system", "system"), ("engine", "engine"), ("state", "state"),
    ("n_atoms", "atoms"), ("area_A2", "area Å²"), ("strain_pct", "strain %"),
    ("w_sep_rigid_J_per_m2", "W_sep rigid J/m²"), ("w_sep_J_per_m2", "W_sep J/m²"),
    ("interface_gap_A", "gap Å"),
]


@query_app.command("adhesion")

def query_adhesion(
    recipe: str = typer.Option(None, "--recipe", help="Only this recipe."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
):
    """Work-of-separation documents."""
    from contactflow.store import open_store

    check_format(fmt)
    flt = {k: v for k, v in (("recipe_name", recipe), ("engine", engine)) if v}
    with open_store() as store:
        docs = store.find("adhesion", flt, sort=[("recipe_name", 1), ("w_sep_J_per_m2", -1)])
    emit(docs, fmt, ADHESION_COLUMNS, "Work of separation")


