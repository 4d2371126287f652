"""``contactflow run RECIPE --task TASK``: build a recipe, run its task(s) locally, store, print a table.

The recipe's smallest interface candidate(s) go through :func:`contactflow.flows.recipe_flow` and
jobflow's ``run_locally``; each task's Maker stores its typed document (AdhesionDoc,
TractionSeparationDoc, …) and the InterfaceDoc it links to. ``--set task.field=value`` changes a Maker
field (value parsed as YAML, e.g. ``--set adhesion.relax=false --set adhesion.registry_grid=3``).
"""

import typer
import yaml

from contactflow.cli.common import app, console, emit
from contactflow.errors import ContactflowError

#: document kind each task writes (the table printed after the run)
TASK_KINDS = {"adhesion": "adhesion", "traction_separation": "traction_separation", "neb": "barriers",
              "li_adsorption": "li_adsorption", "pull_off": "pull_off", "lithiation": "lithiation",
              "diffusion": "diffusion", "descriptors": "descriptors"}
TRACTION_COLUMNS = [
    ("recipe_name", "recipe"), ("system", "system"), ("engine", "engine"), ("state", "state"),
    ("n_atoms", "atoms"), ("w_sep_J_per_m2", "W_sep J/m²"), ("sigma_max_GPa", "σ_max GPa"),
    ("delta_c_A", "δ_c Å"), ("equilibrium_gap_A", "d0 Å"), ("fit_r2", "R²"), ("evaluation_mode", "evaluation"),
]


def parse_sets(sets: list[str] | None, tasks: list[str]) -> dict[str, dict]:
    """``task.field=value`` strings → ``{task: {field: value}}`` (values parsed with yaml.safe_load)."""
    out: dict[str, dict] = {}
    for item in sets or []:
        key, sep, raw = item.partition("=")
        task, dot, fieldname = key.strip().partition(".")
        if not sep or not dot or not fieldname:
            raise ContactflowError(f"--set {item!r}: expected TASK.FIELD=VALUE, e.g. adhesion.relax=false")
        if task not in tasks:
            raise ContactflowError(f"--set {item!r}: task {task!r} is not being run; tasks: {', '.join(tasks)}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ContactflowError(f"--set {item!r}: value is not valid YAML ({exc})") from None
        out.setdefault(task, {})[fieldname] = value
    return out


def check_maker_fields(task: str, fields: dict) -> None:
    """Raise a ContactflowError naming the valid fields when ``fields`` has an unknown one."""
    import dataclasses

    from contactflow.flows.recipe import TASK_MAKERS

    valid = {f.name for f in dataclasses.fields(TASK_MAKERS[task])} - {"name", "engine"}
    bad = sorted(set(fields) - valid)
    if bad:
        raise ContactflowError(f"unknown field(s) {bad} for task {task!r}; valid: {', '.join(sorted(valid))}")


@app.command("run")
def run(
    recipe: str = typer.Argument(..., help="Recipe name (see 'contactflow recipes') or path to a YAML file."),
    task: list[str] = typer.Option(None, "--task", "-t", help="Task(s) to run (default: the recipe's tasks)."),
    engine: str = typer.Option(None, "--engine", help="Engine spec (default: the recipe's)."),
    candidates: int = typer.Option(1, "--candidates", "-n", min=1, help="Run the N smallest candidates."),
    sets: list[str] = typer.Option(None, "--set", help="TASK.FIELD=VALUE for the task's Maker (repeatable)."),
):
    """Build RECIPE, run TASK locally on its smallest candidate(s), store the results, print them."""
    from contactflow.dispatch import run_flow_locally
    from contactflow.engines import check_elements, parse_spec
    from contactflow.flows import recipe_flow
    from contactflow.flows.recipe import TASK_MAKERS
    from contactflow.recipes import load_recipe
    from contactflow.schemas import InterfaceDoc
    from contactflow.store import open_store

    rec = load_recipe(recipe)
    if engine:
        parse_spec(engine)
        rec = rec.model_copy(update={"engine": engine})
    tasks = [t.replace("-", "_") for t in (task or rec.tasks)]
    bad = [t for t in tasks if t not in TASK_MAKERS]
    if bad:
        raise ContactflowError(f"unknown task(s) {', '.join(bad)}; valid tasks: {', '.join(TASK_MAKERS)}")
    kwargs = parse_sets(sets, tasks)
    for t, fields in kwargs.items():
        check_maker_fields(t, fields)
    with console.status(f"building {rec.name} interfaces …"):
        cands = rec.build()[:candidates]
    for c in cands:  # an engine without an element of the structure stops here, before any compute
        check_elements(rec.engine, [s.specie.symbol for s in c.interface])
    with console.status("starting/connecting to the store …"):
        store = open_store()
    with store:
        for c in cands:
            store.upsert(InterfaceDoc.from_candidate(c, rec.name, rec.recipe_hash))
            console.print(f"built {c.interface_id}: {c.n_atoms} atoms, area {c.area_A2:.1f} Å², "
                          f"strain {c.strain_pct:.2f} %")
        flow = recipe_flow(rec, cands, tasks, kwargs)
        with console.status(f"running {', '.join(tasks)} with {rec.engine} on {len(cands)} interface(s) …"):
            run_flow_locally(flow, store)
        ids = [c.interface_id for c in cands]
        for t in tasks:
            kind = TASK_KINDS.get(t)
            if kind is None:
                continue
            docs = store.find(kind, {"interface_id": {"$in": ids}, "engine": parse_spec(rec.engine).canonical})
            cols = TRACTION_COLUMNS if kind == "traction_separation" else None
            if cols is None:
                from contactflow.cli.query import ADHESION_COLUMNS
                from contactflow.store.queries import default_columns

                cols = ADHESION_COLUMNS if kind == "adhesion" else default_columns(kind)
            emit(docs, "table", cols, f"{t} — {rec.name}")
