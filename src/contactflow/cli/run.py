"""``contactflow run RECIPE --task TASK``: the recipe's flow run here (build → prepare → tasks), results
stored through the JobStore and printed per task. All orchestration is in :mod:`contactflow.api`.

``--set task.field=value`` changes a Maker field (value parsed as YAML, e.g. ``--set adhesion.relax=false
--set prepare.registry_grid=4``); names, types and ranges are checked before anything is built.
"""

import typer

from contactflow.cli.common import app, console, emit, err_console
from contactflow.errors import CalculationsFailed


def stage_printer(quiet: bool = False):
    """A progress callback printing one line per pipeline stage on stderr (silent with ``quiet``)."""
    def show(stage: str, detail: str) -> None:
        if not quiet:
            err_console.print(f"[dim]{stage}:[/dim] {detail}", highlight=False)
    return show


def print_results(result, fmt: str = "table") -> None:
    """The prepared interfaces and one table per task; raises CalculationsFailed when any document is
    not successful (after printing them, with their reasons)."""
    from contactflow.flows.tasks import TASKS

    rec = result.plan.recipe
    for d in result.prepared:
        shift = d.get("registry_shift_frac") or [0, 0]
        console.print(f"prepared {d['interface_id']} with {d['engine']}: registry shift ({shift[0]:.3f}, {shift[1]:.3f})"
                      f"{' (as built)' if d.get('registry_as_built_is_best', True) else ''}, gap "
                      f"{d.get('as_built_gap_A', 0):.2f} → {d.get('gap_A', 0):.2f} Å"
                      f"{', relaxed' if d.get('relaxed') else ''} [{d['state']}]", highlight=False)
    for t in result.plan.tasks:
        spec = TASKS[t.name]
        emit(result.documents[t.name], fmt, list(spec.columns),
             f"{spec.title or t.name} — {t.name} — {rec.name} ({t.engine or 'no engine'})")
    bad = result.failed
    if bad:
        for d in bad:
            err_console.print(f"{d.get('state')}: {d.get('doc_key')}: {d.get('failure_reason')}", highlight=False)
        raise CalculationsFailed(len(bad), sum(len(v) for v in result.documents.values()),
                                 detail=f"{bad[0].get('state')}: {bad[0].get('failure_reason')}",
                                 states=[d.get("state") for d in bad])


@app.command("run")
def run(
    recipe: str = typer.Argument(..., help="Recipe name (see 'contactflow recipes') or path to a YAML file."),
    task: list[str] = typer.Option(None, "--task", "-t", help="Task(s) to run (default: the recipe's)."),
    engine: str = typer.Option(None, "--engine", help="Default engine spec (default: the recipe's)."),
    candidates: int = typer.Option(1, "--candidates", "-n", min=1, help="Run the N smallest candidates."),
    sets: list[str] = typer.Option(None, "--set", help="TASK.FIELD=VALUE for a task's Maker, or prepare.FIELD=VALUE."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
):
    """Build RECIPE, prepare its interface once, run TASK(s) from it locally, store and print the results."""
    from contactflow import api
    from contactflow.cli.common import check_format

    check_format(fmt)
    plan = api.plan(recipe, task, engine, sets, limit=candidates)
    for t in plan.tasks:
        if t.engine_reason not in ("recipe engine", "analysis only (no engine)"):
            err_console.print(f"engine: {t.name} runs with {t.engine} ({t.engine_reason})", highlight=False)
    from contactflow.cli.progress import CliProgress, interactive

    with CliProgress(interactive(fmt)) as prog:
        result = api.run(plan, progress=prog.stage, on_job=prog.job)
        prog.done()
    print_results(result, fmt)
