"""``contactflow screen SPACE --budget N --batch q [--via local|fireworks] [--seed S]`` and
``contactflow screen show NAME``: screening campaigns (all logic in :mod:`contactflow.api` and
:mod:`contactflow.screening`)."""

import json
import sys

import typer
from rich.markup import escape
from rich.table import Table

from contactflow.cli.common import app, console, err_console, fmt_cell
from contactflow.errors import ContactflowError

FORMATS = ("table", "json")


@app.command("screen")
def screen(
    space: str = typer.Argument(..., help="Screening space YAML (or a shipped name, e.g. rgo_oc), or 'show'."),
    name: str = typer.Argument(None, help="With 'show': the campaign name."),
    budget: int = typer.Option(12, "--budget", min=1, help="Evaluations in total (a resumed campaign counts its own)."),
    batch: int = typer.Option(2, "--batch", min=1, help="Designs proposed (and run in parallel on the queue) per batch."),
    via: str = typer.Option("local", "--via", help="local (run here) or fireworks (workers evaluate each batch: "
                            "start them with 'contactflow worker --idle 600')."),
    seed: int = typer.Option(0, "--seed", help="Seed of the start designs and the acquisition (new campaigns)."),
    campaign: str = typer.Option(None, "--name", help="Campaign name (default: the space's name); reruns resume it."),
    plot: str = typer.Option(None, "--plot", help="Write the Pareto plot PNG here (default NAME_pareto.png; table format)."),
    poll: float = typer.Option(5.0, "--poll", help="With --via fireworks: seconds between LaunchPad polls."),
    fmt: str = typer.Option("table", "--format", help="table (Pareto set, design rules, plot) or json (the campaign)."),
):
    """Screen interface designs: propose, run, learn, repeat; resumes an interrupted campaign from the store."""
    if fmt not in FORMATS:
        raise ContactflowError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    if space == "show":
        if not name:
            raise ContactflowError("screen show needs a campaign NAME")
        return show(name, plot, fmt)
    if name:
        raise ContactflowError(f"unexpected argument {name!r}; use --name for a campaign name")
    from contactflow import api
    from contactflow.cli.progress import CliProgress, interactive

    with CliProgress(interactive(fmt)) as prog:
        doc = api.screen(space, budget=budget, batch=batch, via=via, seed=seed, name=campaign, poll_s=poll,
                         progress=prog.stage, on_eval=lambda done, total, what: prog.set(done, total, what))
    if fmt == "table":
        console.print(f"campaign {escape(doc.name)}: {len([e for e in doc.evaluations if e.state != 'proposed'])} "
                      f"evaluations, stopped: {doc.stop_reason}; 'contactflow screen show {escape(doc.name)}' prints "
                      "the Pareto set")
    show(doc.name, plot, fmt)


def show(name: str, plot: str | None = None, fmt: str = "table") -> None:
    """Print a campaign: Pareto set with designs and documents, hypervolume history, design rules; write the plot.
    With ``fmt='json'`` the stored campaign (ScreeningDoc) and its design rules as JSON, no plot."""
    from contactflow.schemas.screening import ScreeningEvaluation
    from contactflow.screening.loop import feasible
    from contactflow.screening.pareto import design_rules, pareto_plot
    from contactflow.screening.space import ScreeningSpace
    from contactflow.store import open_store

    with open_store() as store:
        doc = store.get("screening", name)
        if doc is None:
            names = [d["name"] for d in store.find("screening", {}, projection={"name": 1})]
            raise ContactflowError(f"no screening campaign {name!r}; stored: {', '.join(names) or 'none'}")
    space = ScreeningSpace.model_validate(doc["space"])
    evs = [ScreeningEvaluation.model_validate(e) for e in doc["evaluations"]]
    done = [e for e in evs if e.state != "proposed"]
    ok = [e for e in done if feasible(space, e)]
    rules = design_rules([e.design for e in ok], [e.values for e in ok], space.variables, space.objectives)
    if fmt == "json":
        doc.pop("_id", None)
        sys.stdout.write(json.dumps({**doc, "design_rules": rules}, indent=1, default=str) + "\n")
        return
    console.print(f"campaign {escape(name)}: {len(done)} evaluated ({len(ok)} feasible, "
                  f"{len(done) - len(ok)} failed/unbound/infeasible), {len(evs) - len(done)} pending; "
                  f"stop: {doc.get('stop_reason')}", highlight=False)
    t = Table(title=f"Pareto set — {name}")
    for head in ["#", *[v.name for v in space.variables], *[o.name for o in space.objectives], "documents"]:
        t.add_column(escape(head))
    for e in evs:
        if e.index in doc.get("pareto", []):
            keys = "; ".join(f"{k}:{','.join(v)}" for k, v in e.doc_keys.items() if v)
            t.add_row(str(e.index), *[escape(fmt_cell(e.design[v.name])) for v in space.variables],
                      *[fmt_cell(e.values.get(o.field)) for o in space.objectives], escape(keys))
    console.print(t)
    hv = doc.get("hypervolume_history", [])
    n = doc.get("evaluations_history", [])
    console.print("hypervolume: " + ", ".join(f"{a}:{b:.4g}" for a, b in zip(n, hv)), highlight=False)
    if rules:
        rt = Table(title="design rules (feasible evaluations)")
        for head in ("variable", "objective", "measure", "effect", "n"):
            rt.add_column(head)
        for r in rules:
            rt.add_row(escape(r["variable"]), escape(r["objective"]), r["kind"], escape(r["effect"]), str(r["n"]))
        console.print(rt)
    path = pareto_plot(doc, space, plot or f"{name}_pareto.png")
    err_console.print(f"plot: {path}", highlight=False)
