"""``contactflow demo``: the README's main job."""

import typer

from contactflow.cli.common import app, console, emit
from contactflow.cli.query import ADHESION_COLUMNS


@app.command()
def demo(
    engine: str = typer.Option(None, "--engine", help="Engine spec (default: the recipe's, chgnet+d3)."),
    relax: bool = typer.Option(True, "--relax/--no-relax", help="Also compute the relaxed W_sep."),
    recipe: str = typer.Option("si_graphite", "--recipe", help="Recipe name or YAML path."),
):
    """Build Si(111)/graphite, compute its work of separation, store it, print a table."""
    from contactflow.dispatch import run_flow_locally
    from contactflow.engines import parse_spec
    from contactflow.flows import recipe_flow
    from contactflow.recipes import load_recipe
    from contactflow.schemas import InterfaceDoc
    from contactflow.store import open_store

    rec = load_recipe(recipe)
    if engine:
        parse_spec(engine)
        rec = rec.model_copy(update={"engine": engine})
    with console.status("starting/connecting to the store …"):
        store = open_store()
    console.print(f"store: {store.display_uri} ({store.settings.source})")
    with store:
        with console.status(f"building {rec.name} interfaces (Zur–McGill matching) …"):
            cands = rec.build()[:1]
        c = cands[0]
        store.upsert(InterfaceDoc.from_candidate(c, rec.name, rec.recipe_hash))
        console.print(f"built {c.interface_id}: {c.n_atoms} atoms, area {c.area_A2:.1f} Å², "
                      f"strain {c.strain_pct:.2f} %, termination {c.termination}")
        flow = recipe_flow(rec, cands, ["adhesion"], {"adhesion": {"relax": relax}})
        with console.status(f"computing W_sep with {rec.engine} ({'rigid + relaxed' if relax else 'rigid'}) …"):
            run_flow_locally(flow, store)
        docs = store.find("adhesion", {"interface_id": c.interface_id})
    emit(docs, "table", ADHESION_COLUMNS, f"Work of separation — {rec.name}")
