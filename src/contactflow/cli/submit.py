"""``contactflow submit | worker | queue init | queue launch | status | rerun | cancel``: workflows on a
job queue (FireWorks LaunchPad in the contactflow store; workers local or through SLURM)."""

import typer
from rich.markup import escape
from rich.table import Table

from contactflow.cli.common import app, console
from contactflow.errors import ContactflowError

queue_app = typer.Typer(help="Queue templates and batch workers (FireWorks qlaunch: SLURM, PBS, SGE, LSF).",
                        no_args_is_help=True)
app.add_typer(queue_app, name="queue")

VIA = ("local", "fireworks")


@app.command()
def submit(
    recipe: str = typer.Argument(..., help="Recipe name or path to a recipe YAML file."),
    task: list[str] = typer.Option(None, "--task", help="Task(s) to run (default: the recipe's). Repeatable."),
    via: str = typer.Option("local", "--via", help="local (run here now) or fireworks (LaunchPad for workers)."),
    project: str = typer.Option(None, "--project", help="Project name for 'contactflow status --project'."),
    dedupe: bool = typer.Option(False, "--dedupe", help="Do not submit if the same workflow is already on the LaunchPad."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N candidates (smallest area first)."),
    engine: str = typer.Option(None, "--engine", help="Default engine spec (default: the recipe's)."),
    sets: list[str] = typer.Option(None, "--set", help="Maker field, TASK.FIELD=VALUE (e.g. adhesion.relax=false)."),
):
    """Build a recipe's interfaces and run its flow here, or submit the same flow as one FireWorks workflow."""
    from contactflow import api
    from contactflow.cli.progress import CliProgress, interactive
    from contactflow.cli.run import print_results

    if via not in VIA:
        raise ContactflowError(f"unknown --via {via!r}; valid: {', '.join(VIA)}")
    plan = api.plan(recipe, task, engine, sets, limit=limit)
    if via == "local":
        with CliProgress(interactive()) as prog:
            result = api.run(plan, progress=prog.stage, on_job=prog.job)
            prog.done()
        print_results(result)
        return
    from contactflow.store import open_store

    with open_store() as store:  # fails fast (before the build) when the store/LaunchPad is unreachable
        with CliProgress(interactive()) as prog:
            res = api.submit(plan, store, project=project, dedupe=dedupe, progress=prog.stage)
        where = f"{escape(store.display_uri)} (database {store.settings.database})"
    if res.duplicate:
        console.print(f"already submitted: workflow {res.workflow_id} ({res.state}, jobs {res.fw_ids}); "
                      "nothing added (--dedupe)")
        return
    cats = ", ".join(f"{k} {v}" for k, v in sorted(res.categories.items()))
    console.print(f"submitted workflow {res.workflow_id}: {len(res.fw_ids)} job(s) ({escape(cats)}) to the LaunchPad in "
                  f"{where}")


@app.command()
def worker(
    category: list[str] = typer.Option(None, "--category", help="gpu, cpu, small or any (repeatable; default any)."),
    once: bool = typer.Option(False, "--once", help="Run one job and exit."),
    fworker_file: str = typer.Option(None, "--fworker", help="my_fworker.yaml (name, category, query, env)."),
    name: str = typer.Option(None, "--name", help="Worker name (default contactflow@host:pid)."),
    launch_dir: str = typer.Option(".", "--launch-dir", help="Directory for the launcher_* run directories."),
    max_jobs: int = typer.Option(0, "--max-jobs", min=0, help="Stop after N jobs (0: until none is ready)."),
    sleep_s: int = typer.Option(10, "--sleep", min=1, help="Seconds between polls while jobs wait on parents."),
    idle_s: float = typer.Option(0, "--idle", min=0, help="With nothing to run, wait this long (s) for new jobs "
                                 "before exiting (e.g. between the batches of 'contactflow screen --via fireworks')."),
):
    """Run FireWorks rockets here: pull ready jobs of the category from the LaunchPad and run them."""
    from contactflow.dispatch.fireworks import get_launchpad, make_fworker, run_worker

    fw = make_fworker(category, name, fworker_file)
    lp = get_launchpad()
    n = run_worker(lp, fw, once=once, launch_dir=launch_dir, max_jobs=max_jobs, sleep_s=sleep_s, idle_s=idle_s)
    console.print(f"worker {escape(fw.name)} (category {_cats(fw)}): ran {n} job(s)")


def _cats(fw) -> str:
    c = fw.category
    return ",".join(c) if isinstance(c, list) else (c or "any")


@app.command()
def status(
    project: str = typer.Option(None, "--project", help="Only workflows of this project."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    expire_s: int = typer.Option(4 * 3600, "--expire", min=1,
                                 help="Report RUNNING jobs silent this long (s) as possibly lost."),
):
    """Workflows on the LaunchPad: state, job-state counts, and the last error of each failed job."""
    import json
    import sys

    from contactflow.dispatch.fireworks import get_launchpad, workflow_status

    if fmt not in ("table", "json"):
        raise ContactflowError(f"unknown format {fmt!r}; valid formats: table, json")
    lp = get_launchpad()
    rows = workflow_status(lp, project)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    if not rows:
        console.print("no workflows" + (f" in project {escape(project)}" if project else ""))
        return
    table = Table(title="Workflows" + (f" — {project}" if project else ""))
    for head in ("id", "name", "project", "state", "jobs", "job states"):
        table.add_column(head)
    totals: dict[str, int] = {}
    for r in rows:
        for k, v in r["counts"].items():
            totals[k] = totals.get(k, 0) + v
        table.add_row(str(r["id"]), escape(str(r["name"])), escape(str(r["project"] or "—")), r["state"],
                      str(r["n_jobs"]), " ".join(f"{k} {v}" for k, v in sorted(r["counts"].items())))
    console.print(table)
    console.print("jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    _, lost, _ = lp.detect_lostruns(expiration_secs=expire_s)  # read-only without fizzle/rerun
    if lost:
        console.print(f"[yellow]possibly lost:[/yellow] running job(s) {sorted(lost)} silent for more than "
                      f"{expire_s} s; 'contactflow rerun --lost --expire {expire_s}' reruns them")
    failed = [(r["id"], f) for r in rows for f in r["failed"]]
    if failed:
        ft = Table(title="Failed jobs (contactflow rerun ID)")
        for head in ("workflow", "job id", "job", "category", "last error"):
            ft.add_column(head)
        for wid, f in failed:
            ft.add_row(str(wid), str(f["fw_id"]), escape(str(f["name"])), str(f["category"] or "—"),
                       escape(str(f["error"] or "—")))
        console.print(ft)


@app.command()
def rerun(
    job_id: int = typer.Argument(None, help="Job (Firework) id from 'contactflow status'."),
    workflow: bool = typer.Option(False, "--workflow", help="Rerun every failed job of the workflow of ID."),
    lost: bool = typer.Option(False, "--lost", help="Find lost runs (FireWorks detect_lostruns) and rerun them."),
    expire_s: int = typer.Option(4 * 3600, "--expire", min=0,
                                 help="With --lost: seconds without a ping after which a RUNNING job is lost."),
):
    """Rerun a failed job (and its children), a workflow's failed jobs, or lost runs."""
    from contactflow.dispatch.fireworks import get_launchpad, rerun as do_rerun, rerun_lost

    if (job_id is None) == (not lost):
        raise ContactflowError("give a job ID or --lost (not both)")
    lp = get_launchpad()
    if lost:
        launches, ids = rerun_lost(lp, expire_s)
        console.print(f"lost runs: {len(ids)} job(s) {ids} set to rerun" if ids else "no lost runs")
        return
    ids = do_rerun(lp, job_id, workflow=workflow)
    console.print(f"rerun: job(s) {ids} are ready again")


@app.command()
def cancel(
    job_id: int = typer.Argument(..., help="A job (Firework) id of the workflow, from 'contactflow status'."),
    job_only: bool = typer.Option(False, "--job", help="Only this job and its children, not the whole workflow."),
):
    """Cancel (defuse) a workflow; finished results stay, running jobs finish unless stopped in the queue."""
    from contactflow.dispatch.fireworks import cancel as do_cancel, get_launchpad

    ids = do_cancel(get_launchpad(), job_id, job_only=job_only)
    console.print(f"cancelled: {len(ids)} job(s) defused {ids}")


@queue_app.command("init")
def queue_init(
    directory: str = typer.Option(".", "--dir", help="Where to write the three files."),
    category: str = typer.Option("gpu", "--category", help="Default worker category of the templates."),
    scheduler: str = typer.Option("slurm", "--scheduler", help="slurm, pbs, sge or lsf."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
):
    """Write my_qadapter.yaml, my_fworker.yaml, my_launchpad.yaml (mode 0600, no password inside)."""
    from contactflow.dispatch.queue import write_queue_files
    from contactflow.store import open_store

    with open_store() as store:
        paths = write_queue_files(directory, store, category=category, scheduler=scheduler, force=force)
    for p in paths:
        console.print(f"wrote {p}")


@queue_app.command("launch")
def queue_launch(
    scheduler: str = typer.Option(None, "--scheduler", help="slurm, pbs, sge or lsf (default: the template's)."),
    nodes: int = typer.Option(None, "--nodes", min=1, help="Nodes per batch job."),
    gres: str = typer.Option(None, "--gres", help="Generic resources per batch job, e.g. gpu:1 ('none': no --gres line)."),
    walltime: str = typer.Option(None, "--walltime", help="Wall time per batch job, e.g. 04:00:00."),
    ntasks: int = typer.Option(None, "--ntasks", min=1, help="Tasks (MPI ranks) per batch job."),
    cpus_per_task: int = typer.Option(None, "--cpus-per-task", min=1, help="Cores per task."),
    partition: str = typer.Option(None, "--partition", help="Partition (queue)."),
    category: list[str] = typer.Option(None, "--category", help="Worker category (default: my_fworker.yaml's, else gpu)."),
    njobs: int = typer.Option(1, "--njobs", min=1, help="Batch jobs to submit (stops early when nothing is ready)."),
    qadapter: str = typer.Option(None, "--qadapter", help="Queue template (default ./my_qadapter.yaml if present)."),
    fworker_file: str = typer.Option(None, "--fworker", help="my_fworker.yaml (default ./my_fworker.yaml if present)."),
    launch_dir: str = typer.Option(".", "--launch-dir", help="Where FireWorks writes block_*/launcher_* dirs."),
):
    """Submit workers as batch jobs with FireWorks' qlaunch; each runs 'contactflow worker'."""
    from pathlib import Path

    from contactflow.dispatch.fireworks import get_launchpad, make_fworker
    from contactflow.dispatch.queue import (
        FWORKER_FILE, QADAPTER_FILE, build_qadapter, launch_queue_jobs, load_fworker, store_environment,
    )
    from contactflow.store import open_store

    if qadapter is None and Path(QADAPTER_FILE).is_file():
        qadapter = QADAPTER_FILE
    if fworker_file is None and Path(FWORKER_FILE).is_file():
        fworker_file = FWORKER_FILE
    if not category:
        base = load_fworker(fworker_file) if fworker_file else None
        cat = base.category if base else "gpu"
        category = (cat if isinstance(cat, list) else [cat]) if cat else ["any"]
    fw = make_fworker(category, None, fworker_file)
    overrides = {"nodes": nodes, "gres": gres, "walltime": walltime, "ntasks": ntasks,
                 "cpus_per_task": cpus_per_task, "queue": partition}
    qa = build_qadapter(qadapter, scheduler, category, overrides)
    with open_store() as store:
        lp = get_launchpad(store)
        ids = launch_queue_jobs(lp, qa, fw, launch_dir, njobs, store_environment(store))
    if not ids:
        console.print(f"no job ready for category {_cats(fw)}; nothing submitted")
        return
    console.print(f"submitted {len(ids)} {qa.q_type} job(s): {', '.join(ids)} (category {_cats(fw)}; "
                  f"scripts under {Path(launch_dir).resolve()})")
