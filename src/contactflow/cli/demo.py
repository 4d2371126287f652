"""``contactflow demo``: the README's main job (the same pipeline as ``run``)."""

import typer

from contactflow.cli.common import app, console


@app.command()
def demo(
    engine: str = typer.Option(None, "--engine", help="Engine spec (default: the recipe's, auto: chosen by the validation record)."),
    relax: bool = typer.Option(True, "--relax/--no-relax", help="Also compute the relaxed W_sep."),
    recipe: str = typer.Option("si_graphite", "--recipe", help="Recipe name or YAML path."),
):
    """Build Si(111)/graphite, prepare it (registry, gap, relaxation), compute its work of separation,
    store it, print a table."""
    from contactflow import api
    from contactflow.cli.progress import CliProgress, interactive
    from contactflow.cli.run import print_results
    from contactflow.store import open_store

    plan = api.plan(recipe, ["adhesion"], engine, [f"adhesion.relax={'true' if relax else 'false'}"], limit=1)
    with open_store() as store:
        console.print(f"store: {store.display_uri} ({store.settings.source})")
        with CliProgress(interactive()) as prog:
            result = api.run(plan, store, progress=prog.stage, on_job=prog.job)
            prog.done()
    print_results(result)
