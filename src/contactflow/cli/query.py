"""``contactflow query …``: result documents as table, JSON or CSV."""

import typer

from contactflow.cli.common import app, check_format, emit

query_app = typer.Typer(help="Query result documents.", no_args_is_help=True)
app.add_typer(query_app, name="query")

from contactflow.flows.tasks import TASKS  # noqa: E402  (task result columns come from the task registry)

ADHESION_COLUMNS = list(TASKS["adhesion"].columns)


FILTER_HELP = ("A MongoDB filter as JSON, e.g. '{\"w_sep_J_per_m2\": {\"$gt\": 0.5}}' (fields checked against the "
               "schema; operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $all $size $not $and $or $nor).")
WHERE_HELP = ("Filter like 'w_sep_J_per_m2>1.0', 'state==successful', 'engine in chgnet+d3,cp2k' "
              "(clauses joined by 'and'; repeatable). Field names are checked against the schema.")


@query_app.command("adhesion")
def query_adhesion(
    recipe: str = typer.Option(None, "--recipe", help="Only this recipe."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    system: str = typer.Option(None, "--system", help="Only this system, e.g. Si/C."),
    where: list[str] = typer.Option(None, "--where", help=WHERE_HELP),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
    limit: int = typer.Option(0, "--limit", help="At most this many documents (0: all)."),
    raw_filter: str = typer.Option(None, "--filter", help=FILTER_HELP),
):
    """Work-of-separation documents."""
    _run_query("adhesion", recipe, engine, system, where, fmt, limit, ADHESION_COLUMNS, "Work of separation",
               raw_filter=raw_filter)


TITLES = {"interfaces": "Built interfaces", "traction-separation": "Cohesive-zone laws from traction–separation curves",
          "barriers": "Li migration barriers (NEB)", "md": "Molecular-dynamics runs",
          "descriptors": "Interface descriptors"}
COLUMNS = {
    "traction-separation": list(TASKS["traction_separation"].columns),
    "prepared": [("recipe_name", "recipe"), ("system", "system"), ("interface_id", "interface"), ("engine", "engine"),
                 ("state", "state"), ("registry_shift_frac", "registry shift"), ("as_built_gap_A", "built gap Å"),
                 ("gap_A", "gap Å"), ("w_sep_rigid_J_per_m2", "W_sep rigid J/m²"), ("relaxed", "relaxed"),
                 ("relax_max_force_eV_per_A", "F max eV/Å")],
    "md": [("recipe_name", "recipe"), ("system", "system"), ("task", "task"), ("engine", "engine"),
           ("state", "state"), ("ensemble", "ensemble"), ("temperature_K", "T K"), ("strain_pct", "strain %"),
           ("n_atoms", "atoms"), ("simulated_time_ps", "ps"), ("diffusivity_m2_per_s", "D m²/s")],
    "models": [("name", "model"), ("dataset", "data set"), ("state", "state"), ("n_members", "members"),
               ("n_train", "train"), ("n_test", "test"), ("energy_mae_meV_per_atom", "E MAE meV/atom"),
               ("force_mae_eV_per_A", "F MAE eV/Å"), ("uncertainty_force_error_spearman", "ρ(spread,|ΔF|)"),
               ("time_per_epoch_s", "s/epoch"), ("model_dir", "directory")],
    "labels": [("dataset", "data set"), ("split", "split"), ("system", "system"), ("source", "source"),
               ("formula", "formula"), ("state", "state"), ("energy_eV", "E eV"), ("failure_reason", "reason")],
    "al-rounds": [("campaign", "campaign"), ("round", "round"), ("n_candidates", "configs"),
                  ("max_force_std_eV_per_A", "max spread eV/Å"), ("converged", "converged"), ("selected", "labelled"),
                  ("force_mae_eV_per_A", "test F MAE eV/Å")],
    "barriers": [("recipe_name", "recipe"), ("system", "system"), ("label", "hop"), ("region", "region"),
                 ("engine", "engine"), ("state", "state"), ("barrier_forward_eV", "E_a fwd eV"),
                 ("barrier_reverse_eV", "E_a rev eV"), ("delta_E_eV", "ΔE eV"), ("hop_distance_A", "hop Å"),
                 ("reference_barrier_eV", "ref eV"), ("deviation_from_reference_eV", "Δref eV")],
}


def _run_query(kind, recipe, engine, system, where, fmt, limit, columns, title, projection=None,
               raw_filter=None) -> None:
    """Shared body of every ``query`` command: the query layer, then table/JSON/CSV."""
    from contactflow.store import open_store
    from contactflow.store.queries import default_columns, parse_raw_filter, parse_where, query, resolve_kind

    check_format(fmt)
    dk = resolve_kind(kind)  # unknown/unregistered kind: a specific error before touching the store
    if where:  # a malformed --where or --filter is reported before the store is started
        parse_where(where, dk.model, kind)
    if raw_filter:
        parse_raw_filter(raw_filter, dk.model, kind)
    with open_store() as store:
        docs = query(store, kind, recipe=recipe, engine=engine, system=system, where=where or None,
                     limit=limit, projection=projection, raw_filter=raw_filter)
    emit(docs, fmt, columns or default_columns(kind), title)


def _register(kind: str) -> None:
    """Add ``query KIND`` (same options as ``query adhesion``) unless a command of that name exists."""
    if any(c.name == kind for c in query_app.registered_commands):
        return

    def command(
        recipe: str = typer.Option(None, "--recipe", help="Only this recipe."),
        engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
        system: str = typer.Option(None, "--system", help="Only this system, e.g. Si/C."),
        where: list[str] = typer.Option(None, "--where", help=WHERE_HELP),
        fmt: str = typer.Option("table", "--format", help="table, json or csv."),
        limit: int = typer.Option(0, "--limit", help="At most this many documents (0: all)."),
        raw_filter: str = typer.Option(None, "--filter", help=FILTER_HELP),
    ):
        proj = {"structure": 0} if kind == "interfaces" else None
        _run_query(kind, recipe, engine, system, where, fmt, limit, COLUMNS.get(kind), title, proj, raw_filter)

    title = TITLES.get(kind, kind.replace("-", " ").capitalize())
    command.__doc__ = f"{title}."
    query_app.command(kind)(command)


def _register_all() -> None:
    from contactflow.store.client import KINDS
    from contactflow.store.queries import QUERY_KINDS, cli_name

    for kind in QUERY_KINDS:
        _register(kind)
    for name in KINDS:  # kinds other packages registered (e.g. li_adsorption → li-adsorption)
        cli = cli_name(name)
        _register(cli if cli != name else name.replace("_", "-"))


_register_all()
