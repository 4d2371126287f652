"""``contactflow validate`` (reference cases × engines, signed errors) and ``contactflow engines`` (every
engine: elements, speed per atom, validation summary, where its weights come from)."""

import json
import sys

import typer
from rich.table import Table

from contactflow.cli.common import app, console, err_console
from contactflow.errors import ContactflowError


@app.command("validate")
def validate(
    engine: list[str] = typer.Option(None, "--engine", "-e", help="Engine spec (repeat); default: chgnet+d3 and "
                                     "the shipped trained committee."),
    case: list[str] = typer.Option(None, "--case", "-c", help="Case id (repeat); default: the fast subset."),
    include_all: bool = typer.Option(False, "--all", help="Every case (the slow ones too)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    write_record: bool = typer.Option(False, "--write-record", help="Write the shipped record.json from this run."),
    device: str = typer.Option("cpu", "--device", help="cpu or auto."),
):
    """Run reference cases (published or contactflow-CP2K numbers with citations), store one ValidationDoc per
    (case, engine) and print engine × case signed errors (✓ within the case's tolerance, ✗ outside)."""
    from contactflow.engines import parse_spec
    from contactflow.validation import calibration, select, table
    from contactflow.validation.run import DEFAULT_ENGINES, run_validation

    if fmt not in ("table", "json"):
        raise ContactflowError(f"unknown format {fmt!r}; valid: table, json")
    engines = [parse_spec(e).canonical for e in (engine or DEFAULT_ENGINES)]
    select(case, include_all)  # unknown case → one-line error before anything runs
    from contactflow.cli.progress import CliProgress, interactive

    with CliProgress(interactive(fmt)) as prog:
        docs = run_validation(engines, case, include_all, device=device, progress=prog.stage, on_job=prog.job)
        prog.done()
    if write_record:
        from contactflow.engines.auto import RECORD_FILE
        from contactflow.validation.run import write_record as write

        write(docs, RECORD_FILE)
        err_console.print(f"wrote {RECORD_FILE}")
    if fmt == "json":
        sys.stdout.write(json.dumps(docs, indent=1, default=str) + "\n")
        return
    head, rows = table(docs)
    t = Table(title="validation: signed error (engine − reference), ± committee σ; ✓ within tolerance")
    for h in head:
        t.add_column(h)
    for r in rows:
        t.add_row(*r)
    console.print(t)
    cal = calibration(docs)
    if cal["n_cases"]:
        console.print(f"committee calibration on CP2K-referenced cases: |error| ≤ 2σ in {cal['n_within_2sigma']} "
                      f"of {cal['n_cases']}")
    for d in docs:
        if d["status"] in ("skipped", "failed"):
            console.print(f"{d['case_id']} / {d['engine']}: {d['status']}: {d.get('reason')}")


@app.command("engines")
def engines(
    measure: bool = typer.Option(False, "--measure", help="Measure speed per atom now (64-atom Si, CPU) and cache it."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
):
    """Every engine: kind, elements, speed per atom, validation record (pass / cases, mean |relative error|),
    where its weights come from."""
    from contactflow.validation.info import engine_rows

    rows = engine_rows(measure=measure)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
        return
    t = Table(title="engines (validation: contactflow validate; speed: single point per atom, CPU)")
    for h in ("engine", "kind", "elements", "ms/atom", "validated", "mean |rel. err|", "weights"):
        t.add_column(h)
    for r in rows:
        t.add_row(r["spec"], r["kind"], r["elements"], r["ms_per_atom"], r["validated"], r["mean_abs_rel_error"],
                  r["weights"])
    console.print(t)
