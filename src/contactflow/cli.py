"""``contactflow`` command line (Typer + rich).

Errors a user can fix (bad engine spec, unreachable store, corrupt config, bad recipe) print one line
``error: …`` on stderr and exit with code 2; nothing stored is touched.
"""

import csv
import io
import json
import sys
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from contactflow import __version__
from contactflow.errors import ContactflowError

app = typer.Typer(help="contactflow: contact interfaces in swelling anodes, from recipe to continuum.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
store_app = typer.Typer(help="Manage the embedded MongoDB-protocol store.", no_args_is_help=True)
query_app = typer.Typer(help="Query result documents.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(query_app, name="query")

console = Console()
err_console = Console(stderr=True)

ADHESION_COLUMNS = [
    ("recipe_name", "recipe"), ("system", "system"), ("engine", "engine"), ("state", "state"),
    ("n_atoms", "atoms"), ("area_A2", "area Å²"), ("strain_pct", "strain %"),
    ("w_sep_rigid_J_per_m2", "W_sep rigid J/m²"), ("w_sep_J_per_m2", "W_sep J/m²"),
    ("interface_gap_A", "gap Å"),
]


def _version_callback(value: bool):
    if value:
        console.print(f"contactflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Print the version and exit.")):
    """contactflow command line."""


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "—" if v is None else str(v)


def _emit(docs: list[dict], fmt: str, columns: list[tuple[str, str]], title: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(docs, indent=2, default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o)) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([c for c, _ in columns])
        for d in docs:
            w.writerow([d.get(c) for c, _ in columns])
        sys.stdout.write(buf.getvalue())
    elif fmt == "table":
        table = Table(title=title)
        for _, head in columns:
            table.add_column(head)
        for d in docs:
            table.add_row(*[_fmt(d.get(c)) for c, _ in columns])
        console.print(table)
    else:
        raise ContactflowError(f"unknown format {fmt!r}; valid formats: table, json, csv")


@query_app.command("adhesion")
def query_adhesion(
    recipe: str = typer.Option(None, "--recipe", help="Only this recipe."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
):
    """Work-of-separation documents."""
    from contactflow.store import open_store

    if fmt not in ("table", "json", "csv"):
        raise ContactflowError(f"unknown format {fmt!r}; valid formats: table, json, csv")
    flt = {k: v for k, v in (("recipe_name", recipe), ("engine", engine)) if v}
    with open_store() as store:
        docs = store.find("adhesion", flt, sort=[("recipe_name", 1), ("w_sep_J_per_m2", -1)])
    _emit(docs, fmt, ADHESION_COLUMNS, "Work of separation")


@store_app.command("start")
def store_start():
    """Start (or reuse) the embedded store and print its URI."""
    from contactflow.store import embedded, load_settings

    s = load_settings()
    if not s.embedded:
        console.print(f"a MongoDB URI is configured ({s.source}); no embedded server needed")
        return
    st = embedded.start_server()
    console.print(f"embedded store running: {st.uri} (pid {st.pid}, data {st.data_dir})")


@store_app.command("stop")
def store_stop():
    """Stop the embedded store cleanly."""
    from contactflow.store import embedded

    console.print("stopped" if embedded.stop_server() else "no embedded store was running")


@store_app.command("status")
def store_status():
    """Where the store is, whether it answers, and document counts."""
    from contactflow.store import KINDS, embedded, load_settings, open_store, redact_uri

    s = load_settings()
    if s.embedded:
        st = embedded.read_state()
        if st is None:
            console.print("embedded store: not running (it starts on the next command that needs it)")
            return
        console.print(f"embedded store: running at {st.uri} (pid {st.pid}, data {st.data_dir})")
    else:
        console.print(f"store: {redact_uri(s.uri)} (from {s.source})")
    with open_store() as store:
        table = Table(title=f"database '{s.database}'")
        table.add_column("collection")
        table.add_column("documents", justify="right")
        for name in KINDS:
            table.add_row(name, str(store.count(name)))
        console.print(table)


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
    _emit(docs, "table", ADHESION_COLUMNS, f"Work of separation — {rec.name}")


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except ContactflowError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
